package dev.gatehouse.upstream;

import dev.gatehouse.exchange.Exchange;
import io.vertx.core.Future;

/**
 * The upstreams a request may go to, with the policy that picks one for it: the seam where a set of
 * model servers replaces the single one. Today the only implementation is one {@link Upstream},
 * which is a set of one and always picks itself.
 *
 * <p>How a set plugs in: a class here (say {@code UpstreamSet}) holds several {@code Upstream}s,
 * each with its own pools, health and digests, and a selection policy (round robin, least busy, by
 * model). Its {@link #pick} skips members whose health is down; its {@link #ready} is ready when a
 * member is. The composition root builds it in place of the one {@code Upstream}, and the relay,
 * which calls {@link #pick} once per request, does not change. One thing a set must add: the pin
 * check reads digests from one upstream, so with several it must check the member the request will
 * go to (pick earlier and keep the pick on the exchange) or every member.
 */
public interface Upstreams {

  /**
   * The upstream for this request. Called once per request, on its event loop: must not block, must
   * be thread-safe, and never answers null.
   */
  Upstream pick(Exchange x);

  /** Whether a request could be relayed now, for {@code /readyz}. */
  Future<Boolean> ready();
}

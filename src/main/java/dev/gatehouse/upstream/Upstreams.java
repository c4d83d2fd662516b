package dev.gatehouse.upstream;

import dev.gatehouse.exchange.Exchange;
import io.vertx.core.Future;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The upstreams a request may go to, with the policy that picks one for it ({@link UpstreamPool}).
 * The relay calls {@link #pick} once per request, and again, with the one that failed in {@code
 * tried}, for the one retry a request whose response has not started gets; the pin check asks
 * {@link #candidates} which upstreams' digests to read, and records the pinned digest on the
 * exchange, which {@link #pick} then holds every upstream to.
 */
public interface Upstreams {

  /**
   * The upstream for this request, not one of {@code tried}; null when none may take it (no
   * upstream has its model, or none is left to retry on). Called on the request's event loop: must
   * not block, must be thread-safe.
   */
  @Nullable Upstream pick(Exchange x, Set<Upstream> tried);

  /**
   * The upstreams that could serve this request's model, whatever their health: those whose {@code
   * models} globs allow it, that speak its API and that list it (or whose list is not known).
   */
  List<Upstream> candidates(Exchange x);

  /** Every upstream, in the order configured. */
  List<Upstream> members();

  /** Whether model listings are merged across upstreams (there are several). */
  default boolean merges() {
    return members().size() > 1;
  }

  /** Whether a request could be relayed now, for {@code /readyz}: at least one upstream is up. */
  Future<Boolean> ready();
}

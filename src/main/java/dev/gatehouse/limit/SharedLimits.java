package dev.gatehouse.limit;

import dev.gatehouse.abuse.BanList;
import dev.gatehouse.abuse.SharedCounts;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.Readiness;
import dev.gatehouse.store.LocalUsageLedger;
import dev.gatehouse.store.UsageLedger;
import dev.gatehouse.store.UsageStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The limit stage's back end, built from {@code limits.kind}: request rates, token budgets,
 * concurrency caps and the auth-failure and probe counts, kept in this process ({@code local}) or
 * in Redis for every gateway at once ({@code redis}, docs/limits-redis.md). With Redis it also
 * carries the bans' pub/sub (a ban stored by one gateway makes every other reload its list at
 * once), the {@code limits} part of {@code /readyz}, and what {@code gatehouse_limits_up} reads.
 * The composition root builds one at start.
 */
public final class SharedLimits {

  private static final Logger LOG = Logger.getLogger("gatehouse.limits");

  /** Every script the Redis limits run, loaded at start. */
  static final List<RedisLink.Script> SCRIPTS =
      List.of(
          RedisRateLimiter.TAKE,
          RedisUsageLedger.ADD,
          RedisConcurrencyGate.ACQUIRE,
          RedisConcurrencyGate.RELEASE,
          RedisConcurrencyGate.RENEW,
          RedisAbuseCounts.AUTH,
          RedisAbuseCounts.PROBE);

  /** The channel a stored ban is announced on. */
  static final String BANS = "bans";

  private final RateLimiter rates;
  private final ConcurrencyGate gate;
  private final UsageLedger ledger;
  private final @Nullable SharedCounts counts;
  private final @Nullable RedisLink redis;

  private SharedLimits(
      RateLimiter rates,
      ConcurrencyGate gate,
      UsageLedger ledger,
      @Nullable SharedCounts counts,
      @Nullable RedisLink redis) {
    this.rates = rates;
    this.gate = gate;
    this.ledger = ledger;
    this.counts = counts;
    this.redis = redis;
  }

  /**
   * Builds the limits {@code config} asks for. {@code localRates} is the rate limiter for {@code
   * limits.kind: local} (tests pass one of their own). With Redis, {@code watcher} hears each
   * change of Redis's reachability (the {@code dependency} alert); a Redis that cannot be reached
   * at start does not stop the start: the gateway refuses limited requests, and is not ready, until
   * it can.
   */
  public static SharedLimits open(
      GatehouseConfig config,
      Vertx vertx,
      Clock clock,
      RateLimiter localRates,
      UsageStore usageStore,
      BanList bans,
      RedisLink.Watcher watcher)
      throws IOException {
    GatehouseConfig.Concurrency cc = config.concurrency();
    if (!config.sharedLimits().redis()) {
      LocalUsageLedger ledger = new LocalUsageLedger(clock);
      ledger.seed(usageStore.tokensOn(ledger.today()));
      return new SharedLimits(
          localRates,
          new LocalConcurrencyGate(vertx, cc.global(), cc.queue(), cc.queueTimeout().toMillis()),
          ledger,
          null,
          null);
    }
    RedisLink link = RedisLink.open(vertx, config.sharedLimits());
    link.watch(watcher);
    RedisUsageLedger ledger = new RedisUsageLedger(vertx, link, clock);
    RedisConcurrencyGate gate =
        new RedisConcurrencyGate(
            vertx, link, cc.global(), cc.queue(), cc.queueTimeout().toMillis());
    // bans: the database is the record; the message only says "reload now"
    bans.announceWith(() -> link.publish(BANS, ""));
    Runnable reloadBans = () -> vertx.executeBlocking(() -> refresh(bans));
    link.subscribe(BANS, m -> reloadBans.run());
    link.onSubscribed(reloadBans); // a ban announced while this gateway was away
    String today = java.time.LocalDate.now(clock.withZone(java.time.ZoneOffset.UTC)).toString();
    long wait = config.sharedLimits().timeout().toMillis() * 4;
    try {
      link.start(SCRIPTS).await(wait, TimeUnit.MILLISECONDS);
      ledger.seed(usageStore.tokensOn(today)).await(wait, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warning(
          "limits: Redis not ready at start (requests with limits are refused until it is): "
              + e.getMessage());
    }
    return new SharedLimits(
        new RedisRateLimiter(link), gate, ledger, new RedisAbuseCounts(link), link);
  }

  private static @Nullable Void refresh(BanList bans) {
    bans.refresh();
    return null;
  }

  public RateLimiter rates() {
    return rates;
  }

  public ConcurrencyGate gate() {
    return gate;
  }

  public UsageLedger ledger() {
    return ledger;
  }

  /** The abuse counts across gateways, or null when they are this process's own. */
  public @Nullable SharedCounts counts() {
    return counts;
  }

  /** The {@code limits} part of {@code /readyz}, or none for local limits (always there). */
  public List<Readiness> readiness() {
    RedisLink r = redis;
    return r == null
        ? List.of()
        : List.of(Readiness.of("limits", () -> Future.succeededFuture(r.up())));
  }

  /** 1 when the limits can be decided (always, for local ones), else 0: gatehouse_limits_up. */
  public double up() {
    RedisLink r = redis;
    return r == null || r.up() ? 1 : 0;
  }
}

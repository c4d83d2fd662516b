package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.UsageLedger;
import dev.gatehouse.store.UsageLedger.Totals;
import dev.gatehouse.store.contract.UsageLedgerContract;
import dev.gatehouse.testing.RedisServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Redis ledger passes the ledger contract against a real Redis, and a budget charged through
 * one gateway is what the other reads.
 */
class RedisUsageLedgerContractTest extends UsageLedgerContract {

  private static RedisServer redis;
  private static Vertx vertx;

  @BeforeAll
  static void start() throws Exception {
    redis = RedisServer.start();
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
    redis.close();
  }

  @Override
  protected UsageLedger ledger(Clock clock) {
    return ledger(vertx, clock, RedisTesting.prefix());
  }

  private static RedisUsageLedger ledger(Vertx v, Clock clock, String prefix) {
    try {
      return new RedisUsageLedger(v, RedisTesting.link(v, redis.url(), prefix), clock);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> T done(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void aBudgetChargedOnOneGatewayIsSeenByTheOther() throws Exception {
    // why: a stream on gateway A spends the key's budget; gateway B must refuse (and cut its own
    // streams) on the same totals
    Vertx other = Vertx.vertx();
    try {
      String prefix = RedisTesting.prefix();
      RedisUsageLedger a = ledger(vertx, Clock.systemUTC(), prefix);
      RedisUsageLedger b = ledger(other, Clock.systemUTC(), prefix);
      done(a.charge("k1", 70));
      assertThat(done(b.charge("k1", 5)))
          .as("B's charge answers with A's tokens in the total")
          .isEqualTo(new Totals(75, 75));
      assertThat(done(a.used("k1"))).isEqualTo(new Totals(75, 75));
    } finally {
      other.close().await();
    }
  }

  @Test
  void todaysTotalsFromTheStoreSeedARedisThatHasNone() throws Exception {
    // why: a Redis that lost its data must not reset a day budget; one that counts keeps its count
    String prefix = RedisTesting.prefix();
    RedisUsageLedger l = ledger(vertx, Clock.systemUTC(), prefix);
    done(l.charge("k2", 3));
    done(l.seed(Map.of("k1", 40L, "k2", 100L)));
    assertThat(done(l.used("k1")).day()).isEqualTo(40);
    assertThat(done(l.used("k2")).day()).as("Redis's own count stands").isEqualTo(3);
  }

  @Test
  void aLedgerWhoseRedisIsDownFailsAsALimitsOutage() throws Exception {
    // why: fail closed: no budget is decided without Redis's totals
    RedisUsageLedger l =
        new RedisUsageLedger(
            vertx,
            RedisTesting.link(
                vertx, "redis://127.0.0.1:" + RedisTesting.closedPort(), RedisTesting.prefix()),
            Clock.systemUTC());
    Future<Totals> used = l.used("k1");
    used.toCompletionStage().toCompletableFuture().handle((t, e) -> e).get(5, TimeUnit.SECONDS);
    assertThat(used.cause()).isInstanceOf(dev.gatehouse.exchange.LimitsUnavailableException.class);
    done(l.charge("k1", 1).recover(e -> Future.succeededFuture()));
    assertThat(l.used("k1").failed())
        .as("a charge Redis did not record fails the key's totals until it is")
        .isTrue();
    // why: the debt must exist before anyone sees the charge fail. A failure seen from another
    // thread than the one completing it could come before a listener beside it had run (once in
    // CI): here from the test thread, many times over.
    for (int i = 0; i < 300; i++) {
      String key = "owed" + i;
      done(l.charge(key, 1).recover(e -> Future.succeededFuture()));
      assertThat(l.used(key).failed()).as("charge %d", i).isTrue();
    }
  }
}

package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.exchange.Problem;
import dev.gatehouse.testing.RedisServer;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Concurrency caps held in a real Redis by two gates, as two gateways would hold them: the caps
 * hold across both, and a waiter on one is granted the slot the other frees.
 */
class RedisConcurrencyGateTest {

  private static RedisServer redis;
  private static Vertx one;
  private static Vertx two;

  @BeforeAll
  static void start() throws Exception {
    redis = RedisServer.start();
    one = Vertx.vertx();
    two = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    one.close().await();
    two.close().await();
    redis.close();
  }

  private static RedisConcurrencyGate gate(Vertx v, String prefix, int global, int queue)
      throws Exception {
    RedisLink link = RedisLink.open(v, RedisTesting.settings(redis.url(), prefix, null));
    RedisConcurrencyGate g = new RedisConcurrencyGate(v, link, global, queue, 2_000);
    link.start(SharedLimits.SCRIPTS).await(10, TimeUnit.SECONDS);
    return g;
  }

  private static Problem answer(ConcurrencyGate.Slot s) throws Exception {
    return s.granted().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void aPerKeyCapHoldsAcrossTwoGateways() throws Exception {
    // why: with per-gateway counts, two gateways would let a key run twice its cap
    String prefix = RedisTesting.prefix();
    RedisConcurrencyGate a = gate(one, prefix, 100, 0);
    RedisConcurrencyGate b = gate(two, prefix, 100, 0);
    // one after the other, so that the second is the one that fills the cap
    ConcurrencyGate.Slot first = a.acquire("k1", 2);
    assertThat(answer(first)).isNull();
    ConcurrencyGate.Slot second = b.acquire("k1", 2);
    assertThat(answer(second)).isNull();
    assertThat(answer(a.acquire("k1", 2))).isEqualTo(Problem.KEY_CONCURRENCY);
    assertThat(answer(b.acquire("k1", 2))).isEqualTo(Problem.KEY_CONCURRENCY);
    assertThat(answer(b.acquire("k2", 2))).as("another key has its own cap").isNull();
    // why: the second slot filled the key's cap, so its release completes only once Redis has it
    // back, and the other gateway's very next acquire finds the place (the pipeline holds a
    // response's last bytes for this)
    second.release().await(5, TimeUnit.SECONDS);
    assertThat(answer(a.acquire("k1", 2))).as("a freed slot is free everywhere").isNull();
    assertThat(second.release().isComplete()).as("a second release is a no-op").isTrue();
    // the first filled no cap: there was room beside it anyway, so nothing waits for its release
    assertThat(first.release().isComplete()).isTrue();
  }

  @Test
  void theGlobalCapHoldsAcrossTwoGatewaysAndAWaiterGetsTheSlotTheOtherFrees() throws Exception {
    String prefix = RedisTesting.prefix();
    RedisConcurrencyGate a = gate(one, prefix, 2, 5);
    RedisConcurrencyGate b = gate(two, prefix, 2, 0);
    ConcurrencyGate.Slot held = a.acquire("k1", 10);
    assertThat(answer(held)).isNull();
    assertThat(answer(b.acquire("k2", 10))).isNull();
    assertThat(answer(b.acquire("k3", 10)))
        .as("no queue on b: refused at once")
        .isEqualTo(Problem.GATEWAY_BUSY);
    ConcurrencyGate.Slot waiter = a.acquire("k4", 10);
    Thread.sleep(300);
    assertThat(waiter.granted().isComplete()).as("queued on a").isFalse();
    assertThat(a.waiting()).isEqualTo(1);
    held.release();
    assertThat(answer(waiter)).as("granted once a slot is freed").isNull();
    assertThat(a.inFlight()).isEqualTo(1);
  }

  @Test
  void aQueuedRequestIsRefusedAfterTheQueueTimeout() throws Exception {
    String prefix = RedisTesting.prefix();
    RedisConcurrencyGate a = gate(one, prefix, 1, 5);
    assertThat(answer(a.acquire("k1", 1))).isNull();
    long t0 = System.nanoTime();
    ConcurrencyGate.Slot waiter = a.acquire("k1", 1);
    assertThat(answer(waiter)).isEqualTo(Problem.KEY_CONCURRENCY);
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(1_900_000_000L);
  }

  @Test
  void aGateWhoseRedisIsDownRefusesAsALimitsOutage() throws Exception {
    Vertx v = one;
    RedisLink link =
        RedisLink.open(
            v,
            RedisTesting.settings(
                "redis://127.0.0.1:" + RedisTesting.closedPort(), RedisTesting.prefix(), null));
    RedisConcurrencyGate g = new RedisConcurrencyGate(v, link, 10, 5, 2_000);
    assertThat(answer(g.acquire("k1", 1))).isEqualTo(Problem.LIMITS_UNAVAILABLE);
  }
}

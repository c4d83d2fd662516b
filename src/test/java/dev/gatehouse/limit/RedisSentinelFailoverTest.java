package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.LimitsUnavailableException;
import dev.gatehouse.testing.RedisProcess;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Sentinel failover seen by one running link: a master, its replica and one Sentinel (quorum 1)
 * on real servers; the master is killed, and the same link, never rebuilt, refuses the limits while
 * no master is known and serves them again from the promoted replica.
 */
class RedisSentinelFailoverTest {

  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  @Test
  void aKilledMasterIsReplacedByThePromotedReplicaWithoutRebuildingTheLink() throws Exception {
    int masterPort = RedisProcess.freePort();
    int replicaPort = RedisProcess.freePort();
    // killed by the test itself, closed again (harmlessly) at the end
    RedisProcess master = RedisProcess.start(masterPort, false, List.of());
    try (RedisProcess replica =
            RedisProcess.start(replicaPort, false, List.of("replicaof 127.0.0.1 " + masterPort));
        RedisProcess sentinel = sentinelAfterTheReplicaSyncs(masterPort, replicaPort)) {
      GatehouseConfig.SharedLimits config =
          new GatehouseConfig.SharedLimits(
              true,
              "",
              "sentinel",
              List.of("redis://127.0.0.1:" + sentinel.port()),
              "gh",
              "",
              null,
              null,
              Duration.ofSeconds(2),
              RedisTesting.prefix());
      RedisLink link = RedisLink.open(vertx, config);
      link.start(SharedLimits.SCRIPTS).await(10, TimeUnit.SECONDS);
      RateLimiter rates = new RedisRateLimiter(link);
      assertThat(get(rates.take("key:k1", 60, 1000)).allowed()).as("before the failover").isTrue();

      master.close(); // SIGKILL: no shutdown, no hand-over
      long killed = System.nanoTime();
      long deadline = killed + TimeUnit.SECONDS.toNanos(20);
      int refused = 0;
      boolean served = false;
      while (!served && System.nanoTime() < deadline) {
        try {
          served = get(rates.take("key:k1", 60, 1000)).allowed();
          assertThat(served).as("a take with budget to spare").isTrue();
        } catch (ExecutionException e) {
          // why: with no master known a take must be refused, never answered by a stale node
          assertThat(e.getCause()).isInstanceOf(LimitsUnavailableException.class);
          refused++;
          Thread.sleep(100);
        }
      }
      assertThat(served)
          .as("a take succeeded within 20 s of the kill; sentinel log:\n%s", sentinel.log())
          .isTrue();
      // why: the dead master cannot answer, and a replica refuses the scripts' writes: the take
      // that succeeded ran on the replica after its promotion
      assertThat(RedisProcess.cli("-p", String.valueOf(replica.port()), "role"))
          .startsWith("master");
      assertThat(refused).as("takes refused while no master was known").isPositive();
      long upBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!link.up() && System.nanoTime() < upBy) {
        Thread.sleep(50);
      }
      assertThat(link.up()).as("the health check sees the new master").isTrue();
      link.close();
    } finally {
      master.close();
    }
  }

  /**
   * A Sentinel for master {@code gh}, started once the replica is in sync, so that its first look
   * at the master already lists the replica it can promote.
   */
  private static RedisProcess sentinelAfterTheReplicaSyncs(int masterPort, int replicaPort)
      throws Exception {
    await(
        () ->
            RedisProcess.cli("-p", String.valueOf(replicaPort), "info", "replication")
                .contains("master_link_status:up"),
        "the replica in sync");
    RedisProcess sentinel =
        RedisProcess.start(
            RedisProcess.freePort(),
            true,
            List.of(
                "sentinel monitor gh 127.0.0.1 " + masterPort + " 1",
                "sentinel down-after-milliseconds gh 1000",
                "sentinel failover-timeout gh 5000",
                "sentinel parallel-syncs gh 1"));
    try {
      await(
          () ->
              RedisProcess.cli("-p", String.valueOf(sentinel.port()), "sentinel", "replicas", "gh")
                  .contains(String.valueOf(replicaPort)),
          "the Sentinel knows the replica");
    } catch (AssertionError | Exception e) {
      sentinel.close();
      throw e;
    }
    return sentinel;
  }

  private interface Check {
    boolean holds() throws Exception;
  }

  private static void await(Check check, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!check.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not reached within 15 s: " + what);
      }
      Thread.sleep(50);
    }
  }

  private static <T> T get(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}

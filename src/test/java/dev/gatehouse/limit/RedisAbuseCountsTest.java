package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.abuse.ProbeDetector.Signal;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.testing.RedisServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Auth failures and probe points from one address add up across two gateways on one Redis. */
class RedisAbuseCountsTest {

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

  private static <T> T done(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void failuresSpreadOverTwoGatewaysAddUpAndOneOfThemBans() throws Exception {
    // why: a guesser spreading its tries over the gateways behind a load balancer must still be
    // banned at bans.auth_failures, and by one gateway only
    String prefix = RedisTesting.prefix();
    RedisAbuseCounts a = new RedisAbuseCounts(RedisTesting.link(one, redis.url(), prefix));
    RedisAbuseCounts b = new RedisAbuseCounts(RedisTesting.link(two, redis.url(), prefix));
    IpAddress ip = java.util.Objects.requireNonNull(IpAddress.parse("203.0.113.7"));
    int bans = 0;
    for (int i = 0; i < 5; i++) {
      if (done((i % 2 == 0 ? a : b).authFailure(ip, 5, 60_000))) {
        bans++;
        assertThat(i).as("the fifth failure, wherever it arrives").isEqualTo(4);
      }
    }
    assertThat(bans).isEqualTo(1);
  }

  @Test
  void probePointsAddUpCappedPerSignalAndCrossTheThresholdOnce() throws Exception {
    String prefix = RedisTesting.prefix();
    RedisAbuseCounts a = new RedisAbuseCounts(RedisTesting.link(one, redis.url(), prefix));
    RedisAbuseCounts b = new RedisAbuseCounts(RedisTesting.link(two, redis.url(), prefix));
    IpAddress ip = java.util.Objects.requireNonNull(IpAddress.parse("203.0.113.8"));
    // HELLO is capped at 6: three gateways' worth of hellos still count 6
    assertThat(done(a.probePoints(ip, Map.of(Signal.HELLO, 3), 10, 60_000))).isEqualTo(-1);
    assertThat(done(b.probePoints(ip, Map.of(Signal.HELLO, 3), 10, 60_000))).isEqualTo(-1);
    assertThat(done(a.probePoints(ip, Map.of(Signal.HELLO, 3), 10, 60_000))).isEqualTo(-1);
    assertThat(done(b.probePoints(ip, Map.of(Signal.WEAK_CREDENTIAL, 5), 10, 60_000)))
        .as("6 + 5 reaches 10 on the other gateway")
        .isEqualTo(11);
    assertThat(done(a.probePoints(ip, Map.of(Signal.SWEEP, 2), 10, 60_000)))
        .as("one verdict per window")
        .isEqualTo(-1);
  }
}

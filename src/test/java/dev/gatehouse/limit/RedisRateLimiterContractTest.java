package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.RedisServer;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Redis limiter passes the rate-limiter contract against a real Redis, and two gateways' worth
 * of limiters on one Redis admit exactly the limit between them.
 */
class RedisRateLimiterContractTest extends RateLimiterContract {

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
  protected RateLimiter limiter() {
    try {
      return new RedisRateLimiter(RedisTesting.link(vertx, redis.url(), RedisTesting.prefix()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A Redis limiter whose server is not there: every take fails, as in an outage. */
  @Override
  protected RateLimiter failing() {
    try {
      return new RedisRateLimiter(
          RedisTesting.link(
              vertx, "redis://127.0.0.1:" + RedisTesting.closedPort(), RedisTesting.prefix()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected String unavailableCode() {
    return "limits.unavailable";
  }

  @Test
  void twoGatewaysOnOneRedisAdmitTheLimitBetweenThem() throws Exception {
    // why: the point of limits.kind redis; with per-gateway buckets, two gateways would admit
    // twice the burst
    Vertx other = Vertx.vertx();
    try {
      String prefix = RedisTesting.prefix();
      RateLimiter a = new RedisRateLimiter(RedisTesting.link(vertx, redis.url(), prefix));
      RateLimiter b = new RedisRateLimiter(RedisTesting.link(other, redis.url(), prefix));
      List<io.vertx.core.Future<RateLimiter.Take>> all = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        all.add((i % 2 == 0 ? a : b).take("key:shared", 1, 10));
      }
      long admitted = 0;
      for (var f : all) {
        if (f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS).allowed()) {
          admitted++;
        }
      }
      assertThat(admitted).as("one bucket of 10 across both").isEqualTo(10);
    } finally {
      other.close().await();
    }
  }
}

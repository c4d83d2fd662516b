package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.limit.RateLimiter.Take;
import dev.gatehouse.testing.GatewayFixture;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What every {@link RateLimiter} must do, whatever it is backed by: the local buckets now, a shared
 * Redis one later. The last cases put the limiter in front of a real gateway, since what matters is
 * what reaches the model server.
 */
abstract class RateLimiterContract {

  static final String CHAT =
      "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  /** A fresh limiter of this kind, with no bucket in it. */
  protected abstract RateLimiter limiter();

  /**
   * A limiter of this kind that cannot answer (for a remote one: its server down), failing each
   * take the way this kind fails.
   */
  protected abstract RateLimiter failing();

  /**
   * The code a failure of this kind is refused with: {@code limit.unavailable} for a limiter in
   * this process, {@code limits.unavailable} for the shared (Redis) limits, so an operator tells an
   * outage of the shared store from a local fault.
   */
  protected String unavailableCode() {
    return "limit.unavailable";
  }

  /** One take, waited for: the contract reads answers, however they arrive. */
  static Take take(RateLimiter l, String subject, int perMinute, int burst) throws Exception {
    return l.take(subject, perMinute, burst)
        .toCompletionStage()
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
  }

  @Test
  void theBurstPassesAndTheNextWaits() throws Exception {
    RateLimiter l = limiter();
    for (int i = 0; i < 5; i++) {
      assertThat(take(l, "key:a", 60, 5).allowed()).as("request %d of the burst", i + 1).isTrue();
    }
    Take refused = take(l, "key:a", 60, 5);
    assertThat(refused.allowed()).as("past the burst").isFalse();
    assertThat(refused.retryAfterNanos()).as("nanoseconds to wait").isPositive();
    assertThat(refused.retryAfterNanos())
        .as("at 60 per minute, at most a second")
        .isLessThanOrEqualTo(1_000_000_000L);
  }

  @Test
  void subjectsHaveTheirOwnBuckets() throws Exception {
    RateLimiter l = limiter();
    assertThat(take(l, "key:a", 60, 1).allowed()).isTrue();
    assertThat(take(l, "key:a", 60, 1).allowed()).isFalse();
    assertThat(take(l, "key:b", 60, 1).allowed()).as("another subject is untouched").isTrue();
    assertThat(take(l, "ip:10.0.0.1", 60, 1).allowed()).isTrue();
  }

  @Test
  void aChangedLimitStartsAFreshBucket() throws Exception {
    RateLimiter l = limiter();
    assertThat(take(l, "key:a", 60, 1).allowed()).isTrue();
    assertThat(take(l, "key:a", 60, 1).allowed()).isFalse();
    assertThat(take(l, "key:a", 120, 2).allowed()).as("the key's limit was raised").isTrue();
  }

  @Test
  void theGatewayForwardsWhatTheLimiterAllowsAndRefusesTheRest() throws Exception {
    // why: however the answer arrives (at once, or later from a server), a refused request must
    // not reach the model server, and the 429 must say when to retry
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of("rate.key_rpm", "60", "rate.key_burst", "2"), null, limiter(), null)) {
      String key = gw.newKey();
      assertThat(gw.post("/api/chat", key, CHAT).statusCode()).isEqualTo(200);
      assertThat(gw.post("/api/chat", key, CHAT).statusCode()).isEqualTo(200);
      HttpResponse<String> limited = gw.post("/api/chat", key, CHAT);
      assertThat(limited.statusCode()).isEqualTo(429);
      assertThat(limited.body()).contains("\"code\":\"limit.rate\"");
      assertThat(limited.headers().firstValue("retry-after"))
          .hasValueSatisfying(s -> assertThat(Long.parseLong(s)).isBetween(1L, 2L));
      assertThat(gw.upstream.requests()).hasSize(2);
    }
  }

  @Test
  void aFailingLimiterRefusesAtTheGatewayAndNothingReachesTheUpstream() throws Exception {
    // why: fail closed; a limiter that cannot answer must never be read as "allowed", for keyed
    // requests and for the per-address limit on requests without a valid key alike
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of("rate.key_rpm", "600", "rate.anonymous_ip_rpm", "600"), null, failing(), null)) {
      HttpResponse<String> keyed = gw.post("/api/chat", gw.newKey(), CHAT);
      assertThat(keyed.statusCode()).isEqualTo(503);
      assertThat(keyed.body()).contains("\"code\":\"" + unavailableCode() + "\"");
      HttpResponse<String> anonymous = gw.post("/v1/chat/completions", null, CHAT);
      assertThat(anonymous.statusCode()).isEqualTo(503);
      assertThat(anonymous.body()).contains("\"code\":\"" + unavailableCode() + "\"");
      assertThat(gw.upstream.requests()).as("nothing reached the model server").isEmpty();
    }
  }
}

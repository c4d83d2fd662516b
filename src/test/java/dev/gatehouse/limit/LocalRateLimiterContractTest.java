package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

/** The in-memory limiter passes the rate-limiter contract, and answers at once. */
class LocalRateLimiterContractTest extends RateLimiterContract {
  @Override
  protected RateLimiter limiter() {
    return new LocalRateLimiter();
  }

  /** Local buckets cannot fail; this is what a failure of theirs would look like to the gateway. */
  @Override
  protected RateLimiter failing() {
    return (subject, perMinute, burst) ->
        Future.failedFuture(new IllegalStateException("limiter backend down"));
  }

  @Test
  void everyAnswerIsAlreadyComplete() {
    // why: the event loop follows a completed future without a callback; local buckets decide in
    // memory, so they must never make the request path wait
    RateLimiter l = limiter();
    assertThat(l.take("key:a", 60, 1).isComplete()).as("allowed").isTrue();
    assertThat(l.take("key:a", 60, 1).isComplete()).as("refused").isTrue();
  }
}

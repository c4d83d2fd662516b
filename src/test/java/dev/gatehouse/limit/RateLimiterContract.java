package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * What every {@link RateLimiter} must do, whatever it is backed by: the local buckets now, a
 * shared Redis one later.
 */
abstract class RateLimiterContract {

  protected abstract RateLimiter limiter();

  @Test
  void theBurstPassesAndTheNextWaits() {
    RateLimiter l = limiter();
    for (int i = 0; i < 5; i++) {
      assertThat(l.tryTake("key:a", 60, 5)).as("request %d of the burst", i + 1).isZero();
    }
    long wait = l.tryTake("key:a", 60, 5);
    assertThat(wait).as("past the burst: nanoseconds to wait").isPositive();
    assertThat(wait).as("at 60 per minute, at most a second").isLessThanOrEqualTo(1_000_000_000L);
  }

  @Test
  void subjectsHaveTheirOwnBuckets() {
    RateLimiter l = limiter();
    assertThat(l.tryTake("key:a", 60, 1)).isZero();
    assertThat(l.tryTake("key:a", 60, 1)).isPositive();
    assertThat(l.tryTake("key:b", 60, 1)).as("another subject is untouched").isZero();
    assertThat(l.tryTake("ip:10.0.0.1", 60, 1)).isZero();
  }

  @Test
  void aChangedLimitStartsAFreshBucket() {
    RateLimiter l = limiter();
    assertThat(l.tryTake("key:a", 60, 1)).isZero();
    assertThat(l.tryTake("key:a", 60, 1)).isPositive();
    assertThat(l.tryTake("key:a", 120, 2)).as("the key's limit was raised").isZero();
  }
}

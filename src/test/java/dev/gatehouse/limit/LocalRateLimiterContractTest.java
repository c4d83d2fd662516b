package dev.gatehouse.limit;

/** The in-memory limiter passes the rate-limiter contract. */
class LocalRateLimiterContractTest extends RateLimiterContract {
  @Override
  protected RateLimiter limiter() {
    return new LocalRateLimiter();
  }
}

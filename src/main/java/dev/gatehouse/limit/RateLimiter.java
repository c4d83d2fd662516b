package dev.gatehouse.limit;

/**
 * Token buckets by subject (a key, a client IP). The local implementation keeps them in memory;
 * the interface is what lets a Redis or PostgreSQL back end share them between gateways.
 *
 * <p>Implementations throw on any failure; the caller then refuses the request (fail closed).
 */
public interface RateLimiter {

  /**
   * Takes one request from the subject's bucket.
   *
   * @param subject what is limited, such as {@code key:abc} or {@code ip:10.0.0.1}
   * @param perMinute refill rate
   * @param burst bucket capacity
   * @return 0 when the request may go on, otherwise the nanoseconds until one would be allowed
   */
  long tryTake(String subject, int perMinute, int burst);

  /** Forgets what no longer carries information (full buckets); called every minute. */
  default void sweep() {}
}

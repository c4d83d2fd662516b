package dev.gatehouse.limit;

import io.vertx.core.Future;

/**
 * Token buckets by subject (a key, a client IP). The local implementation keeps them in memory; the
 * interface is what lets a Redis or PostgreSQL back end share them between gateways.
 *
 * <p>Called on the request's event loop, so a take never blocks: a back end that asks the network
 * returns a pending future and completes it when the answer arrives (on the caller's Vert.x
 * context, as Vert.x's own clients do; {@link Limiter} moves a completion from any other thread
 * back onto the event loop, and fails a take that has not answered within a bound). One that
 * decides in memory returns a completed future, which the pipeline follows without a callback.
 *
 * <p>Any failure (a failed future, or an exception thrown by {@link #take}) refuses the request
 * with 503 {@code limit.unavailable}: a limiter that cannot answer never lets traffic through.
 */
@FunctionalInterface
public interface RateLimiter {

  /**
   * The answer to one take: the request may go on, or not until {@code retryAfterNanos} from now.
   */
  record Take(boolean allowed, long retryAfterNanos) {

    /** The request may go on. */
    public static final Take ALLOWED = new Take(true, 0);

    public Take {
      if (allowed ? retryAfterNanos != 0 : retryAfterNanos <= 0) {
        throw new IllegalArgumentException(
            "retryAfterNanos: " + retryAfterNanos + " (expected: 0 when allowed, > 0 when not)");
      }
    }

    /** Refused: one request would be allowed {@code nanos} from now (at least 1). */
    public static Take retryAfter(long nanos) {
      return new Take(false, Math.max(1, nanos));
    }
  }

  /**
   * Takes one request from the subject's bucket.
   *
   * @param subject what is limited, such as {@code key:abc} or {@code ip:10.0.0.1}
   * @param perMinute refill rate
   * @param burst bucket capacity
   * @return whether the request may go on, and if not, when one would
   */
  Future<Take> take(String subject, int perMinute, int burst);

  /**
   * Forgets what no longer carries information (full buckets); called every minute, on a worker
   * thread (it may block), never on an event loop.
   */
  default void sweep() {}
}

package dev.gatehouse.limit;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * In-process token buckets (Bucket4j), one per subject and rate. Buckets that have refilled
 * completely carry no information and are dropped by {@link #sweep()}, so memory follows the number
 * of recently active clients, not every address ever seen. Every take decides in memory and returns
 * a completed future, so the event loop goes on without a callback. Thread-safe.
 */
public final class LocalRateLimiter implements RateLimiter {

  /** The common answer, shared: a completed future is immutable. */
  private static final Future<Take> ALLOWED = Future.succeededFuture(Take.ALLOWED);

  private record Entry(Bucket bucket, int burst) {}

  private final ConcurrentHashMap<String, Entry> buckets = new ConcurrentHashMap<>();

  @Override
  public Future<Take> take(String subject, int perMinute, int burst) {
    // The rate is part of the map key, so a key whose limit changes starts a fresh bucket.
    String id = subject + '/' + perMinute + '/' + burst;
    Entry e =
        buckets.computeIfAbsent(
            id,
            k ->
                new Entry(
                    Bucket.builder()
                        .addLimit(
                            limit ->
                                limit
                                    .capacity(burst)
                                    .refillGreedy(perMinute, Duration.ofMinutes(1)))
                        .build(),
                    burst));
    ConsumptionProbe probe = e.bucket().tryConsumeAndReturnRemaining(1);
    return probe.isConsumed()
        ? ALLOWED
        : Future.succeededFuture(Take.retryAfter(probe.getNanosToWaitForRefill()));
  }

  /** Forgets buckets that are full again; call periodically. */
  @Override
  public void sweep() {
    buckets
        .entrySet()
        .removeIf(en -> en.getValue().bucket().getAvailableTokens() >= en.getValue().burst());
  }

  /** Buckets held, for tests and metrics. */
  public int size() {
    return buckets.size();
  }
}

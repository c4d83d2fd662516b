package dev.gatehouse.limit;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * In-process token buckets (Bucket4j), one per subject and rate. Buckets that have refilled
 * completely carry no information and are dropped by {@link #sweep()}, so memory follows the
 * number of recently active clients, not every address ever seen. Thread-safe.
 */
public final class LocalRateLimiter implements RateLimiter {

  private record Entry(Bucket bucket, int burst) {}

  private final ConcurrentHashMap<String, Entry> buckets = new ConcurrentHashMap<>();

  @Override
  public long tryTake(String subject, int perMinute, int burst) {
    // The rate is part of the map key, so a key whose limit changes starts a fresh bucket.
    String id = subject + '/' + perMinute + '/' + burst;
    Entry e = buckets.computeIfAbsent(id, k -> new Entry(
        Bucket.builder()
            .addLimit(limit -> limit.capacity(burst).refillGreedy(perMinute, Duration.ofMinutes(1)))
            .build(),
        burst));
    ConsumptionProbe probe = e.bucket().tryConsumeAndReturnRemaining(1);
    return probe.isConsumed() ? 0 : Math.max(1, probe.getNanosToWaitForRefill());
  }

  /** Forgets buckets that are full again; call periodically. */
  @Override
  public void sweep() {
    buckets.entrySet().removeIf(en -> en.getValue().bucket().getAvailableTokens() >= en.getValue().burst());
  }

  /** Buckets held, for tests and metrics. */
  public int size() {
    return buckets.size();
  }
}

package dev.gatehouse.store;

import io.vertx.core.Future;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The in-memory {@link UsageLedger}: live token usage per key in this process, plus the increments
 * not yet written to the {@link UsageStore}. Every call decides in memory and returns a completed
 * future, so the event loop goes on without a callback, and none can fail. Windows are the UTC
 * minute and the UTC day; today's totals are seeded from the usage store at start. Thread-safe.
 */
public final class LocalUsageLedger implements UsageLedger {

  private final Clock clock;
  private final ConcurrentHashMap<String, KeyUsage> keys = new ConcurrentHashMap<>();
  private final PendingUsage pending = new PendingUsage();

  /** One key's windows; guarded by itself. */
  private static final class KeyUsage {
    long minute = Long.MIN_VALUE; // the UTC minute of minuteTokens, in minutes since the epoch
    long minuteTokens;
    long epochDay = Long.MIN_VALUE; // the UTC day of dayTokens, in days since the epoch
    String day = ""; // the same day as text (2026-03-01), for the usage rows
    long dayTokens;
  }

  public LocalUsageLedger(Clock clock) {
    this.clock = clock;
  }

  /** Seeds today's totals (after a restart) so day budgets survive it. */
  public void seed(Map<String, Long> today) {
    today.forEach(
        (key, tokens) -> {
          KeyUsage u = of(key);
          synchronized (u) {
            roll(u); // today's windows
            u.dayTokens = tokens;
          }
        });
  }

  /** Today, UTC, as the usage rows name it (2026-03-01). */
  public String today() {
    return LocalDate.ofEpochDay(Math.floorDiv(clock.millis(), DAY_MILLIS)).toString();
  }

  private static final long MINUTE_MILLIS = 60_000;
  private static final long DAY_MILLIS = 86_400_000;

  /**
   * Moves {@code u}'s windows to the clock's minute and day, emptying those that ended. Called with
   * {@code u} held. Charged on every chunk of a stream, so it reads the clock once and allocates
   * nothing until the day changes.
   */
  private void roll(KeyUsage u) {
    long now = clock.millis();
    long minute = Math.floorDiv(now, MINUTE_MILLIS);
    long epochDay = Math.floorDiv(now, DAY_MILLIS);
    if (u.minute != minute) {
      u.minute = minute;
      u.minuteTokens = 0;
    }
    if (u.epochDay != epochDay) {
      u.epochDay = epochDay;
      u.day = LocalDate.ofEpochDay(epochDay).toString();
      u.dayTokens = 0;
    }
  }

  private KeyUsage of(String key) {
    KeyUsage u = keys.get(key); // the usual case, without computeIfAbsent's lock
    return u != null ? u : keys.computeIfAbsent(key, k -> new KeyUsage());
  }

  @Override
  public Future<Totals> used(String key) {
    KeyUsage u = of(key);
    synchronized (u) {
      roll(u);
      return Future.succeededFuture(new Totals(u.minuteTokens, u.dayTokens));
    }
  }

  @Override
  public Future<Totals> charge(String key, long tokens) {
    KeyUsage u = of(key);
    synchronized (u) {
      roll(u);
      u.minuteTokens += tokens;
      u.dayTokens += tokens;
      return Future.succeededFuture(new Totals(u.minuteTokens, u.dayTokens));
    }
  }

  @Override
  public Future<Void> settle(
      String key, @Nullable String model, long estimated, long tokensIn, long tokensOut) {
    KeyUsage u = of(key);
    String day;
    synchronized (u) {
      roll(u);
      long delta = tokensIn + tokensOut - estimated;
      u.minuteTokens = Math.max(0, u.minuteTokens + delta);
      u.dayTokens = Math.max(0, u.dayTokens + delta);
      day = u.day;
    }
    String m = model == null ? "" : model;
    pending.add(new UsageStore.UsageRow(key, day, m, 1, tokensIn, tokensOut));
    return Future.succeededFuture();
  }

  @Override
  public List<UsageStore.UsageRow> drain() {
    return pending.drain();
  }

  @Override
  public void requeue(List<UsageStore.UsageRow> rows) {
    pending.addAll(rows);
  }
}

package dev.gatehouse.store;

import io.vertx.core.Future;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
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

  private static final class KeyUsage {
    long minute = -1;
    long minuteTokens;
    String day = "";
    long dayTokens;
  }

  public LocalUsageLedger(Clock clock) {
    this.clock = clock;
  }

  /** Seeds today's totals (after a restart) so day budgets survive it. */
  public void seed(Map<String, Long> today) {
    String day = today();
    today.forEach(
        (key, tokens) -> {
          KeyUsage u = keys.computeIfAbsent(key, k -> new KeyUsage());
          synchronized (u) {
            u.day = day;
            u.dayTokens = tokens;
          }
        });
  }

  public String today() {
    return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC).toString();
  }

  private KeyUsage current(String key) {
    KeyUsage u = keys.computeIfAbsent(key, k -> new KeyUsage());
    long minute = clock.millis() / 60_000;
    String day = today();
    if (u.minute != minute) {
      u.minute = minute;
      u.minuteTokens = 0;
    }
    if (!u.day.equals(day)) {
      u.day = day;
      u.dayTokens = 0;
    }
    return u;
  }

  @Override
  public Future<Totals> used(String key) {
    KeyUsage u = keys.computeIfAbsent(key, k -> new KeyUsage());
    synchronized (u) {
      current(key);
      return Future.succeededFuture(new Totals(u.minuteTokens, u.dayTokens));
    }
  }

  @Override
  public Future<Totals> charge(String key, long tokens) {
    KeyUsage u = keys.computeIfAbsent(key, k -> new KeyUsage());
    synchronized (u) {
      current(key);
      u.minuteTokens += tokens;
      u.dayTokens += tokens;
      return Future.succeededFuture(new Totals(u.minuteTokens, u.dayTokens));
    }
  }

  @Override
  public Future<Void> settle(
      String key, @Nullable String model, long estimated, long tokensIn, long tokensOut) {
    KeyUsage u = keys.computeIfAbsent(key, k -> new KeyUsage());
    String day;
    synchronized (u) {
      current(key);
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

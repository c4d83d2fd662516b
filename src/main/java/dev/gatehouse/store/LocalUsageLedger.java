package dev.gatehouse.store;

import io.vertx.core.Future;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
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
  private final Map<String, UsageStore.UsageRow> pending = new HashMap<>();

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
    synchronized (pending) {
      pending.merge(
          key + '\u0000' + day + '\u0000' + m,
          new UsageStore.UsageRow(key, day, m, 1, tokensIn, tokensOut),
          (a, b) ->
              new UsageStore.UsageRow(
                  a.keyId(),
                  a.day(),
                  a.model(),
                  a.requests() + b.requests(),
                  a.tokensIn() + b.tokensIn(),
                  a.tokensOut() + b.tokensOut()));
    }
    return Future.succeededFuture();
  }

  @Override
  public List<UsageStore.UsageRow> drain() {
    synchronized (pending) {
      List<UsageStore.UsageRow> rows = new ArrayList<>(pending.values());
      pending.clear();
      return rows;
    }
  }

  @Override
  public void requeue(List<UsageStore.UsageRow> rows) {
    synchronized (pending) {
      for (UsageStore.UsageRow r : rows) {
        pending.merge(
            r.keyId() + '\u0000' + r.day() + '\u0000' + r.model(),
            r,
            (a, b) ->
                new UsageStore.UsageRow(
                    a.keyId(),
                    a.day(),
                    a.model(),
                    a.requests() + b.requests(),
                    a.tokensIn() + b.tokensIn(),
                    a.tokensOut() + b.tokensOut()));
      }
    }
  }
}

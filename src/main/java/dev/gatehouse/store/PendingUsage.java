package dev.gatehouse.store;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Usage rows waiting to be written to the {@link UsageStore}, summed per key, day and model, as
 * every {@link UsageLedger} keeps them between its flushes ({@link UsageLedger#drain}, {@link
 * UsageLedger#requeue}). Thread-safe.
 */
public final class PendingUsage {

  private final Map<String, UsageStore.UsageRow> rows = new HashMap<>();

  /** Adds one row to the sum of its key, day and model. */
  public synchronized void add(UsageStore.UsageRow r) {
    rows.merge(
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

  /** Adds rows back (a write that failed), each to its sum. */
  public synchronized void addAll(List<UsageStore.UsageRow> back) {
    back.forEach(this::add);
  }

  /** The sums so far, which are forgotten here. */
  public synchronized List<UsageStore.UsageRow> drain() {
    List<UsageStore.UsageRow> out = new ArrayList<>(rows.values());
    rows.clear();
    return out;
  }
}

package dev.gatehouse.guard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Measures a detector on a labelled set: detection rate on attacks, false-positive rate on benign
 * prompts, overall and per source ({@code other} rows are counted apart, in neither rate), and
 * latency per request (text extraction and detection; the JSON parse is not counted). The whole set
 * is first run {@code warmup} times unmeasured, so that the figures are those of a gateway whose
 * JIT has compiled the detector, then each row once measured. Latency is given for all rows, and
 * for the rows of ordinary size ({@value #ORDINARY_CHARS} characters inspected or fewer), which is
 * what the guard's latency target is stated for.
 */
public final class Evaluation {

  /** Counts for one label within one source, or overall. */
  public static final class Counts {
    public int n;
    public int flagged;
  }

  /** Attack, benign and other counts. */
  public static final class Tally {
    public final Counts attack = new Counts();
    public final Counts benign = new Counts();
    public final Counts other = new Counts();

    void add(Dataset.Row row, boolean flagged) {
      Counts c = row.attack() ? attack : row.benign() ? benign : other;
      c.n++;
      if (flagged) {
        c.flagged++;
      }
    }
  }

  public final Tally overall = new Tally();
  public final Map<String, Tally> bySource = new TreeMap<>();
  public final long[] latencyNanos;

  /**
   * Whether each row's inspected text is of ordinary size, in the order of {@link #latencyNanos}.
   */
  private final boolean[] ordinary;

  /** How many unmeasured passes over the set came first. */
  public final int warmup;

  /**
   * The largest inspected text, in characters, that counts as a request of ordinary size (4 KB).
   */
  public static final int ORDINARY_CHARS = 4096;

  /** Unmeasured passes over the set before the measured one, by default. */
  public static final int DEFAULT_WARMUP = 10;

  private Evaluation(int rows, int warmup) {
    latencyNanos = new long[rows];
    ordinary = new boolean[rows];
    this.warmup = warmup;
  }

  /** Runs the detector over the rows, after {@link #DEFAULT_WARMUP} unmeasured passes. */
  public static Evaluation run(Detector detector, List<Dataset.Row> rows, int maxChars) {
    return run(detector, rows, maxChars, DEFAULT_WARMUP);
  }

  /** Runs the detector over the rows, after {@code warmup} unmeasured passes (0 or more). */
  public static Evaluation run(
      Detector detector, List<Dataset.Row> rows, int maxChars, int warmup) {
    if (warmup < 0) {
      throw new IllegalArgumentException("warm-up passes must be 0 or more, not " + warmup);
    }
    for (int pass = 0; pass < warmup; pass++) {
      for (Dataset.Row row : rows) {
        detector.inspect(Dataset.texts(row, maxChars));
      }
    }
    Evaluation e = new Evaluation(rows.size(), warmup);
    for (int i = 0; i < rows.size(); i++) {
      Dataset.Row row = rows.get(i);
      long t0 = System.nanoTime();
      List<String> texts = Dataset.texts(row, maxChars);
      Verdict v = detector.inspect(texts);
      e.latencyNanos[i] = System.nanoTime() - t0;
      int chars = 0;
      for (String t : texts) {
        chars += t.length();
      }
      e.ordinary[i] = chars <= ORDINARY_CHARS;
      e.overall.add(row, v.flagged());
      e.bySource.computeIfAbsent(row.source(), s -> new Tally()).add(row, v.flagged());
    }
    return e;
  }

  /** The latency at quantile {@code q} (0 to 1), in microseconds, over all rows. */
  public double latencyMicros(double q) {
    return quantile(latencyNanos, q);
  }

  /**
   * The latency at quantile {@code q} (0 to 1), in microseconds, over the rows of ordinary size.
   */
  public double ordinaryLatencyMicros(double q) {
    return quantile(ordinaryLatencies(), q);
  }

  /** How many rows are of ordinary size. */
  public int ordinaryRows() {
    return ordinaryLatencies().length;
  }

  private long[] ordinaryLatencies() {
    long[] out = new long[latencyNanos.length];
    int n = 0;
    for (int i = 0; i < latencyNanos.length; i++) {
      if (ordinary[i]) {
        out[n++] = latencyNanos[i];
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static double quantile(long[] nanos, double q) {
    if (nanos.length == 0) {
      return 0;
    }
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[i] / 1000.0;
  }

  /** The result as one JSON object. */
  public ObjectNode toJson(ObjectMapper json) {
    ObjectNode o = json.createObjectNode();
    tally(o, overall, true);
    ObjectNode by = o.putObject("by_source");
    bySource.forEach((source, t) -> tally(by.putObject(source), t, false));
    ObjectNode lat = o.putObject("latency_us");
    lat.put("p50", round(latencyMicros(0.5)));
    lat.put("p99", round(latencyMicros(0.99)));
    lat.put("max", round(latencyMicros(1.0)));
    lat.put("warmup_passes", warmup);
    ObjectNode ord = lat.putObject("ordinary");
    ord.put("max_chars", ORDINARY_CHARS);
    ord.put("n", ordinaryRows());
    ord.put("p50", round(ordinaryLatencyMicros(0.5)));
    ord.put("p99", round(ordinaryLatencyMicros(0.99)));
    ord.put("max", round(ordinaryLatencyMicros(1.0)));
    return o;
  }

  private static void tally(ObjectNode o, Tally t, boolean always) {
    if (t.attack.n > 0 || always) {
      ObjectNode a = o.putObject("attack");
      a.put("n", t.attack.n);
      a.put("detected", t.attack.flagged);
      a.put("rate", round(rate(t.attack)));
    }
    if (t.benign.n > 0 || always) {
      ObjectNode b = o.putObject("benign");
      b.put("n", t.benign.n);
      b.put("flagged", t.benign.flagged);
      b.put("rate", round(rate(t.benign)));
    }
    if (t.other.n > 0 || always) {
      ObjectNode x = o.putObject("other");
      x.put("n", t.other.n);
      x.put("flagged", t.other.flagged);
    }
  }

  private static double rate(Counts c) {
    return c.n == 0 ? 0 : (double) c.flagged / c.n;
  }

  private static double round(double d) {
    return Math.round(d * 10000) / 10000.0;
  }

  /** The result as a table: one line per source, then the totals and the latency. */
  public String toText() {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT, "%-30s %-7s %6s %8s %8s%n", "source", "label", "n", "flagged", "rate"));
    bySource.forEach((source, t) -> lines(b, source, t));
    lines(b, "all", overall);
    b.append(
        String.format(
            Locale.ROOT,
            "%nattacks detected: %d of %d (%.1f%%)%n",
            overall.attack.flagged,
            overall.attack.n,
            100 * rate(overall.attack)));
    b.append(
        String.format(
            Locale.ROOT,
            "benign flagged:   %d of %d (%.1f%%)%n",
            overall.benign.flagged,
            overall.benign.n,
            100 * rate(overall.benign)));
    b.append(
        String.format(
            Locale.ROOT,
            "other flagged:    %d of %d (in neither rate)%n",
            overall.other.flagged,
            overall.other.n));
    b.append(
        String.format(
            Locale.ROOT,
            "latency per request (after %d warm-up passes): p50 %.1f us, p99 %.1f us, max %.1f us%n",
            warmup,
            latencyMicros(0.5),
            latencyMicros(0.99),
            latencyMicros(1.0)));
    b.append(
        String.format(
            Locale.ROOT,
            "  ordinary size (%d of %d rows, up to %d chars inspected): p50 %.1f us, p99 %.1f us, max %.1f us%n",
            ordinaryRows(),
            latencyNanos.length,
            ORDINARY_CHARS,
            ordinaryLatencyMicros(0.5),
            ordinaryLatencyMicros(0.99),
            ordinaryLatencyMicros(1.0)));
    return b.toString();
  }

  private static void lines(StringBuilder b, String source, Tally t) {
    line(b, source, "attack", t.attack);
    line(b, source, "benign", t.benign);
    line(b, source, "other", t.other);
  }

  private static void line(StringBuilder b, String source, String label, Counts c) {
    if (c.n > 0) {
      b.append(
          String.format(
              Locale.ROOT,
              "%-30s %-7s %6d %8d %7.1f%%%n",
              source,
              label,
              c.n,
              c.flagged,
              100 * rate(c)));
    }
  }
}

package dev.gatehouse.admin.api;

import dev.gatehouse.metrics.GatewayMetrics;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The admin overview's rates: the metrics' totals, sampled once a second by a timer on the admin
 * side, kept for the last {@value #WINDOW} seconds. The request path is untouched: it counts as it
 * always did, and this only reads the counters. Thread-safe (the timer adds, handlers read).
 */
final class RateSampler {

  /** Seconds of history: the overview's window and its chart. */
  static final int WINDOW = 60;

  /** One sample: the time and the totals then. */
  record Sample(Instant at, GatewayMetrics.Totals totals) {}

  /** One second of the chart: what happened between two samples. */
  record Step(Instant at, long requests, long refused, long tokens) {}

  private final Supplier<GatewayMetrics.Totals> totals;
  private final ArrayDeque<Sample> samples = new ArrayDeque<>(WINDOW + 1);

  RateSampler(Supplier<GatewayMetrics.Totals> totals) {
    this.totals = totals;
  }

  /** Takes one sample now (the timer calls this each second). */
  void sample() {
    Sample s = new Sample(Instant.now(), totals.get());
    synchronized (this) {
      if (samples.size() == WINDOW + 1) {
        samples.removeFirst();
      }
      samples.addLast(s);
    }
  }

  /** The samples kept, oldest first; the first call takes one, so there is always one. */
  synchronized List<Sample> samples() {
    if (samples.isEmpty()) {
      sample();
    }
    return new ArrayList<>(samples);
  }

  /** Each second's increments over the window, oldest first. */
  static List<Step> steps(List<Sample> s) {
    List<Step> out = new ArrayList<>();
    for (int i = 1; i < s.size(); i++) {
      GatewayMetrics.Totals a = s.get(i - 1).totals();
      GatewayMetrics.Totals b = s.get(i).totals();
      out.add(
          new Step(
              s.get(i).at(),
              b.requests() - a.requests(),
              b.refused() - a.refused(),
              b.tokens() - a.tokens()));
    }
    return out;
  }

  /** Per-second rate of one total over the window: (last - first) / seconds between them. */
  static double rate(List<Sample> s, java.util.function.ToLongFunction<GatewayMetrics.Totals> f) {
    if (s.size() < 2) {
      return 0;
    }
    Sample first = s.get(0);
    Sample last = s.get(s.size() - 1);
    double secs = (last.at().toEpochMilli() - first.at().toEpochMilli()) / 1000.0;
    return secs <= 0 ? 0 : (f.applyAsLong(last.totals()) - f.applyAsLong(first.totals())) / secs;
  }

  /** Refusals per reason over the window (those with none left out). */
  static Map<String, Long> refusals(List<Sample> s) {
    Map<String, Long> out = new java.util.TreeMap<>();
    Map<String, Long> last = s.get(s.size() - 1).totals().refusals();
    Map<String, Long> first = s.get(0).totals().refusals();
    last.forEach(
        (reason, n) -> {
          long d = s.size() < 2 ? 0 : n - first.getOrDefault(reason, 0L);
          if (d > 0) {
            out.put(reason, d);
          }
        });
    return out;
  }
}

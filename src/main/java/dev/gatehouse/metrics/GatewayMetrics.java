package dev.gatehouse.metrics;

import dev.gatehouse.audit.AuditRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * The gateway's Prometheus metrics, fed from each request's audit record (so metrics, audit and
 * alerts count the same things) plus gauges over live state. Served only by the admin listener.
 * Meters are cached per label set, so recording a request costs a few map reads and allocates
 * nothing. Thread-safe.
 *
 * <p>Label values are bounded: {@code op} is one of the operation classes or {@code none}, {@code
 * key} a key id from the store or {@code none}, {@code status} an HTTP status, and {@code model}
 * appears only on tokens, which only requests the upstream answered have.
 */
public final class GatewayMetrics {

  /** Latency buckets, 1 ms to 10 minutes: LLM answers range from cache hits to long generations. */
  private static final Duration[] BUCKETS = {
    Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25),
    Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1),
    Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
        Duration.ofSeconds(60),
    Duration.ofSeconds(120), Duration.ofSeconds(300), Duration.ofSeconds(600)
  };

  /**
   * Audit lag buckets, 100 µs to 5 s: a write takes well under a millisecond, a background fsync
   * trails by up to 100 ms, and a stalled disk by seconds.
   */
  private static final Duration[] AUDIT_BUCKETS = {
    Duration.ofNanos(100_000),
    Duration.ofNanos(250_000),
    Duration.ofNanos(500_000),
    Duration.ofMillis(1),
    Duration.ofMillis(2),
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(75),
    Duration.ofMillis(100),
    Duration.ofMillis(150),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofSeconds(5)
  };

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  /** By op, then key, then status. */
  private final Map<String, Map<String, StatusCounters>> requests = new ConcurrentHashMap<>();

  /** By key, then model: the counters in and out. */
  private final Map<String, Map<String, Counter[]>> tokens = new ConcurrentHashMap<>();

  private final Map<String, Timer[]> latency = new ConcurrentHashMap<>();
  private final Map<String, Counter> refusals = new ConcurrentHashMap<>();
  private final AtomicInteger activeStreams = new AtomicInteger();
  private final Timer auditLag;
  private final Timer auditFsyncLag;
  private final Counter auditFailures;

  public GatewayMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    Gauge.builder("gatehouse_active_streams", activeStreams, AtomicInteger::get)
        .description(
            "Requests being relayed to the upstream now (waiting for or streaming its response)")
        .register(registry);
    auditLag =
        Timer.builder("gatehouse_audit_write_lag")
            .description(
                "Time from queueing an audit record to its acknowledgement: written to the file"
                    + " (audit.durability written or batch) or fsynced (fsync)")
            .serviceLevelObjectives(AUDIT_BUCKETS)
            .register(registry);
    auditFsyncLag =
        Timer.builder("gatehouse_audit_fsync_lag")
            .description(
                "Time from the oldest audit write an fsync covered to the end of that fsync: what a"
                    + " power loss could lose (at most about 100 ms with audit.durability written)")
            .serviceLevelObjectives(AUDIT_BUCKETS)
            .register(registry);
    auditFailures =
        Counter.builder("gatehouse_audit_write_failures")
            .description("Audit records that could not be written (their responses were aborted)")
            .register(registry);
  }

  /** The text exposition format, as served at {@code /metrics}. */
  public String scrape() {
    return registry.scrape();
  }

  /**
   * Counts a finished request from its audit record. Once a label set has been seen, this allocates
   * nothing: each lookup is a map read by a string the record already holds (no label object is
   * built), and a meter is registered only on a label set's first request.
   */
  public void record(AuditRecord r) {
    String op = r.op() == null ? "none" : r.op();
    String key = r.keyId() == null ? "none" : r.keyId();
    requestCounter(op, key, r.status()).increment();
    if (!"ok".equals(r.reason())) {
      Counter c = refusals.get(r.reason());
      if (c == null) {
        c =
            refusals.computeIfAbsent(
                r.reason(),
                reason ->
                    Counter.builder("gatehouse_refusals")
                        .description("Requests refused by the gateway, by stable reason code")
                        .tag("reason", reason)
                        .register(registry));
      }
      c.increment();
    }
    if (r.tokensIn() > 0 || r.tokensOut() > 0) {
      String model = r.model() == null ? "none" : r.model();
      Map<String, Counter[]> byModel = tokens.get(key);
      if (byModel == null) {
        byModel = tokens.computeIfAbsent(key, k -> new ConcurrentHashMap<>());
      }
      Counter[] c = byModel.get(model);
      if (c == null) {
        c =
            byModel.computeIfAbsent(
                model,
                m -> new Counter[] {tokenCounter(key, m, "in"), tokenCounter(key, m, "out")});
      }
      c[0].increment((double) Math.max(0, r.tokensIn()));
      c[1].increment((double) Math.max(0, r.tokensOut()));
    }
    Timer[] t = latency.get(op);
    if (t == null) {
      t = latency.computeIfAbsent(op, this::timers);
    }
    t[0].record(r.totalMicros(), TimeUnit.MICROSECONDS);
    if (r.ttfbMicros() > 0) {
      t[1].record(r.ttfbMicros(), TimeUnit.MICROSECONDS);
    }
    if (r.upstreamMicros() > 0) {
      t[2].record(r.upstreamMicros(), TimeUnit.MICROSECONDS);
    }
  }

  /** The requests counter of one label set, registered on its first use. */
  private Counter requestCounter(String op, String key, int status) {
    Map<String, StatusCounters> byKey = requests.get(op);
    if (byKey == null) {
      byKey = requests.computeIfAbsent(op, o -> new ConcurrentHashMap<>());
    }
    StatusCounters byStatus = byKey.get(key);
    if (byStatus == null) {
      byStatus = byKey.computeIfAbsent(key, k -> new StatusCounters());
    }
    Counter c = byStatus.get(status);
    if (c == null) {
      c =
          byStatus.add(
              status,
              () ->
                  Counter.builder("gatehouse_requests")
                      .description(
                          "Requests answered, refusals included, by operation class, HTTP status and key id")
                      .tags("op", op, "status", Integer.toString(status), "key", key)
                      .register(registry));
    }
    return c;
  }

  private Timer[] timers(String op) {
    return new Timer[] {
      timer(
          "gatehouse_request_duration", "Time from a request's arrival to its response's end", op),
      timer(
          "gatehouse_time_to_first_byte",
          "Time from a request's arrival to the upstream's response head",
          op),
      timer(
          "gatehouse_upstream_duration",
          "Time from sending a request upstream to the end of its response",
          op)
    };
  }

  /**
   * The requests counters of one operation and key, by status. A label set sees few statuses (200,
   * 401, 429, ...), so a short array scanned in order is cheaper than a map with boxed keys, and
   * reading it allocates nothing. Read without a lock (the arrays are replaced whole, never changed
   * in place); added to under its own lock.
   */
  private static final class StatusCounters {
    private volatile int[] statuses = new int[0];
    private volatile Counter[] counters = new Counter[0];

    @Nullable Counter get(int status) {
      // The two arrays agree below the shorter one's length, whichever versions are read.
      Counter[] c = counters;
      int[] s = statuses;
      for (int i = 0; i < Math.min(s.length, c.length); i++) {
        if (s[i] == status) {
          return c[i];
        }
      }
      return null;
    }

    synchronized Counter add(int status, Supplier<Counter> register) {
      Counter have = get(status);
      if (have != null) {
        return have;
      }
      Counter c = register.get();
      int n = statuses.length;
      Counter[] cs = Arrays.copyOf(counters, n + 1);
      cs[n] = c;
      int[] ss = Arrays.copyOf(statuses, n + 1);
      ss[n] = status;
      counters = cs;
      statuses = ss;
      return c;
    }
  }

  private Counter tokenCounter(String key, String model, String direction) {
    return Counter.builder("gatehouse_tokens")
        .description("Tokens, from the upstream's usage figures, by direction, key id and model")
        .tags("direction", direction, "key", key, "model", model)
        .register(registry);
  }

  private Timer timer(String name, String help, String op) {
    return Timer.builder(name)
        .description(help)
        .tag("op", op)
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
  }

  /**
   * The counts since start, summed from the meters: requests answered, those refused (by reason
   * too), tokens in and out, and streams open now. Reads only; costs the request path nothing (the
   * admin overview samples it once a second).
   */
  public record Totals(
      long requests, long refused, long tokens, int activeStreams, Map<String, Long> refusals) {}

  /** The counts as of now (see {@link Totals}). */
  public Totals totals() {
    long req = 0;
    for (Map<String, StatusCounters> byKey : requests.values()) {
      for (StatusCounters byStatus : byKey.values()) {
        for (Counter c : byStatus.counters) {
          req += (long) c.count();
        }
      }
    }
    Map<String, Long> byReason = new java.util.TreeMap<>();
    long refused = 0;
    for (Map.Entry<String, Counter> e : refusals.entrySet()) {
      long n = (long) e.getValue().count();
      byReason.put(e.getKey(), n);
      refused += n;
    }
    long tok = 0;
    for (Map<String, Counter[]> byModel : tokens.values()) {
      for (Counter[] c : byModel.values()) {
        tok += (long) (c[0].count() + c[1].count());
      }
    }
    return new Totals(
        req, refused, tok, activeStreams.get(), java.util.Collections.unmodifiableMap(byReason));
  }

  /** A request started relaying; pair with {@link #streamClosed}. */
  public void streamOpened() {
    activeStreams.incrementAndGet();
  }

  public void streamClosed() {
    activeStreams.decrementAndGet();
  }

  /** An audit record's time from queueing to fsync, or its failure. */
  public void auditWritten(long nanos, boolean failed) {
    if (failed) {
      auditFailures.increment();
    } else {
      auditLag.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** Counts an fsync of the audit file that trailed its oldest write by {@code nanos}. */
  public void auditFsynced(long nanos) {
    auditFsyncLag.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Registers a gauge read at scrape time. */
  public <T> void gauge(String name, String help, T state, ToDoubleFunction<T> value) {
    Gauge.builder(name, state, value).description(help).register(registry);
  }

  /** Registers a counter whose value is read at scrape time (a monotonic count kept elsewhere). */
  public <T> void counter(String name, String help, T state, ToDoubleFunction<T> value) {
    FunctionCounter.builder(name, state, value).description(help).register(registry);
  }

  /**
   * Registers a gauge of one label set ({@code tags}: name, value, name, value...), read at scrape
   * time. The label values must be bounded (upstream names from the config).
   */
  public <T> void gauge(
      String name, String help, T state, ToDoubleFunction<T> value, String... tags) {
    Gauge.builder(name, state, value).description(help).tags(tags).register(registry);
  }

  /** Registers a counter of one label set, read at scrape time, as {@link #gauge} with tags. */
  public <T> void counter(
      String name, String help, T state, ToDoubleFunction<T> value, String... tags) {
    FunctionCounter.builder(name, state, value).description(help).tags(tags).register(registry);
  }
}

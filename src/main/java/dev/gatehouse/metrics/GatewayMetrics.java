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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;

/**
 * The gateway's Prometheus metrics, fed from each request's audit record (so metrics, audit and
 * alerts count the same things) plus gauges over live state. Served only by the admin listener.
 * Meters are cached per label set, so recording a request costs a few map lookups. Thread-safe.
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

  private record RequestLabels(String op, int status, String key) {}

  private record TokenLabels(String key, String model) {}

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<RequestLabels, Counter> requests = new ConcurrentHashMap<>();
  private final Map<TokenLabels, Counter[]> tokens = new ConcurrentHashMap<>();
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

  /** Counts a finished request from its audit record. */
  public void record(AuditRecord r) {
    String op = r.op() == null ? "none" : r.op();
    String key = r.keyId() == null ? "none" : r.keyId();
    requests
        .computeIfAbsent(
            new RequestLabels(op, r.status(), key),
            l ->
                Counter.builder("gatehouse_requests")
                    .description(
                        "Requests answered, refusals included, by operation class, HTTP status and key id")
                    .tags("op", l.op(), "status", Integer.toString(l.status()), "key", l.key())
                    .register(registry))
        .increment();
    if (!"ok".equals(r.reason())) {
      refusals
          .computeIfAbsent(
              r.reason(),
              reason ->
                  Counter.builder("gatehouse_refusals")
                      .description("Requests refused by the gateway, by stable reason code")
                      .tag("reason", reason)
                      .register(registry))
          .increment();
    }
    if (r.tokensIn() > 0 || r.tokensOut() > 0) {
      Counter[] c =
          tokens.computeIfAbsent(
              new TokenLabels(key, r.model() == null ? "none" : r.model()),
              l -> new Counter[] {tokenCounter(l, "in"), tokenCounter(l, "out")});
      c[0].increment((double) Math.max(0, r.tokensIn()));
      c[1].increment((double) Math.max(0, r.tokensOut()));
    }
    Timer[] t =
        latency.computeIfAbsent(
            op,
            o ->
                new Timer[] {
                  timer(
                      "gatehouse_request_duration",
                      "Time from a request's arrival to its response's end",
                      o),
                  timer(
                      "gatehouse_time_to_first_byte",
                      "Time from a request's arrival to the upstream's response head",
                      o),
                  timer(
                      "gatehouse_upstream_duration",
                      "Time from sending a request upstream to the end of its response",
                      o)
                });
    t[0].record(r.totalMicros(), TimeUnit.MICROSECONDS);
    if (r.ttfbMicros() > 0) {
      t[1].record(r.ttfbMicros(), TimeUnit.MICROSECONDS);
    }
    if (r.upstreamMicros() > 0) {
      t[2].record(r.upstreamMicros(), TimeUnit.MICROSECONDS);
    }
  }

  private Counter tokenCounter(TokenLabels l, String direction) {
    return Counter.builder("gatehouse_tokens")
        .description("Tokens, from the upstream's usage figures, by direction, key id and model")
        .tags("direction", direction, "key", l.key(), "model", l.model())
        .register(registry);
  }

  private Timer timer(String name, String help, String op) {
    return Timer.builder(name)
        .description(help)
        .tag("op", op)
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
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
}

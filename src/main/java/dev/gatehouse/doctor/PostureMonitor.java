package dev.gatehouse.doctor;

import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The periodic posture check {@code serve} runs ({@code posture.interval}): the exposure part of
 * {@link Doctor} on one worker thread of its own, never an event loop. A finding at or above high
 * that the previous run did not have is handed to the sink once (the alert {@code
 * posture_finding}); one that persists is not raised again, one that goes away and comes back is.
 * Each run sends only doctor's read-only probes to this machine's own addresses, and no request
 * after {@code runTimeout}: the probe is wrapped so that it refuses once the run's deadline has
 * passed, which bounds a run by the deadline plus one request timeout.
 *
 * <p>Thread-safety: the schedule runs one run at a time; {@link #runOnce} may also be called by
 * tests, but not concurrently with the schedule.
 */
public final class PostureMonitor implements AutoCloseable {

  /**
   * The findings the periodic check reports: exposure and advisories, not configuration hygiene.
   */
  static final Set<String> EXPOSURE =
      Set.of(
          Rule.EXPOSED_WILDCARD.id(),
          Rule.EXPOSED_LAN.id(),
          Rule.GATEWAY_BYPASS.id(),
          Rule.CORS_WILDCARD.id(),
          Rule.OLLAMA_HOST_EXPOSED.id(),
          Rule.UNAUTH_INFERENCE.id(),
          Rule.UNAUTH_EMBEDDINGS.id(),
          Rule.UNAUTH_MODELS_READ.id(),
          Rule.UNAUTH_MODELS_INSPECT.id(),
          Rule.UNAUTH_MODELS_MANAGE.id(),
          Rule.UNAUTH_ACCOUNT.id(),
          Rule.UNAUTH_CLOUD.id());

  /** The longest wait before the first run. */
  static final Duration FIRST_RUN = Duration.ofSeconds(30);

  private static final Logger LOG = Logger.getLogger("gatehouse.posture");

  /**
   * What one run needs.
   *
   * @param inputs doctor's inputs for a run, made fresh each time (the advisories may have been
   *     updated)
   * @param http how probes are sent; wrapped with the run's deadline
   */
  public record Run(Supplier<Doctor.Inputs> inputs, HttpProbe http) {}

  private final Run run;
  private final AutoCloseable resources;
  private final Duration interval;
  private final Duration runTimeout;
  private final Consumer<Finding> sink;
  private final Clock clock;
  private final ScheduledExecutorService worker;
  private final java.util.concurrent.atomic.AtomicLong runs =
      new java.util.concurrent.atomic.AtomicLong();
  private Map<String, Finding> previous = Map.of();

  /**
   * @param sink receives each new finding at or above high; called on the worker thread
   */
  public PostureMonitor(
      Run run, Duration interval, Duration runTimeout, Consumer<Finding> sink, Clock clock) {
    this(run, interval, runTimeout, sink, clock, () -> {});
  }

  private PostureMonitor(
      Run run,
      Duration interval,
      Duration runTimeout,
      Consumer<Finding> sink,
      Clock clock,
      AutoCloseable resources) {
    this.resources = resources;
    if (interval.isZero()
        || interval.isNegative()
        || runTimeout.isZero()
        || runTimeout.isNegative()) {
      throw new IllegalArgumentException(
          "posture.interval: "
              + interval
              + ", posture.run_timeout: "
              + runTimeout
              + " (expected: > 0)");
    }
    this.run = run;
    this.interval = interval;
    this.runTimeout = runTimeout;
    this.sink = sink;
    this.clock = clock;
    this.worker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "gatehouse-posture");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Starts the schedule: a first run after {@link #FIRST_RUN} (or the interval, if shorter), so
   * that start-up is not slowed, then one every interval after the previous ended.
   */
  public PostureMonitor start() {
    long first = Math.min(interval.toMillis(), FIRST_RUN.toMillis());
    worker.scheduleWithFixedDelay(
        this::runSafely, first, interval.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  private void runSafely() {
    try {
      runOnce();
    } catch (RuntimeException e) {
      // A failed run must not end the schedule; the next one starts afresh.
      LOG.log(Level.WARNING, "posture run failed: " + e.getMessage(), e);
    }
  }

  /** One run; returns the findings it raised (new ones at or above high). */
  public List<Finding> runOnce() {
    Instant deadline = clock.instant().plus(runTimeout);
    HttpProbe bounded = new Deadline(run.http(), clock, deadline);
    Doctor.Inputs in = run.inputs().get();
    Report r =
        Doctor.run(
            new Doctor.Inputs(
                in.procRoot(),
                in.systemdDirs(),
                in.env(),
                in.ports(),
                in.config(),
                in.configFile(),
                in.configProblems(),
                in.keys(),
                in.advisories(),
                bounded,
                in.clock(),
                in.toolVersion(),
                Severity.HIGH,
                in.insideGateway()));
    Map<String, Finding> current = new LinkedHashMap<>();
    for (Finding f : r.findings()) {
      boolean exposure = EXPOSURE.contains(f.id()) || f.id().startsWith(Rule.ADVISORY_PREFIX);
      if (exposure && f.severity().atLeast(Severity.HIGH)) {
        current.putIfAbsent(f.id() + " " + f.subject(), f);
      }
    }
    List<Finding> raised =
        current.entrySet().stream()
            .filter(e -> !previous.containsKey(e.getKey()))
            .map(Map.Entry::getValue)
            .toList();
    previous = Map.copyOf(current);
    boolean late = clock.instant().isAfter(deadline);
    LOG.info(
        "event=posture.run findings_high="
            + current.size()
            + " new="
            + raised.size()
            + (late ? " (stopped at posture.run_timeout)" : ""));
    for (Finding f : raised) {
      sink.accept(f);
    }
    runs.incrementAndGet();
    return raised;
  }

  /**
   * The monitor {@code serve} starts: this machine's {@code /proc} and systemd units, the usual
   * model-server ports plus Gatehouse's own, the advisories of the data directory (re-read each
   * run, so an {@code advisories update} takes effect), and no key store (the periodic check judges
   * exposure; {@code gatehouse doctor} audits keys).
   */
  public static PostureMonitor forServe(
      dev.gatehouse.config.GatehouseConfig config,
      java.nio.file.Path configFile,
      Map<String, String> env,
      Consumer<Finding> sink) {
    java.nio.file.Path file =
        configFile != null && java.nio.file.Files.exists(configFile) ? configFile : null;
    JdkHttpProbe http = new JdkHttpProbe(Duration.ofSeconds(3), "gatehouse-posture");
    Clock clock = Clock.systemUTC();
    ConfigAudit.KeySource noKeys =
        new ConfigAudit.KeySource() {
          @Override
          public boolean exists() {
            return false;
          }

          @Override
          public List<dev.gatehouse.store.KeyRecord> keys() {
            return List.of();
          }

          @Override
          public String describe() {
            return "not read by the periodic check";
          }
        };
    Supplier<Doctor.Inputs> inputs =
        () -> Doctor.Inputs.inGateway(config, file, env, noKeys, http, clock, "serve");
    return new PostureMonitor(
        new Run(inputs, http),
        config.posture().interval(),
        config.posture().runTimeout(),
        sink,
        clock,
        http);
  }

  /** Runs completed since start. */
  public long runs() {
    return runs.get();
  }

  @Override
  public void close() {
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
      resources.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.fine("posture: closing the probe client: " + e.getMessage());
    }
  }

  /** Refuses every request once the run's deadline has passed. */
  private record Deadline(HttpProbe http, Clock clock, Instant deadline) implements HttpProbe {
    @Override
    public Response send(URI base, Request request) throws IOException {
      if (clock.instant().isAfter(deadline)) {
        throw new IOException("posture run past posture.run_timeout; not sent");
      }
      return http.send(base, request);
    }
  }
}

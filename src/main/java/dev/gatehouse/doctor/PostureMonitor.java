package dev.gatehouse.doctor;

import java.io.IOException;
import java.io.UncheckedIOException;
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
import org.jspecify.annotations.Nullable;

/**
 * The periodic posture check {@code serve} runs ({@code posture.interval}): the exposure part of
 * {@link Doctor} on one worker thread of its own, never an event loop. A finding at or above high
 * that the previous run did not have is handed to the sink once (the alert {@code
 * posture_finding}); one that persists is not raised again, one that goes away and comes back is.
 * Each run sends only doctor's read-only probes to this machine's own addresses, and no request
 * after {@code runTimeout}: the probe is wrapped so that it refuses once the run's deadline has
 * passed, which bounds a run by the deadline plus one request timeout.
 *
 * <p>What a run does is a {@link Check}: {@link Run} runs doctor in this JVM (the tests' way);
 * {@code serve} runs it in a child JVM of its own ({@code cli/PostureChild}), so that the classes,
 * compiled code and heap pages a run touches (the JDK's HTTP client and TLS, doctor's rules: about
 * 850 classes, 17 MB allocated and 23 MiB of RSS that stayed in the gateway) leave with the child.
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
   * A run in this JVM.
   *
   * @param inputs doctor's inputs for a run, made fresh each time (the advisories may have been
   *     updated); their probe is wrapped with the run's deadline
   */
  public record Run(Supplier<Doctor.Inputs> inputs) implements Check {
    @Override
    public List<Finding> findings(Clock clock, Instant deadline) {
      return Doctor.run(bounded(inputs.get(), clock, deadline)).findings();
    }
  }

  /** One posture run: the findings doctor reports, with no request sent after {@code deadline}. */
  public interface Check {
    List<Finding> findings(Clock clock, Instant deadline) throws IOException;
  }

  private final Check check;
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
      Check check, Duration interval, Duration runTimeout, Consumer<Finding> sink, Clock clock) {
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
    this.check = check;
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
    } catch (UncheckedIOException e) {
      // A failed run must not end the schedule; the next one starts afresh. Its reason (a child
      // JVM that failed or overran) says what happened; a stack trace would not add to it.
      IOException cause = e.getCause();
      LOG.warning("event=posture.run_failed " + (cause == null ? e : cause).getMessage());
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "posture run failed: " + e.getMessage(), e);
    }
  }

  /** One run; returns the findings it raised (new ones at or above high). */
  public List<Finding> runOnce() {
    Instant deadline = clock.instant().plus(runTimeout);
    List<Finding> found;
    try {
      found = check.findings(clock, deadline);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, Finding> current = new LinkedHashMap<>();
    for (Finding f : found) {
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
   * Doctor's inputs for one periodic run: this machine's {@code /proc} and systemd units, the usual
   * model-server ports plus Gatehouse's own, the advisories of the data directory (re-read each
   * run, so an {@code advisories update} takes effect), and no key store (the periodic check judges
   * exposure; {@code gatehouse doctor} audits keys).
   */
  public static Doctor.Inputs inputsForServe(
      dev.gatehouse.config.GatehouseConfig config,
      java.nio.file.@Nullable Path configFile,
      Map<String, String> env,
      HttpProbe http,
      Clock clock,
      String toolVersion) {
    java.nio.file.Path file =
        configFile != null && java.nio.file.Files.exists(configFile) ? configFile : null;
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
    return Doctor.Inputs.inGateway(config, file, env, noKeys, http, clock, toolVersion);
  }

  /** {@code in} with its probe refusing every request once {@code deadline} has passed. */
  public static Doctor.Inputs bounded(Doctor.Inputs in, Clock clock, Instant deadline) {
    HttpProbe bounded = new Deadline(in.http(), clock, deadline);
    return new Doctor.Inputs(
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
        in.insideGateway());
  }

  /** Runs completed since start. */
  public long runs() {
    return runs.get();
  }

  @Override
  public void close() {
    worker.shutdownNow();
    try {
      worker.awaitTermination(
          5, TimeUnit.SECONDS); // a run in a child JVM stops it when interrupted
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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

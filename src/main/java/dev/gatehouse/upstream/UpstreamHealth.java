package dev.gatehouse.upstream;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The upstream's health: checked now and then with the upstream's one probe (a {@code GET /}): any
 * HTTP answer means up; no connection, or no answer within the check timeout, means down. A change
 * (and a first check that finds it down) is logged and handed to {@code onChange} with a detail.
 * Read by the metrics; feeds the {@code upstream_down} and {@code upstream_up} alert events;
 * answers readiness. Thread-safe.
 *
 * <p>Readiness and the periodic check are one probe, not two: {@code /readyz} is answered from the
 * last check while it is under a second old (so a readiness poller cannot turn into load on the
 * model server), and otherwise runs a check, whose answer then also moves the state, the gauges and
 * the alerts. A check that comes while one runs waits for that one.
 */
public final class UpstreamHealth implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse.upstream");

  /** How long a check's answer stands for readiness. */
  private static final long FRESH_NANOS = 1_000_000_000L;

  private final Vertx vertx;
  private final String upstream;
  private final BiConsumer<Boolean, String> onChange;
  private final OneAtATime<Boolean> checks;
  private volatile int state = -1; // -1 unknown, 0 down, 1 up
  private volatile long lastCheckMicros;
  private volatile long checkedAtNanos; // when the last check ended; 0: none yet
  private volatile long checkedAtMillis; // the same, on the wall clock, for the admin API
  private volatile long timer = -1;
  private volatile boolean closed;

  /**
   * @param upstream the upstream's URL, for the log
   * @param probe the upstream's probe: succeeds with a detail ("HTTP 200") when it answered
   * @param onChange called with (up, detail) on every change of state; must not block
   */
  UpstreamHealth(
      Vertx vertx,
      String upstream,
      Supplier<Future<String>> probe,
      BiConsumer<Boolean, String> onChange) {
    this.vertx = vertx;
    this.upstream = upstream;
    this.onChange = onChange;
    this.checks =
        new OneAtATime<>(
            () -> {
              long t0 = System.nanoTime();
              return probe
                  .get()
                  .transform(
                      ar ->
                          Future.succeededFuture(
                              record(
                                  ar.succeeded(),
                                  ar.succeeded()
                                      ? ar.result()
                                      : String.valueOf(ar.cause().getMessage()),
                                  t0)));
            });
  }

  /** Checks now, then every {@code interval}. */
  public void start(Duration interval) {
    check();
    timer = vertx.setPeriodic(interval.toMillis(), id -> check());
  }

  /** 1 when the last check got an answer, 0 when it did not, -1 before the first check ends. */
  public int state() {
    return state;
  }

  /** When the last check ended, or null before the first. */
  public java.time.@Nullable Instant checkedAt() {
    long at = checkedAtMillis;
    return at == 0 ? null : java.time.Instant.ofEpochMilli(at);
  }

  /** How long the last check took, in microseconds. */
  public long lastCheckMicros() {
    return lastCheckMicros;
  }

  /** Runs one check (or joins the one running); completes with whether the upstream answered. */
  public Future<Boolean> check() {
    return checks.get();
  }

  /** Whether the upstream is up, from a check under a second old, else from a new one. */
  public Future<Boolean> ready() {
    long at = checkedAtNanos;
    if (at != 0 && System.nanoTime() - at < FRESH_NANOS) {
      return Future.succeededFuture(state == 1);
    }
    return check();
  }

  private boolean record(boolean up, String detail, long t0) {
    if (closed) {
      return up; // a check cut short by the gateway's own shutdown says nothing of the upstream
    }
    int now = up ? 1 : 0;
    int before = state;
    state = now;
    long ended = System.nanoTime();
    lastCheckMicros = (ended - t0) / 1000;
    checkedAtNanos = ended == 0 ? 1 : ended;
    checkedAtMillis = System.currentTimeMillis();
    if (now == before || (before == -1 && now == 1)) {
      return up;
    }
    if (now == 1) {
      LOG.info("event=upstream.up upstream=" + upstream + " (" + detail + ")");
    } else {
      LOG.warning("event=upstream.down upstream=" + upstream + " (" + detail + ")");
    }
    try {
      onChange.accept(now == 1, detail);
    } catch (RuntimeException e) { // the alert's failure is not the upstream's: the state stands
      LOG.warning("event=upstream.alert_failed reason=\"" + e + "\"");
    }
    return up;
  }

  /** Stops the periodic check; a check still running when it closes changes nothing (no alert). */
  @Override
  public void close() {
    closed = true;
    long t = timer;
    if (t >= 0) {
      vertx.cancelTimer(t);
    }
  }
}

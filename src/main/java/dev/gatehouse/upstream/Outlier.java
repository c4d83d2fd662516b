package dev.gatehouse.upstream;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Passive outlier ejection of one upstream: after {@code routing.eject_after} consecutive failures
 * (no connection, a 5xx or no answer before the response started, a death mid-stream) it is taken
 * out of rotation for {@code routing.eject_base}, doubled for each further ejection in a row up to
 * {@code routing.eject_max}; once that time is up a health check runs, and the first check that
 * passes after it re-admits the upstream. An answer resets the count. Thread-safe.
 *
 * <p>Why a health check and not the next request: a request sent to test an upstream that may still
 * be dead is a client's request put at risk; the check costs nobody anything.
 */
public final class Outlier implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse.upstream");

  private final Vertx vertx;
  private final String name;
  private final int ejectAfter;
  private final long baseMillis;
  private final long maxMillis;
  private final Supplier<Future<Boolean>> check;

  private int consecutive; // guarded by this
  private int inARow; // ejections since the last answer; guarded by this
  private long until; // System.nanoTime() the ejection ends at; guarded by this
  private volatile boolean ejected;
  private volatile long timer = -1;
  private volatile boolean closed;

  Outlier(
      Vertx vertx,
      String name,
      int ejectAfter,
      Duration base,
      Duration max,
      Supplier<Future<Boolean>> check) {
    this.vertx = vertx;
    this.name = name;
    this.ejectAfter = ejectAfter;
    this.baseMillis = base.toMillis();
    this.maxMillis = Math.max(base.toMillis(), max.toMillis());
    this.check = check;
  }

  /** Whether it is out of rotation now. */
  public boolean ejected() {
    return ejected;
  }

  /** Failures in a row since the last answer. */
  public synchronized int consecutiveFailures() {
    return consecutive;
  }

  /** The upstream answered a request: the count starts over. */
  void succeeded() {
    synchronized (this) {
      if (consecutive == 0 && inARow == 0) {
        return;
      }
      consecutive = 0;
      if (!ejected) {
        inARow = 0;
      }
    }
  }

  /** The upstream failed a request; the last failure of {@code ejectAfter} in a row ejects it. */
  void failed(String why) {
    long millis;
    synchronized (this) {
      consecutive++;
      if (ejected || consecutive < ejectAfter) {
        return;
      }
      inARow++;
      millis = Math.min(maxMillis, baseMillis << Math.min(20, inARow - 1));
      until = System.nanoTime() + millis * 1_000_000;
      ejected = true;
    }
    LOG.warning(
        "event=upstream.ejected upstream="
            + name
            + " failures="
            + ejectAfter
            + " for_ms="
            + millis
            + " reason=\""
            + why
            + "\"");
    retryAfter(millis);
  }

  /** Runs a health check after {@code millis}, and again every base period while still ejected. */
  private void retryAfter(long millis) {
    if (closed) {
      return;
    }
    timer =
        vertx.setTimer(
            Math.max(1, millis),
            id ->
                check
                    .get()
                    .onComplete(
                        ar -> {
                          if (ejected) {
                            retryAfter(baseMillis);
                          }
                        }));
  }

  /**
   * A health check passed: re-admits the upstream if its ejection's time is up. A check that comes
   * sooner changes nothing, so a flapping upstream still serves its whole ejection.
   */
  void checkPassed() {
    synchronized (this) {
      if (!ejected || System.nanoTime() - until < 0) {
        return;
      }
      ejected = false;
      consecutive = 0;
    }
    LOG.info("event=upstream.readmitted upstream=" + name);
  }

  @Override
  public void close() {
    closed = true;
    long t = timer;
    if (t >= 0) {
      vertx.cancelTimer(t);
    }
  }
}

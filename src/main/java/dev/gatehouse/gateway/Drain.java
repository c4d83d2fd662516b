package dev.gatehouse.gateway;

import dev.gatehouse.exchange.Readiness;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import java.util.logging.Logger;

/**
 * The gateway's drain on SIGTERM, and the part of {@code /readyz} that reports it: once begun,
 * {@code /readyz} answers 503 {@code {"status":"draining"}} wherever a request still reaches it.
 *
 * <p>In order: the public listener stops accepting (its sockets are unbound, so a new connection is
 * refused and the load balancer sends it elsewhere); each open connection is shut down by Vert.x:
 * an idle one at once, a busy one once its response has ended (HTTP/1.1; HTTP/2 gets a GOAWAY and
 * its open streams run on). Requests and streams in flight run on for up to {@code shutdown.grace}.
 * At the grace, the upstream's connections are closed: each stream still running then ends the way
 * a stream whose upstream dies does ({@code proxy/Relay}): a final error line in its API's dialect
 * (an NDJSON error object, an SSE error event) and a clean end of the chunked body, and its audit
 * record says so; a plain body, which cannot carry an error after its head, is cut. {@link
 * #END_MILLIS} later whatever is still open is closed. The caller then closes the gateway, which
 * writes the audit records and flushes usage.
 *
 * <p>One per gateway; thread-safe. A second call while one runs returns at once.
 */
final class Drain implements Readiness {

  private static final Logger LOG = Logger.getLogger("gatehouse");

  /**
   * How long the streams ended at the grace have to write their last line and audit record (which
   * each response's end waits for) before their connections are closed regardless.
   */
  static final long END_MILLIS = 2_000;

  private final AtomicBoolean begun = new AtomicBoolean();

  /** Closes the upstream's connections: what ends the streams still running at the grace. */
  private final Runnable endStreams;

  Drain(Runnable endStreams) {
    this.endStreams = endStreams;
  }

  @Override
  public String name() {
    return "draining";
  }

  @Override
  public Future<Boolean> ready() {
    return Future.succeededFuture(!begun.get());
  }

  @Override
  public String notReadyStatus() {
    return "draining";
  }

  /** True once a drain has begun; it never ends but with the process. */
  boolean begun() {
    return begun.get();
  }

  /**
   * Drains the listener instances within {@code grace}; blocks until every connection has closed or
   * {@link #END_MILLIS} after the grace. Never on an event loop.
   *
   * @return true when every request had finished by itself within the grace
   */
  boolean run(List<GatewayVerticle> instances, IntSupplier openConnections, Duration grace) {
    if (!begun.compareAndSet(false, true)) {
      return false;
    }
    long graceMillis = Math.max(0, grace.toMillis());
    long t0 = System.nanoTime();
    Future<?> closed =
        Future.join(instances.stream().map(v -> v.shutdown(graceMillis + END_MILLIS)).toList());
    LOG.info(
        "draining: the listener accepts no more connections; "
            + openConnections.getAsInt()
            + " open, up to "
            + grace
            + " for requests in flight (shutdown.grace)");
    if (waitFor(closed, graceMillis)) {
      LOG.info("drained in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
      return true;
    }
    int left = openConnections.getAsInt();
    LOG.warning(
        "shutdown.grace over with "
            + left
            + " connection(s) still busy: ending their streams with an error");
    endStreams.run();
    if (!waitFor(closed, END_MILLIS + 1_000)) {
      LOG.warning("connections still open after the drain; closing them");
    }
    return false;
  }

  /** Whether {@code f} completed (either way) within {@code millis}. */
  private static boolean waitFor(Future<?> f, long millis) {
    try {
      f.toCompletionStage().toCompletableFuture().get(millis, TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException e) {
      return true; // a shutdown that failed has still ended: the close that follows is what counts
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}

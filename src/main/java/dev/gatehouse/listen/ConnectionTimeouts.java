package dev.gatehouse.listen;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Closes connections that hold a slot without doing work: a new connection must complete its first
 * request head within {@code timeouts.header_read}, and an idle keep-alive connection its next one
 * within {@code timeouts.keepalive}. A connection with a request in flight is never timed out here,
 * so a long generation keeps streaming.
 *
 * <p>Requests only update counters: each idle connection has one timer, re-armed when it fires, so
 * the request path never pays for cancelling timers. A timer that fires while a request is in
 * flight is not re-armed (a long stream holds no timer) until that request ends. One per event
 * loop; not thread-safe.
 */
public final class ConnectionTimeouts {

  private final Vertx vertx;
  private final long headerReadNanos;
  private final long keepaliveNanos;
  private final Map<HttpConnection, State> states = new HashMap<>();

  private final class State {
    final HttpConnection conn;
    int inFlight;
    boolean servedOne;
    boolean closed;

    /** When the connection last became idle (opened, or its last response ended). */
    long idleSince = System.nanoTime();

    long timer = -1;

    State(HttpConnection conn) {
      this.conn = conn;
    }

    void arm(long nanos) {
      timer = vertx.setTimer(Math.max(1, nanos / 1_000_000), id -> fire());
    }

    private void fire() {
      timer = -1;
      if (inFlight > 0) {
        return; // busy: armed again when its last request ends (idle)
      }
      long limit = servedOne ? keepaliveNanos : headerReadNanos;
      long idle = System.nanoTime() - idleSince;
      if (idle >= limit) {
        StrictFraming.headTimedOut(conn); // a head begun and not finished is a request refused
        conn.close();
      } else {
        arm(limit - idle);
      }
    }
  }

  public ConnectionTimeouts(Vertx vertx, long headerReadMillis, long keepaliveMillis) {
    this.vertx = vertx;
    this.headerReadNanos = headerReadMillis * 1_000_000;
    this.keepaliveNanos = keepaliveMillis * 1_000_000;
  }

  /** The server's connection handler: starts the first-request clock. */
  public void onConnection(HttpConnection conn) {
    onConnection(conn, null);
  }

  /**
   * As {@link #onConnection(HttpConnection)}, also running {@code onClose} when the connection
   * closes (a connection has one close handler, and this class owns it).
   */
  public void onConnection(HttpConnection conn, @Nullable Runnable onClose) {
    State s = new State(conn);
    states.put(conn, s);
    s.arm(headerReadNanos);
    conn.closeHandler(
        v -> {
          s.closed = true;
          vertx.cancelTimer(s.timer);
          states.remove(conn);
          if (onClose != null) {
            onClose.run();
          }
        });
  }

  /** Wraps the request handler: a request in flight stops the clock until its response ends. */
  public Handler<HttpServerRequest> wrap(Handler<HttpServerRequest> next) {
    return req -> {
      State s = states.get(req.connection());
      if (s != null) {
        s.inFlight++;
        s.servedOne = true;
        req.response()
            .bodyEndHandler(
                v -> {
                  if (--s.inFlight == 0) {
                    s.idleSince = System.nanoTime();
                    if (s.timer == -1 && !s.closed) {
                      s.arm(keepaliveNanos);
                    }
                  }
                });
      }
      next.handle(req);
    };
  }
}

package dev.gatehouse.listen;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.HashMap;
import java.util.Map;

/**
 * Closes connections that hold a slot without doing work: a new connection must complete its
 * first request head within {@code timeouts.header_read}, and an idle keep-alive connection its
 * next one within {@code timeouts.keepalive}. A connection with a request in flight is never
 * timed out here, so a long generation keeps streaming. One per event loop; not thread-safe.
 */
public final class ConnectionTimeouts {

  private final Vertx vertx;
  private final long headerReadMillis;
  private final long keepaliveMillis;
  private final Map<HttpConnection, State> states = new HashMap<>();

  private final class State {
    final HttpConnection conn;
    int inFlight;
    long timer = -1;

    State(HttpConnection conn) {
      this.conn = conn;
    }

    void arm(long millis) {
      cancel();
      timer = vertx.setTimer(millis, id -> conn.close());
    }

    void cancel() {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
    }
  }

  public ConnectionTimeouts(Vertx vertx, long headerReadMillis, long keepaliveMillis) {
    this.vertx = vertx;
    this.headerReadMillis = headerReadMillis;
    this.keepaliveMillis = keepaliveMillis;
  }

  /** The server's connection handler: starts the first-request clock. */
  public void onConnection(HttpConnection conn) {
    State s = new State(conn);
    states.put(conn, s);
    s.arm(headerReadMillis);
    conn.closeHandler(
        v -> {
          s.cancel();
          states.remove(conn);
        });
  }

  /** Wraps the request handler: a request in flight stops the clock until its response ends. */
  public Handler<HttpServerRequest> wrap(Handler<HttpServerRequest> next) {
    return req -> {
      State s = states.get(req.connection());
      if (s != null) {
        s.inFlight++;
        s.cancel();
        req.response().bodyEndHandler(v -> {
          if (--s.inFlight == 0) {
            s.arm(keepaliveMillis);
          }
        });
      }
      next.handle(req);
    };
  }
}

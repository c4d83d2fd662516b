package dev.gatehouse.abuse;

import dev.gatehouse.exchange.Exchange;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

/**
 * Reads at most {@code probes.body_peek_bytes} of the body of a request refused for lack of a valid
 * key, for at most {@code probes.body_peek_timeout}, so that probe detection can see what scanners
 * put in their bodies (a registry URL to pull, a "hello" to a vendor model id, the nmap 404 model).
 * The request is refused all the same, with the same answer; the prefix goes to {@link
 * Exchange#bodyPeek()} and to {@link ProbeDetector} only, and is never forwarded or logged.
 *
 * <p>Non-blocking: a timer on the request's event loop bounds the wait, and a body that is still
 * arriving when the peek ends is left unread (the refusal then closes the connection). A request
 * that waits for {@code 100 Continue} is not peeked: asking for its body would change the answer.
 * Stateless apart from its two bounds; thread-safe.
 */
public final class BodyPeek {

  private final int maxBytes;
  private final long timeoutMillis;

  /**
   * @param maxBytes 0 turns peeking off
   */
  public BodyPeek(int maxBytes, long timeoutMillis) {
    this.maxBytes = Math.max(0, maxBytes);
    this.timeoutMillis = Math.max(1, timeoutMillis);
  }

  /** Completes (never fails) once the prefix is read, the body ended, or the time is up. */
  public Future<Void> peek(Exchange x) {
    HttpServerRequest req = x.request();
    Context ctx = Vertx.currentContext();
    if (maxBytes == 0
        || ctx == null
        || req.isEnded()
        || !hasBody(req)
        || "100-continue".equalsIgnoreCase(req.getHeader("Expect"))) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    Buffer prefix = Buffer.buffer(Math.min(maxBytes, 1024));
    boolean[] over = new boolean[1];
    long[] timer = new long[1];
    Runnable finish =
        () -> {
          if (over[0]) {
            return;
          }
          over[0] = true;
          ctx.owner().cancelTimer(timer[0]);
          x.bodyPeeked(prefix.getBytes());
          done.tryComplete();
        };
    timer[0] = ctx.owner().setTimer(timeoutMillis, id -> finish.run());
    req.handler(
        chunk -> {
          if (over[0]) {
            return; // past the peek: dropped until the refusal closes the connection
          }
          int room = maxBytes - prefix.length();
          prefix.appendBuffer(chunk.length() <= room ? chunk : chunk.getBuffer(0, room));
          if (prefix.length() >= maxBytes) {
            finish.run();
          }
        });
    req.endHandler(v -> finish.run());
    req.exceptionHandler(e -> finish.run());
    req.resume(); // a stage that waited may have paused it (limit/Limiter)
    return done.future();
  }

  private static boolean hasBody(HttpServerRequest req) {
    String cl = req.getHeader("Content-Length");
    return (cl != null && !cl.trim().equals("0")) || req.getHeader("Transfer-Encoding") != null;
  }
}

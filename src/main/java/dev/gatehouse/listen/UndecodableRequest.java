package dev.gatehouse.listen;

import dev.gatehouse.exchange.Dialect;
import dev.gatehouse.exchange.FramingRefusal;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.RequestIds;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * Answers a request that Netty's decoder could not read, in Gatehouse's own format (a JSON problem
 * with a request id, {@code Connection: close}) rather than Vert.x's empty default. Behind {@link
 * StrictFraming}, which hands the decoder only heads it has checked whole against the decoder's own
 * limits, this is not expected to run on HTTP/1.x; it is the answer if the two ever disagree, so
 * that a disagreement is not a fingerprint of the foundation either.
 */
public final class UndecodableRequest {

  private UndecodableRequest() {}

  /**
   * The problem for the decoder's failure: its size limits (414, 431), else a malformed request.
   */
  static Problem problemOf(HttpServerRequest req) {
    Throwable cause = req.decoderResult() == null ? null : req.decoderResult().cause();
    if (cause instanceof TooLongHttpLineException) {
      return Problem.TARGET_TOO_LONG;
    }
    if (cause instanceof TooLongHttpHeaderException) {
      return Problem.HEADERS_TOO_MANY;
    }
    return Problem.FRAMING_INVALID;
  }

  /**
   * Answers {@code req} and closes its connection once the answer is written; returns the refusal,
   * for the account stage.
   */
  public static FramingRefusal answer(HttpServerRequest req) {
    Problem p = problemOf(req);
    String id = RequestIds.next();
    io.vertx.core.buffer.Buffer body =
        io.vertx.core.buffer.Buffer.buffer(Dialect.OLLAMA.errorBody(p, p.message, id));
    HttpServerResponse r = req.response();
    r.setStatusCode(p.status)
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .putHeader("Content-Length", Integer.toString(body.length())) // not Vert.x's lower case
        .putHeader("Cache-Control", "no-store")
        .putHeader("X-Request-Id", id)
        .putHeader("Connection", "close")
        .end(body)
        .onComplete(done -> req.connection().close());
    Throwable cause = req.decoderResult() == null ? null : req.decoderResult().cause();
    // the decoder's exception by name only: its message may quote the bytes it refused
    String why =
        "the HTTP decoder refused the request"
            + (cause == null ? "" : " (" + cause.getClass().getSimpleName() + ")");
    return new FramingRefusal(id, p.status, p, why, null, null, 0, body.length(), true, false);
  }
}

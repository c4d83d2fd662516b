package dev.gatehouse.listen;

import dev.gatehouse.exchange.BodyFields;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.exchange.Route;
import dev.gatehouse.http1.Http1Grammar;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Reads a request body within its size limit and checks its form before anything is forwarded: JSON
 * endpoints need exactly one JSON object (duplicate keys, keys that differ only in case, and
 * trailing content refused, since parsers disagree on which one wins), multipart endpoints need a
 * parseable form. A body over the limit is refused as soon as its declared length or its running
 * total says so. Thread-safe.
 */
public final class BodyReader {

  private final long maxBody;
  private final long maxBlob;
  private final BodyMemory memory;

  /**
   * @param memory the gateway's bound on bodies held at once, shared by every event loop
   */
  public BodyReader(long maxBody, long maxBlob, BodyMemory memory) {
    this.maxBody = maxBody;
    this.maxBlob = maxBlob;
    this.memory = memory;
  }

  /** Reads and checks the body; completes with null when the request may go on. */
  public Future<Rejection> read(Exchange x) {
    HttpServerRequest req = x.request();
    Route.Body kind = Objects.requireNonNull(x.route(), "authorize.route ran").body();
    long declared = declaredLength(req);
    if (declared == -2) {
      return Future.succeededFuture(
          Rejection.of(Problem.BODY_INVALID_JSON, "invalid Content-Length"));
    }
    if (kind == Route.Body.STREAM) {
      if (req.method().name().equals("HEAD")) {
        return Future.succeededFuture(null);
      }
      if (declared < 0) {
        return Future.succeededFuture(Rejection.of(Problem.LENGTH_REQUIRED));
      }
      if (declared > maxBlob) {
        return Future.succeededFuture(
            Rejection.of(Problem.BODY_TOO_LARGE, "upload larger than limits.max_blob"));
      }
      x.received(declared);
      req.pause(); // nothing may be lost while the relay connects; it resumes by piping
      continueIfExpected(x);
      return Future.succeededFuture(null);
    }
    if (declared > maxBody) {
      return Future.succeededFuture(
          Rejection.of(Problem.BODY_TOO_LARGE, "request body larger than limits.max_body"));
    }
    if (req.isEnded()) {
      return Future.succeededFuture(check(x, kind, Buffer.buffer()));
    }
    Held held = new Held();
    x.bodyHeld(held::giveBack);
    if (declared > 0 && !held.take(declared)) {
      return Future.succeededFuture(busy()); // refused before a byte of it is read
    }
    continueIfExpected(x);
    Promise<Rejection> done = Promise.promise();
    // The request keeps its handlers as long as it lives, and they would keep the body with them:
    // a body a stage rewrites would then be held twice until the response ends (16 uploads of
    // 14 MB with a cap added: 448 MB, past the heap). The handlers reach it only through this
    // holder, emptied once the body is handed on or refused.
    Buffer[] collected = {Buffer.buffer(declared > 0 ? (int) declared : 256)};
    req.handler(
        chunk -> {
          Buffer into = collected[0];
          if (into == null) {
            return; // refused, or handed on: nothing more is kept
          }
          long after = (long) into.length() + chunk.length();
          if (after > maxBody) {
            collected[0] = null;
            done.tryComplete(
                Rejection.of(Problem.BODY_TOO_LARGE, "request body larger than limits.max_body"));
            return;
          }
          if (after > held.taken && !held.take(after - held.taken)) {
            collected[0] = null; // chunked, or longer than declared (the codec refuses that anyway)
            done.tryComplete(busy());
            return;
          }
          into.appendBuffer(chunk);
        });
    req.exceptionHandler(
        err -> {
          collected[0] = null;
          done.tryFail(err);
        });
    req.endHandler(
        v -> {
          Buffer body = collected[0];
          if (body == null) {
            return;
          }
          collected[0] = null;
          x.received(body.length());
          done.tryComplete(check(x, kind, body));
          // The request keeps its handlers as long as it lives (a stream's: minutes), and with
          // them this read's state; the body is whole, so they have nothing left to do.
          req.handler(null).exceptionHandler(null).endHandler(null);
        });
    req.resume();
    return done.future();
  }

  private static Rejection busy() {
    return Rejection.retryAfter(
        Problem.GATEWAY_BUSY, "request bodies in memory are at limits.body_memory", 1);
  }

  /**
   * The memory one body holds: taken as it is read, given back once at the end of its exchange.
   * Runs on the request's event loop only.
   */
  private final class Held {
    long taken;
    boolean returned;

    boolean take(long bytes) {
      if (returned || !memory.take(bytes)) {
        return false;
      }
      taken += bytes;
      return true;
    }

    void giveBack() {
      if (!returned) {
        returned = true;
        memory.give(taken);
      }
    }
  }

  private static void continueIfExpected(Exchange x) {
    String expect = x.request().getHeader("Expect");
    if (expect != null && expect.equalsIgnoreCase("100-continue")) {
      x.response().writeContinue();
    }
  }

  /** The declared Content-Length, -1 when absent, -2 when malformed. */
  private static long declaredLength(HttpServerRequest req) {
    String cl = req.getHeader("Content-Length");
    if (cl == null) {
      return -1;
    }
    long n = Http1Grammar.contentLength(cl); // digits only, read without a regular expression
    return n < 0 ? -2 : n;
  }

  private @Nullable Rejection check(Exchange x, Route.Body kind, Buffer body) {
    return switch (kind) {
      case NONE, STREAM -> null; // NONE: read and dropped, nothing is forwarded
      case JSON_OPTIONAL -> body.length() == 0 ? null : parseJson(x, body);
      case JSON -> parseJson(x, body);
      case MULTIPART -> parseForm(x, body);
    };
  }

  /**
   * Checks the body in one streaming pass and keeps only its policy fields ({@link BodyFields});
   * the body is forwarded as received.
   */
  private static @Nullable Rejection parseJson(Exchange x, Buffer body) {
    BodyFields.Scan scan;
    try {
      scan = BodyFields.scan(body);
    } catch (IOException e) {
      return Rejection.of(Problem.BODY_INVALID_JSON);
    }
    if (scan.fields() == null) {
      return Rejection.of(Problem.BODY_INVALID_JSON);
    }
    if (scan.ambiguousNames()) {
      return Rejection.of(
          Problem.BODY_INVALID_JSON, "request body has field names that differ only in case");
    }
    x.bodyRead(body, scan);
    return null;
  }

  private static @Nullable Rejection parseForm(Exchange x, Buffer body) {
    Multipart.Form form = Multipart.parse(x.request().getHeader("Content-Type"), body);
    if (form == null) {
      return Rejection.of(Problem.BODY_INVALID_MULTIPART);
    }
    x.formRead(body, form.field("model"));
    return null;
  }
}

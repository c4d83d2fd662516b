package dev.gatehouse.proxy;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.Dialect;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.exchange.ResponseTap;
import dev.gatehouse.exchange.Route;
import dev.gatehouse.upstream.Upstream;
import dev.gatehouse.upstream.UpstreamCall;
import dev.gatehouse.upstream.Upstreams;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The proxy stage: sends an admitted request to the upstream and relays the answer.
 *
 * <p>Streams (Ollama's NDJSON, OpenAI's SSE) are relayed chunk by chunk as they arrive, never
 * buffered, with backpressure: when the client reads slowly the upstream is paused, so memory per
 * stream stays bounded. A client that disconnects cancels the upstream request (the model server
 * then stops generating). An upstream that dies mid-stream gets the client a final error in its
 * API's dialect, then a clean end. None of the timeouts bounds a generation that keeps streaming.
 *
 * <p>Each request goes to the upstream {@link Upstreams#pick} chooses for it, over that upstream's
 * connection pool for this event loop; one whose response has not started may be retried once on
 * another ({@link #forward}). With several upstreams, model listings are answered from all of them
 * ({@link ModelListMerge}). One per event loop.
 */
public final class Relay {

  private static final Logger LOG = Logger.getLogger("gatehouse.proxy");

  /** Largest model list buffered for filtering. */
  private static final int MAX_FILTERED_BODY = 8 << 20;

  /**
   * The piece of a held body written at a time. A body written whole is copied whole into a direct
   * buffer for the socket, and stays there until the upstream has read it all: 16 uploads of 14 MB
   * held 224 MB off the heap on top of the bodies themselves. Written in pieces, as the connection
   * drains, the copy is one piece per request.
   */
  static final int BODY_PIECE = 256 * 1024;

  /** Headers for a relayed request, whose names and values the listener checked already. */
  private static final DefaultHttpHeadersFactory NO_CHECK =
      DefaultHttpHeadersFactory.headersFactory().withValidation(false);

  private final Vertx vertx;
  private final Upstreams upstreams;
  private final long firstByteMillis;
  private final long idleMillis;
  private final ModelListMerge merge;

  public Relay(Vertx vertx, Upstreams upstreams, GatehouseConfig config) {
    this.vertx = vertx;
    this.upstreams = upstreams;
    this.firstByteMillis = config.timeouts().upstreamFirstByte().toMillis();
    this.idleMillis = config.timeouts().upstreamIdle().toMillis();
    this.merge = new ModelListMerge(upstreams, firstByteMillis);
  }

  /** Where requests go: for the readiness answer, which is whether they could go there now. */
  public Upstreams upstreams() {
    return upstreams;
  }

  /**
   * Forwards the request. Before the response head is sent, failures go to {@code reject}; after
   * it, the stream is ended in the client's dialect.
   *
   * <p>Failover: a request whose response has not started (no connection, a 5xx head, no head
   * within {@code timeouts.upstream_first_byte}) is tried once more, on another upstream that may
   * take it, when its body is held in memory (every JSON body is; an upload that streams through is
   * not, and is never retried). Once a response head has been relayed nothing is ever retried: a
   * generation already sent in part would be sent twice, and charged twice.
   */
  public void forward(Exchange x, Consumer<Rejection> reject) {
    Route route = Objects.requireNonNull(x.route(), "authorize.route ran");
    if (upstreams.merges()
        && route.response() != Route.Response.RELAY
        && HttpMethod.GET.equals(x.request().method())) {
      merge.forward(x, reject);
      return;
    }
    Upstream first = upstreams.pick(x, Set.of());
    if (first == null) {
      String model = x.model() != null ? x.model() : "";
      reject.accept(
          Rejection.of(
              Problem.MODEL_NOT_FOUND,
              "model '" + model + "' not found on any model server this gateway routes to"));
      return;
    }
    new Forwarding(x, reject).attempt(first);
  }

  /** One request's attempts: the first, and at most one retry before its response started. */
  private final class Forwarding {
    private final Exchange x;
    private final Consumer<Rejection> reject;

    /** The upstreams tried, at most two (an immutable set of one or two: no table per request). */
    private Set<Upstream> tried = Set.of();

    private final boolean upload;
    private @Nullable UpstreamCall current;
    private Upstream.@Nullable Attempt attempt;

    /**
     * The stream's watch for silence, once its body is relayed: stopped when the client leaves (a
     * reset call reports nothing more, so the watch's timer would otherwise hold the exchange until
     * it fires, {@code timeouts.upstream_idle} later).
     */
    private @Nullable IdleWatch watch;

    Forwarding(Exchange x, Consumer<Rejection> reject) {
      this.x = x;
      this.reject = reject;
      this.upload =
          Objects.requireNonNull(x.route(), "authorize.route ran").body() == Route.Body.STREAM
              && !x.request().method().name().equals("HEAD");
      // Client gone before or during the response: cancel upstream so generation stops.
      x.whenClientGone(
          () -> {
            UpstreamCall r = current;
            if (r != null) {
              r.reset();
            }
            IdleWatch w = watch;
            if (w != null) {
              w.stop();
            }
            Upstream.Attempt a = attempt;
            if (a != null) {
              a.end(Upstream.Outcome.CANCELLED, "client gone");
            }
          });
    }

    void attempt(Upstream upstream) {
      if (x.clientGone() || x.response().closed()) {
        return; // gone while a stage waited (a remote limiter): nothing to ask an upstream for
      }
      if (!tried.contains(upstream)) {
        tried = tried.isEmpty() ? Set.of(upstream) : Set.of(tried.iterator().next(), upstream);
      }
      Upstream.Attempt a = upstream.begin();
      attempt = a;
      HttpHeaders headers = NO_CHECK.newHeaders(); // names and values the client's, checked
      HeaderPolicy.copyToUpstream(x.request().headers(), headers);
      headers.set("X-Request-Id", x.requestId());
      upstream
          .call(
              x.request().method(),
              Objects.requireNonNull(x.target(), "listen.shape ran").raw(),
              headers)
          .onComplete(
              ar -> {
                if (ar.failed()) {
                  failed(a, Problem.UPSTREAM_UNAVAILABLE, String.valueOf(ar.cause().getMessage()));
                  return;
                }
                send(a, ar.result());
              });
    }

    /**
     * The attempt failed before its response started: retried once on another upstream when the
     * body can be sent again and the client still waits, else refused with {@code problem}.
     */
    private void failed(Upstream.Attempt a, Problem problem, String why) {
      Upstream next = null;
      if (!upload && tried.size() == 1 && !x.response().closed() && !x.clientGone()) {
        next = upstreams.pick(x, tried);
      }
      if (next == null) {
        a.end(Upstream.Outcome.FAILED, why);
        reject.accept(Rejection.logged(problem, why));
        return;
      }
      a.end(Upstream.Outcome.FAILED_OVER, why);
      LOG.info(
          "event=upstream.failover request_id="
              + x.requestId()
              + " from="
              + a.upstream().name()
              + " to="
              + next.name()
              + " reason=\""
              + why
              + "\"");
      attempt(next);
    }

    private void send(Upstream.Attempt a, UpstreamCall up) {
      current = up;
      HttpServerResponse resp = x.response();
      if (resp.closed() || x.clientGone()) {
        up.reset(); // nothing was sent: the connection serves the next request
        a.end(Upstream.Outcome.CANCELLED, "client gone");
        return;
      }
      ScheduledFuture<?> timer =
          up.timer(
              firstByteMillis,
              () -> {
                up.reset();
                failed(
                    a,
                    Problem.UPSTREAM_TIMEOUT,
                    "no response head within timeouts.upstream_first_byte");
              });
      if (x.upstreamStartNanos() == 0) {
        x.upstreamStarted(System.nanoTime());
      }
      Buffer body = x.body();
      Future<Void> written; // the held body is all written: null for a streamed upload
      if (upload) {
        up.pipe(x.request(), x.bytesIn()); // its length checked against limits.max_blob
        written = null;
      } else if (body != null && body.length() > BODY_PIECE) {
        up.writeHead(body.length());
        writePieces(up, body, 0);
        written = up.written();
      } else {
        up.end(body);
        written = up.written();
      }
      up.response()
          .onComplete(
              ar -> {
                if (!timer.cancel(false)) {
                  return; // the timeout already answered, and reset the call
                }
                if (ar.failed()) {
                  failed(a, Problem.UPSTREAM_UNAVAILABLE, String.valueOf(ar.cause().getMessage()));
                  return;
                }
                if (up.statusCode() >= 500
                    && !upload
                    && tried.size() == 1
                    && upstreams.pick(x, tried) != null) {
                  // a 5xx head, nothing relayed yet: another upstream may answer it
                  up.reset();
                  failed(
                      a, Problem.UPSTREAM_UNAVAILABLE, "upstream answered HTTP " + up.statusCode());
                  return;
                }
                a.answered();
                if (written != null) {
                  // answered, so never sent again: the exchange need not hold the body to the end
                  written.onSuccess(v -> x.bodyForwarded());
                }
                if (x.upstreamFirstByteNanos() == 0) {
                  x.upstreamAnswered(System.nanoTime() - x.startNanos());
                }
                boolean filter =
                    Objects.requireNonNull(x.route(), "authorize.route ran").response()
                            != Route.Response.RELAY
                        && !Objects.requireNonNull(x.principal(), "identify.key ran")
                            .models()
                            .allowsAll()
                        && up.statusCode() == 200
                        && !x.request().method().name().equals("HEAD");
                Upstream.Outcome done =
                    up.statusCode() >= 500 ? Upstream.Outcome.FAILED : Upstream.Outcome.OK;
                if (filter) {
                  relayFiltered(x, up, reject, a);
                } else {
                  watch = relayStream(x, up, a, done);
                }
              });
    }
  }

  /**
   * Writes {@code body} from {@code from} on, a {@link #BODY_PIECE} at a time while the connection
   * takes it, then ends the request. A call reset or failed meanwhile (client gone, timeout) takes
   * no more writes: they stop, and its response says why.
   */
  private static void writePieces(UpstreamCall up, Buffer body, int from) {
    int at = from;
    while (at < body.length()) {
      if (up.writeQueueFull()) {
        int next = at;
        up.drainHandler(() -> writePieces(up, body, next));
        return;
      }
      int end = Math.min(body.length(), at + BODY_PIECE);
      up.write(body.slice(at, end)); // a view of the held body: no copy on the heap
      at = end;
    }
    up.endBody();
  }

  private void relayFiltered(
      Exchange x, UpstreamCall ur, Consumer<Rejection> reject, Upstream.Attempt a) {
    Buffer collected = Buffer.buffer();
    boolean[] over = new boolean[1];
    ur.handler(
        b -> {
          if (!over[0] && collected.length() + b.length() > MAX_FILTERED_BODY) {
            over[0] = true;
            ur.reset();
            a.end(Upstream.Outcome.CANCELLED, "model list too large");
            reject.accept(Rejection.of(Problem.RESPONSE_TOO_LARGE));
          } else if (!over[0]) {
            collected.appendBuffer(b);
          }
        });
    ur.exceptionHandler(
        err -> {
          if (!over[0]) {
            over[0] = true;
            a.end(Upstream.Outcome.BROKEN, String.valueOf(err.getMessage()));
            reject.accept(Rejection.logged(Problem.UPSTREAM_FAILED, err.getMessage()));
          }
        });
    ur.endHandler(
        v -> {
          if (over[0]) {
            return;
          }
          a.end(Upstream.Outcome.OK, "");
          byte[] filtered =
              ModelListFilter.filter(
                  Objects.requireNonNull(x.route(), "authorize.route ran").response(),
                  collected.getBytes(),
                  Objects.requireNonNull(x.principal(), "identify.key ran").models());
          if (filtered == null) {
            reject.accept(
                Rejection.logged(
                    Problem.UPSTREAM_FAILED, "upstream model list is not the expected JSON"));
            return;
          }
          HttpServerResponse resp = x.response();
          resp.setStatusCode(200).putHeader("Content-Type", "application/json; charset=utf-8");
          x.addBytesOut(filtered.length);
          x.end(() -> resp.end(Buffer.buffer(filtered)));
        });
  }

  /** Relays the response as it comes; returns the stream's watch for silence. */
  private IdleWatch relayStream(
      Exchange x, UpstreamCall ur, Upstream.Attempt a, Upstream.Outcome done) {
    HttpServerResponse resp = x.response();
    resp.setStatusCode(ur.statusCode());
    HeaderPolicy.copyToClient(ur.headers(), resp.headers());
    boolean fixedLength = resp.headers().contains("Content-Length");
    if (!fixedLength) {
      resp.setChunked(true);
    }
    String contentType = ur.headers().get("Content-Type");
    boolean sse = contentType != null && contentType.startsWith("text/event-stream");
    boolean ndjson = contentType != null && contentType.startsWith("application/x-ndjson");
    // A fixed-length body must reach the client byte for byte, so the tap only watches it.
    ResponseTap tap = x.tap();
    if (tap != null) {
      tap.onHead(ur.statusCode(), fixedLength && (sse || ndjson) ? null : contentType);
    }
    IdleWatch idle = new IdleWatch(x, ur, sse, ndjson, a);
    // With a Content-Length, the client has the whole body once the last byte is written, before
    // end(): so the latest chunk is held back and sent by end(), which waits for the audit record
    // to be durable (Exchange.end). A chunked body is complete only with its terminating chunk,
    // which end() sends, so it needs no holding back.
    Buffer[] held = {null};
    ur.handler(
        chunk -> {
          idle.touch();
          Buffer out = tap == null ? chunk : tap.onChunk(chunk);
          if (out.length() > 0) {
            x.addBytesOut(out.length());
            if (fixedLength) {
              if (held[0] != null) {
                resp.write(held[0]);
              }
              held[0] = out;
            } else {
              resp.write(out);
            }
          }
          Problem stop = tap == null ? null : tap.cut();
          if (stop != null) {
            a.end(
                Upstream.Outcome.CANCELLED, "stream cut"); // the gateway's cut, not the upstream's
            idle.cut(
                stop,
                "stream cut: " + stop.code); // first: resetting may report a failure of its own
            ur.reset();
            return;
          }
          if (resp.writeQueueFull()) {
            // Backpressure: stop reading the upstream until the client has taken what we hold.
            ur.pause();
            resp.drainHandler(v -> ur.resume());
          }
        });
    // The upstream died mid-response: the stream ends here, with an error in the client's
    // dialect, and is never replayed elsewhere (the client already holds part of one answer).
    ur.exceptionHandler(
        err -> {
          a.end(Upstream.Outcome.BROKEN, "died mid-response: " + err.getMessage());
          idle.cut(Problem.UPSTREAM_FAILED, "upstream failed mid-response: " + err.getMessage());
        });
    ur.endHandler(
        v -> {
          a.end(done, "HTTP " + ur.statusCode());
          idle.stop();
          Buffer tail = tap == null ? null : tap.onEnd();
          Buffer rest =
              held[0] == null
                  ? tail
                  : tail == null || tail.length() == 0
                      ? held[0] // the usual: nothing held back, and no copy of the last chunk
                      : held[0].copy().appendBuffer(tail);
          if (!resp.ended()) {
            if (tail != null && tail.length() > 0) {
              x.addBytesOut(tail.length());
            }
            if (rest != null && rest.length() > 0) {
              x.end(() -> resp.end(rest));
            } else {
              x.end(resp::end);
            }
          }
        });
    if (!fixedLength) {
      // A stream's first chunk may take a while, so the head is not held for it. But it is sent
      // only once the bytes read with it are relayed: an upstream that sent its head and first
      // chunk in one packet (Ollama's Go server does) has them reach the client in one write.
      vertx.runOnContext(
          v -> {
            if (!resp.headWritten() && !resp.ended() && !resp.closed()) {
              resp.writeHead();
            }
            x.headRelayed(); // the stream may stay open: its heads' header maps are let go
          });
    }
    return idle;
  }

  /**
   * Watches an upstream response for silence longer than {@code timeouts.upstream_idle}, with one
   * timer per stream re-armed only when it fires, and ends the stream cleanly when it must be cut.
   */
  private final class IdleWatch {
    private final Exchange x;
    private final UpstreamCall up;
    private final boolean sse;
    private final boolean ndjson;
    private final Upstream.Attempt attempt;
    private long last = System.nanoTime();
    private @Nullable ScheduledFuture<?> timer;
    private boolean done;

    IdleWatch(Exchange x, UpstreamCall up, boolean sse, boolean ndjson, Upstream.Attempt a) {
      this.attempt = a;
      this.x = x;
      this.up = up;
      this.sse = sse;
      this.ndjson = ndjson;
      arm(idleMillis);
    }

    private void arm(long millis) {
      timer = up.timer(millis, this::check);
    }

    private void check() {
      if (done) {
        return;
      }
      long silentMillis = (System.nanoTime() - last) / 1_000_000;
      if (silentMillis >= idleMillis) {
        attempt.end(Upstream.Outcome.BROKEN, "silent for longer than timeouts.upstream_idle");
        up.reset();
        cut(Problem.UPSTREAM_FAILED, "upstream silent for longer than timeouts.upstream_idle");
      } else {
        arm(idleMillis - silentMillis);
      }
    }

    void touch() {
      last = System.nanoTime();
    }

    void stop() {
      done = true;
      ScheduledFuture<?> t = timer;
      if (t != null) {
        t.cancel(false);
      }
    }

    /** Ends the client's response early, with a final error in the client's dialect. */
    void cut(Problem problem, String reason) {
      if (done) {
        return;
      }
      stop();
      HttpServerResponse resp = x.response();
      if (resp.ended() || resp.closed()) {
        return;
      }
      x.refused(problem, reason);
      if (x.tap() != null) {
        x.tap().onAbort();
      }
      if (sse || ndjson) {
        String tail = Dialect.streamError(sse, problem, problem.message, x.requestId());
        x.addBytesOut(tail.length());
        x.end(() -> resp.end(tail));
      } else {
        // A plain body cannot carry an error after its head: abort, so the client sees truncation.
        resp.reset();
      }
    }
  }
}

package dev.gatehouse.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * Everything known about one request as it moves through the stages. Each stage fills in its
 * part. One per request, confined to that request's event loop; not thread-safe.
 */
public final class Exchange {

  public final HttpServerRequest request;
  public final HttpServerResponse response;
  public final String requestId;
  /** Wall-clock start, epoch milliseconds. */
  public final long startMillis;
  public final long startNanos;
  /**
   * The client's address as text, for the log: the socket's peer, or, behind a trusted proxy, the
   * address the proxy vouches for (listen resolves it before anything else looks at it).
   */
  public String clientIp;
  /** The parsed client address, or null when the socket had none; set with {@link #clientIp}. */
  public dev.gatehouse.config.IpAddress clientAddress;
  /** True when {@link #clientAddress} came from a trusted proxy's header, not from the socket. */
  public boolean viaProxy;

  public RequestTarget target;
  public Dialect dialect = Dialect.OLLAMA;
  public Principal principal;
  public Route route;
  /** The decoded last path segment of a parameterised route. */
  public String pathParam;
  /** The buffered request body, or null for none or a streamed one. */
  public Buffer body;
  /** The parsed JSON body, when the route takes JSON and one was sent. */
  public JsonNode json;
  /** The model the request names, for the log. */
  public String model;
  /** The first model the request names, parsed (authorize sets it once the name passed its checks); for the usage record. */
  public dev.gatehouse.exchange.ModelName modelName;
  /** The {@code model} part of a multipart body. */
  public String formModel;

  /** The problem that ended this request, or null when it was relayed. */
  public Problem problem;
  /** Why, for the log only. */
  public String logReason;
  public long bytesIn;
  public long bytesOut;
  /** {@code System.nanoTime()} when the request was sent upstream; 0 when it was not. */
  public long upstreamStartNanos;
  /** Nanos from start to the upstream's response head; 0 when none arrived. */
  public long upstreamFirstByteNanos;
  /** True when the client went away before its response was complete. */
  public boolean clientGone;
  /**
   * What to do if the client goes away before the response is complete (the proxy sets it to
   * cancel the upstream request). The pipeline owns the connection's close handler and calls it.
   */
  public Runnable onClientGone;
  /** Frees what the limit stage holds for this request (its concurrency slot); run once at the end. */
  public Runnable release;
  /**
   * Watches the response as it streams (usage, budget), or null. Taps compose: add one with
   * {@link #addTap}; the first one added is the one whose token counts the record reads.
   */
  public ResponseTap tap;
  /** True once the proxy stage has started relaying (written by the pipeline's proxy step). */
  public boolean relaying;
  /**
   * True when a refusal must close the connection after its answer, because a body was on its
   * way when the refusal was decided (written by the identify stage, which peeks at that body).
   */
  public boolean closeAfterRefusal;
  /** True when the gateway added {@code stream_options.include_usage} that the client did not ask for. */
  public boolean stripUsage;

  /**
   * Holds a response's last write until what must precede it (the request's audit record) is
   * durable, then runs it; set by the pipeline. Null: run at once.
   */
  public java.util.function.Consumer<Runnable> beforeEnd;
  /** The guard's verdict (pass, flag or block), or null when it did not inspect the request. */
  public String guardVerdict;
  /** The guard's score, 0 to 1. */
  public double guardScore;
  /** The rule families that fired, comma-separated, or null. */
  public String guardFamilies;
  /** Secrets found, as kind:count pairs, comma-separated, or null. */
  public String guardSecrets;
  /** True once this request's audit record has been queued. */
  public boolean audited;
  /**
   * The first bytes of the body of a request refused for lack of a valid key (at most
   * {@code probes.body_peek_bytes}), for probe detection only: never forwarded or logged. Null
   * when none was read.
   */
  public byte[] bodyPeek;

  public Exchange(HttpServerRequest request, String requestId, long startMillis, long startNanos) {
    this.request = request;
    this.response = request.response();
    this.requestId = requestId;
    this.startMillis = startMillis;
    this.startNanos = startNanos;
    this.clientIp = request.remoteAddress() == null ? "-" : request.remoteAddress().host();
    this.clientAddress = request.remoteAddress() == null ? null : dev.gatehouse.config.IpAddress.parse(clientIp);
    if (clientAddress != null) {
      this.clientIp = clientAddress.text();
    }
  }

  /** Adds a response tap after those already there; null adds nothing. */
  public void addTap(ResponseTap next) {
    tap = ResponseTap.chain(tap, next);
  }

  /**
   * Ends the response through {@link #end}: every complete response the gateway sends goes
   * through here, so that its audit record is durable before the client has all of it.
   */
  public void end(Runnable ending) {
    if (beforeEnd == null) {
      ending.run();
    } else {
      beforeEnd.accept(ending);
    }
  }
}

package dev.gatehouse.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Everything known about one request as it moves through the stages. Each stage fills in its part.
 * One per request, confined to that request's event loop; not thread-safe.
 *
 * <p>Every field is private. Each mutable one names its one writer (a stage, or the pipeline) and
 * is set only through a method named for what it records ({@link #identified}, {@link #routed},
 * {@link #bodyRead}, ...), so who writes a field is found by looking for that method. A value
 * written once refuses a second write ({@link IllegalStateException}). The few fields more than one
 * class writes say why that is safe: every writer runs on this request's event loop, in the
 * pipeline's order.
 */
public final class Exchange {

  private final HttpServerRequest request;
  private final HttpServerResponse response;
  private final String requestId;

  /** Wall-clock start, epoch milliseconds. */
  private final long startMillis;

  private final long startNanos;

  /**
   * Holds a response's last write until what must precede it (the request's audit record) is
   * durable, then runs it; given by the pipeline. Null: run at once.
   */
  private final @Nullable BiConsumer<Exchange, Runnable> beforeEnd;

  /**
   * The client's address as text, for the log: the socket's peer, or, behind a trusted proxy, the
   * address the proxy vouches for (listen resolves it before anything else looks at it). The
   * socket's until written by listen.gate (ClientGate) only, with {@link #vouchedFor}.
   */
  private String clientIp;

  /**
   * The parsed client address, or null when the socket had none; set with {@link #clientIp}, by the
   * same writer.
   */
  private dev.gatehouse.config.@Nullable IpAddress clientAddress;

  /**
   * True when {@link #clientAddress} came from a trusted proxy's header, not from the socket; set
   * with {@link #clientIp}, by the same writer.
   */
  private boolean viaProxy;

  /**
   * The parsed request target, or null when it did not parse. Written by listen.target (the
   * pipeline) only, with {@link #targeted}.
   */
  private @Nullable RequestTarget target;

  /** Written by identify.key (the pipeline, from Identifier) only, with {@link #identified}. */
  private @Nullable Principal principal;

  /** Written by authorize.route (the pipeline, from RouteTable) only, with {@link #routed}. */
  private @Nullable Route route;

  /**
   * The decoded last path segment of a parameterised route; set with {@link #route}, by the same
   * writer.
   */
  private @Nullable String pathParam;

  /**
   * The buffered request body, or null for none or a streamed one. Written by listen (BodyReader,
   * with {@link #bodyRead} or {@link #formRead}); after it, guard.prompt (secret redaction) and
   * then limit.admit (caps, {@code include_usage}) may replace it with {@link #bodyRewritten}.
   * Those two are safe together: they run in that order on this event loop, and each edits the
   * current body (a full tree of it, or a splice by its {@link #bodyLayout}), so the last rewrite
   * carries both changes. Dropped by proxy ({@link #bodyForwarded}) once the upstream has it whole
   * and has answered, so that a long stream does not hold its prompt (or image) to the end.
   */
  private @Nullable Buffer body;

  /**
   * The fields of the JSON body that decide policy ({@link BodyFields}: a pruned tree, not the
   * whole body), when the route takes JSON and one was sent. Written by listen (BodyReader) with
   * {@link #bodyRead}, read again from the new body by whoever rewrites it ({@link
   * #bodyRewritten}), and let go by the proxy stage ({@link #letFieldsGo}).
   */
  private @Nullable JsonNode json;

  /**
   * Whether the body was a hello probe: written by the proxy stage (Pipeline) with {@link
   * #letFieldsGo}, when it lets the policy fields go.
   */
  private @Nullable Boolean helloProbe;

  /**
   * Where the members of the JSON body sit in its bytes ({@link BodyLayout}), for a stage that
   * splices a small change into the body instead of writing a whole tree; null when none was
   * recorded. Written by the same writers as {@link #json}, always with it, so it describes the
   * current {@link #body}.
   */
  private @Nullable BodyLayout bodyLayout;

  /**
   * The model the request names, for the log. Written by listen (BodyReader) only, with {@link
   * #bodyRead} or {@link #formRead}.
   */
  private @Nullable String model;

  /**
   * The first model the request names, parsed (once the name passed its checks); for the usage
   * record. Written by authorize.models (Authorizer) only, with {@link #modelNamed}.
   */
  private @Nullable ModelName modelName;

  /**
   * The {@code model} part of a multipart body. Written by listen (BodyReader) only, with {@link
   * #formRead}.
   */
  private @Nullable String formModel;

  /**
   * The problem that ended this request, or null when it was relayed. Written by the pipeline's
   * refusal (gateway Pipeline.reject) and by the relay's stream cut (proxy: a stream whose head is
   * sent ends with an error in its own body, not through the pipeline), both with {@link #refused}.
   * Safe together: both run on this event loop, and a request meets at most one of them, since a
   * refused request is never relayed and the relay hands a failure to the pipeline only before the
   * response head, and cuts only after it.
   */
  private @Nullable Problem problem;

  /** Why, for the log only; set with {@link #problem}, by the same writers. */
  private @Nullable String logReason;

  /**
   * The request body's length in bytes (declared, for a streamed upload). Written by listen
   * (BodyReader) only, with {@link #received}.
   */
  private long bytesIn;

  /**
   * The response body's length in bytes, as sent so far. A counter, added to by whatever writes the
   * response body, with {@link #addBytesOut}: the pipeline's refusal or the relay (proxy), never
   * both (a refusal writes a body only before any head, and the relay writes one only after its
   * head).
   */
  private long bytesOut;

  /**
   * {@code System.nanoTime()} when the request was sent upstream; 0 when it was not. Written by the
   * relay (proxy) only, with {@link #upstreamStarted}.
   */
  private long upstreamStartNanos;

  /**
   * Nanos from start to the upstream's response head; 0 when none arrived. Written by the relay
   * (proxy) only, with {@link #upstreamAnswered}.
   */
  private long upstreamFirstByteNanos;

  /**
   * True when the client went away before its response was complete. Written by the pipeline's end
   * and close handler only, with {@link #clientLeft}.
   */
  private boolean clientGone;

  /**
   * What to do if the client goes away before the response is complete (cancel the upstream
   * request). Written by the relay (proxy) only, with {@link #whenClientGone}; the pipeline owns
   * the connection's close handler and runs it ({@link #clientLeft}).
   */
  private @Nullable Runnable onClientGone;

  /**
   * Frees what the limit stage holds for this request (its concurrency slot), by {@link #freeSlot};
   * safe to run more than once. Written by limit.admit (Limiter) only, with {@link #slotHeld}.
   */
  private @Nullable Supplier<Future<Void>> release;

  /**
   * What gives back the memory this request's body holds; null when it holds none. Written by the
   * body reader (listen) only, with {@link #bodyHeld}; run, and let go, by {@link #freeBody}.
   */
  private @Nullable Runnable bodyRelease;

  /**
   * Watches the response as it streams (usage, budget), or null. Written by the pipeline's proxy
   * step only (it adds the usage meter), with {@link #addTap}. Taps compose: each call adds one,
   * and the first one added is the one whose token counts the record reads.
   */
  private @Nullable ResponseTap tap;

  /**
   * True once the proxy stage has started relaying. Written by the pipeline's proxy step only, with
   * {@link #startedRelaying}.
   */
  private boolean relaying;

  /**
   * True when a refusal must close the connection after its answer, because a body was on its way
   * when the refusal was decided. Written by identify.key (the pipeline, which peeks at that body)
   * only, with {@link #closeAfterRefusal(boolean)}.
   */
  private boolean closeAfterRefusal;

  /**
   * True when the gateway added {@code stream_options.include_usage} that the client did not ask
   * for. Written by limit.admit (Limiter) only, with {@link #askedForUsage}.
   */
  private boolean stripUsage;

  /**
   * What the prompt guard found; {@link GuardResult#NONE} until it looks. Written by guard.prompt
   * (GuardStage) only, with {@link #guarded}, {@link #secretsFound} and {@link #guardFailed}.
   */
  private GuardResult guard = GuardResult.NONE;

  /**
   * True once this request's audit record has been queued. Written by the pipeline only (its end
   * handler, and the response's last write), with {@link #markAudited}.
   */
  private boolean audited;

  /**
   * The digest (bare hex) a pinned model must have on the upstream that serves it; null when the
   * model is not pinned. Written by authorize.pins (PinnedModels) only, with {@link #pinned}; the
   * relay's pick holds every upstream to it.
   */
  private @Nullable String pinnedDigest;

  /**
   * The first bytes of the body of a request refused for lack of a valid key (at most {@code
   * probes.body_peek_bytes}), for probe detection only: never forwarded or logged. Null when none
   * was read. Written by the identify refusal's body peek (account BodyPeek) only, with {@link
   * #bodyPeeked}.
   */
  private byte @Nullable [] bodyPeek;

  /**
   * @param beforeEnd holds a response's last write until what must precede it is done, then runs it
   *     ({@link #end}); null runs it at once
   */
  public Exchange(
      HttpServerRequest request,
      String requestId,
      long startMillis,
      long startNanos,
      @Nullable BiConsumer<Exchange, Runnable> beforeEnd) {
    this.request = request;
    this.response = request.response();
    this.requestId = requestId;
    this.startMillis = startMillis;
    this.startNanos = startNanos;
    this.beforeEnd = beforeEnd;
    this.clientIp = request.remoteAddress() == null ? "-" : request.remoteAddress().host();
    this.clientAddress =
        request.remoteAddress() == null ? null : dev.gatehouse.config.IpAddress.parse(clientIp);
    if (clientAddress != null) {
      this.clientIp = clientAddress.text();
    }
  }

  private static void once(boolean written, String what) {
    if (written) {
      throw new IllegalStateException(what + " is written once per request, and was already");
    }
  }

  /**
   * The request headers read after the response's head is relayed: the audit record's user agent,
   * and the probe scoring's look at the credential sent and at an Anthropic client ({@code
   * AuditRecord.of}, {@code ProbeDetector.observe}). A reader that runs once a stream is under way
   * reads only these; {@link #headRelayed} lets go of the rest.
   */
  private static final List<String> READ_AFTER_THE_HEAD =
      List.of("User-Agent", "Authorization", "X-Api-Key", "Anthropic-Version");

  /**
   * The response's head is written to the client, and its body is under way (a stream that may stay
   * open for minutes): over HTTP/1.x, lets go of both heads' header maps, which are a large part of
   * what an open stream holds (about 1 KB for five request and four response headers, more for a
   * client library's dozen), keeping only the request headers {@link #READ_AFTER_THE_HEAD}. Vert.x
   * reads neither map once the head is written (its keep-alive choice is made from the request's
   * head when it arrives). Over HTTP/2 nothing is let go: its headers hold the pseudo-headers too.
   * Called by the relay, on this request's event loop.
   */
  public void headRelayed() {
    if (request.version() == HttpVersion.HTTP_2 || !response.headWritten() || response.ended()) {
      return;
    }
    response.headers().clear();
    MultiMap headers = request.headers();
    List<String> kept = new ArrayList<>(READ_AFTER_THE_HEAD.size() * 2);
    for (String name : READ_AFTER_THE_HEAD) {
      for (String value : headers.getAll(name)) {
        kept.add(name);
        kept.add(value);
      }
    }
    headers.clear();
    for (int i = 0; i < kept.size(); i += 2) {
      headers.add(kept.get(i), kept.get(i + 1));
    }
  }

  // Readers.

  public HttpServerRequest request() {
    return request;
  }

  public HttpServerResponse response() {
    return response;
  }

  public String requestId() {
    return requestId;
  }

  /** Wall-clock start, epoch milliseconds. */
  public long startMillis() {
    return startMillis;
  }

  public long startNanos() {
    return startNanos;
  }

  /** The client's address as text, for the log. */
  public String clientIp() {
    return clientIp;
  }

  /** The parsed client address, or null when there was none. */
  public dev.gatehouse.config.@Nullable IpAddress clientAddress() {
    return clientAddress;
  }

  /** True when {@link #clientAddress()} came from a trusted proxy's header. */
  public boolean viaProxy() {
    return viaProxy;
  }

  /** The parsed request target, or null when it did not parse (or was not parsed yet). */
  public @Nullable RequestTarget target() {
    return target;
  }

  /** The API dialect the request's path implies: Ollama's until the target has parsed. */
  public Dialect dialect() {
    return target == null ? Dialect.OLLAMA : Dialect.of(target.path());
  }

  public @Nullable Principal principal() {
    return principal;
  }

  public @Nullable Route route() {
    return route;
  }

  /** The decoded last path segment of a parameterised route, or null. */
  public @Nullable String pathParam() {
    return pathParam;
  }

  /** The request body to forward, or null for none or a streamed one. */
  public @Nullable Buffer body() {
    return body;
  }

  /**
   * The policy fields of the JSON body ({@link BodyFields}), or null: none, or let go at the proxy
   * stage ({@link #letFieldsGo}).
   */
  public @Nullable JsonNode json() {
    return json;
  }

  /**
   * Every stage that reads the policy fields has run (the proxy stage starts): keeps the one answer
   * the probe scoring asks of them at the end, whether the body is a hello probe, and lets them go,
   * so a stream does not hold its request's tree (about 0.9 KB) for as long as it runs. Not called
   * when the audit record captures the prompt, which reads them at the end.
   */
  public void letFieldsGo(boolean helloProbe) {
    this.helloProbe = helloProbe;
    this.json = null;
  }

  /**
   * The answer kept by {@link #letFieldsGo}; null while the fields are held (or there were none).
   */
  public @Nullable Boolean helloProbe() {
    return helloProbe;
  }

  /** Where the JSON body's members sit in its bytes, for a splice, or null. */
  public @Nullable BodyLayout bodyLayout() {
    return bodyLayout;
  }

  /** The model the request names, for the log, or null. */
  public @Nullable String model() {
    return model;
  }

  /** The first model the request names, parsed, or null. */
  public @Nullable ModelName modelName() {
    return modelName;
  }

  /** The {@code model} part of a multipart body, or null. */
  public @Nullable String formModel() {
    return formModel;
  }

  /** The problem that ended this request, or null when it was relayed. */
  public @Nullable Problem problem() {
    return problem;
  }

  /** Why, for the log only, or null. */
  public @Nullable String logReason() {
    return logReason;
  }

  public long bytesIn() {
    return bytesIn;
  }

  public long bytesOut() {
    return bytesOut;
  }

  /** {@code System.nanoTime()} when the request was sent upstream; 0 when it was not. */
  public long upstreamStartNanos() {
    return upstreamStartNanos;
  }

  /** Nanos from start to the upstream's response head; 0 when none arrived. */
  public long upstreamFirstByteNanos() {
    return upstreamFirstByteNanos;
  }

  /** True when the client went away before its response was complete. */
  public boolean clientGone() {
    return clientGone;
  }

  /**
   * Frees the concurrency slot this request holds, if any: the pipeline calls it before the
   * response's last bytes and again when the exchange is over (a slot is freed once, however often
   * it is asked). Completes as {@code ConcurrencyGate.Slot#release} says: once the slot can no
   * longer stand in a next request's way.
   */
  public Future<Void> freeSlot() {
    return release == null ? Future.succeededFuture() : release.get();
  }

  /**
   * Gives back the memory the request body holds, if any: by proxy once the upstream has it ({@link
   * #bodyForwarded}), and by the pipeline when the exchange is over; a second run gives back
   * nothing.
   */
  public void freeBody() {
    Runnable release = bodyRelease;
    if (release != null) {
      bodyRelease = null; // given back once: nothing of the body reader is held after
      release.run();
    }
  }

  /** The response tap, or null. */
  public @Nullable ResponseTap tap() {
    return tap;
  }

  /** True once the proxy stage has started relaying. */
  public boolean relaying() {
    return relaying;
  }

  /** True when a refusal must close the connection after its answer. */
  public boolean closeAfterRefusal() {
    return closeAfterRefusal;
  }

  /** True when the usage event the client did not ask for is to be dropped. */
  public boolean stripUsage() {
    return stripUsage;
  }

  /** What the prompt guard found; {@link GuardResult#NONE} when it did not look. */
  public GuardResult guard() {
    return guard;
  }

  /** The peeked body prefix of a refused request, for probe detection only, or null. */
  public @Nullable String pinnedDigest() {
    return pinnedDigest;
  }

  public byte @Nullable [] bodyPeek() {
    return bodyPeek;
  }

  // Writers, each named for what it records; each field's comment names who calls it.

  /** listen.gate: a trusted proxy vouches for this client address (not null). */
  public void vouchedFor(dev.gatehouse.config.IpAddress client) {
    once(viaProxy, "clientAddress");
    this.clientAddress = client;
    this.clientIp = client.text();
    this.viaProxy = true;
  }

  /** listen.target: the parsed request target, or null when it did not parse. */
  public void targeted(@Nullable RequestTarget target) {
    once(this.target != null, "target");
    this.target = target;
  }

  /** identify.key: who is calling. */
  public void identified(Principal principal) {
    once(this.principal != null, "principal");
    this.principal = principal;
  }

  /** identify.key: whether a refusal must close the connection (a body was on its way). */
  public void closeAfterRefusal(boolean close) {
    this.closeAfterRefusal = close;
  }

  /**
   * authorize.route: the operation, and the last path segment of a parameterised route (else null).
   */
  public void routed(Route route, @Nullable String pathParam) {
    once(this.route != null, "route");
    this.route = route;
    this.pathParam = pathParam;
  }

  /** listen: the body's length in bytes (declared, for a streamed upload). */
  public void received(long bytesIn) {
    this.bytesIn = bytesIn;
  }

  /** listen: a JSON body, parsed, and the model it names (null for none). */
  public void bodyRead(Buffer body, BodyFields.Scan scan) {
    bodyRead(body, scan.fields(), scan.model());
    this.bodyLayout = scan.layout();
  }

  /** listen: a JSON body, parsed, and the model it names (null for none); no layout. */
  public void bodyRead(Buffer body, @Nullable JsonNode json, @Nullable String model) {
    once(this.body != null, "body");
    this.body = body;
    this.json = json;
    this.model = model;
  }

  /**
   * listen: a multipart body, and its {@code model} part (null for none), which is also the model
   * it names.
   */
  public void formRead(Buffer body, @Nullable String formModel) {
    once(this.body != null, "body");
    this.body = body;
    this.formModel = formModel;
    this.model = formModel;
  }

  /**
   * guard.prompt, then limit.admit: the body to forward, re-serialised from an edited full tree or
   * spliced, and what a scan of it read (its policy fields and their layout), so that later readers
   * see what the upstream gets.
   */
  public void bodyRewritten(Buffer body, BodyFields.Scan scan) {
    this.body = body;
    this.json = Objects.requireNonNull(scan.fields(), "a rewritten body is a JSON object");
    this.bodyLayout = scan.layout();
  }

  /** authorize.models: the first model the request names, parsed (null for none). */
  public void modelNamed(@Nullable ModelName name) {
    once(this.modelName != null, "modelName");
    this.modelName = name;
  }

  /**
   * guard.prompt: the guard's verdict on the prompt, its score, and the rule families that fired.
   */
  public void guarded(String verdict, double score, @Nullable String families) {
    once(guard.verdict() != null, "the guard's verdict");
    this.guard = new GuardResult(verdict, score, families, guard.secrets());
  }

  /** guard.prompt: the secrets found, as kind:count pairs. */
  public void secretsFound(String summary) {
    once(guard.secrets() != null, "the guard's secrets");
    this.guard = new GuardResult(guard.verdict(), guard.score(), guard.families(), summary);
  }

  /** guard.prompt: the guard itself failed; what it recorded before stays. */
  public void guardFailed() {
    this.guard = new GuardResult("error", guard.score(), guard.families(), guard.secrets());
  }

  /** limit.admit: the gateway asked the upstream for usage the client did not ask for. */
  public void askedForUsage() {
    once(stripUsage, "stripUsage");
    this.stripUsage = true;
  }

  /** limit.admit: what frees the concurrency slot this request holds, run by {@link #freeSlot}. */
  public void slotHeld(Supplier<Future<Void>> release) {
    once(this.release != null, "release");
    this.release = release;
  }

  /**
   * listen: what gives back the memory the body holds, run by {@link #freeBody}; a second run gives
   * back nothing.
   */
  public void bodyHeld(Runnable release) {
    once(this.bodyRelease != null, "bodyRelease");
    this.bodyRelease = release;
  }

  /**
   * proxy: the upstream that answered has the whole body, and no other upstream will be sent it
   * (failover happens only before an answer). The bytes are let go and their share of {@code
   * limits.body_memory} given back now rather than when the response ends, which for a stream can
   * be minutes later. The policy fields stay: the audit record and the probe scoring read them.
   */
  public void bodyForwarded() {
    this.body = null;
    this.bodyLayout = null;
    freeBody();
  }

  /** The pipeline's proxy step: relaying has started. */
  public void startedRelaying() {
    once(relaying, "relaying");
    this.relaying = true;
  }

  /** Adds a response tap after those already there; null adds nothing. */
  public void addTap(@Nullable ResponseTap next) {
    tap = ResponseTap.chain(tap, next);
  }

  /** proxy: what to do if the client goes away before the response is complete. */
  public void whenClientGone(Runnable cancel) {
    once(this.onClientGone != null, "onClientGone");
    this.onClientGone = cancel;
  }

  /** proxy: the request was sent upstream at this {@code System.nanoTime()}. */
  public void upstreamStarted(long nanoTime) {
    once(upstreamStartNanos != 0, "upstreamStartNanos");
    this.upstreamStartNanos = nanoTime;
  }

  /** proxy: the upstream's response head arrived, this many nanos after the start. */
  public void upstreamAnswered(long firstByteNanos) {
    once(upstreamFirstByteNanos != 0, "upstreamFirstByteNanos");
    this.upstreamFirstByteNanos = firstByteNanos;
  }

  /** The pipeline or the relay: response body bytes sent. */
  public void addBytesOut(long n) {
    this.bytesOut += n;
  }

  /**
   * The pipeline's refusal, or the relay's stream cut: the problem that ends this request, and why
   * (for the log); a null reason keeps the one already recorded.
   */
  public void refused(Problem problem, @Nullable String logReason) {
    this.problem = problem;
    if (logReason != null) {
      this.logReason = logReason;
    }
  }

  /**
   * The pipeline's end and close handler: the client went away before its response was complete, so
   * whatever still runs for it is cancelled.
   */
  public void clientLeft() {
    once(clientGone, "clientGone");
    this.clientGone = true;
    if (onClientGone != null) {
      onClientGone.run();
    }
  }

  /**
   * The pipeline: marks the audit record queued; true the first time only, so it is queued once.
   */
  public boolean markAudited() {
    boolean first = !audited;
    audited = true;
    return first;
  }

  /** authorize.pins: the model is pinned to this digest, which its upstream must have. */
  public void pinned(String digest) {
    once(this.pinnedDigest != null, "pinnedDigest");
    this.pinnedDigest = digest;
  }

  /** The identify refusal's body peek: the first bytes of the body, for probe detection only. */
  public void bodyPeeked(byte[] prefix) {
    once(this.bodyPeek != null, "bodyPeek");
    this.bodyPeek = prefix;
  }

  /**
   * Ends the response through {@link #end}: every complete response the gateway sends goes through
   * here, so that its audit record is durable, and its concurrency slot free, before the client has
   * all of it.
   */
  public void end(Runnable ending) {
    if (beforeEnd == null) {
      ending.run();
    } else {
      beforeEnd.accept(this, ending);
    }
  }
}

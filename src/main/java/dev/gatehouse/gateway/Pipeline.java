package dev.gatehouse.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.abuse.AuthFailures;
import dev.gatehouse.abuse.BodyPeek;
import dev.gatehouse.abuse.ProbeDetector;
import dev.gatehouse.account.AccessLog;
import dev.gatehouse.account.Accounting;
import dev.gatehouse.account.AuditTurn;
import dev.gatehouse.account.UsageMeters;
import dev.gatehouse.authorize.Authorizer;
import dev.gatehouse.authorize.NetworkPolicy;
import dev.gatehouse.authorize.PinnedModels;
import dev.gatehouse.authorize.RouteTable;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.FramingRefusal;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Readiness;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.exchange.RequestIds;
import dev.gatehouse.exchange.RequestTarget;
import dev.gatehouse.exchange.ResponseTap;
import dev.gatehouse.exchange.Stage;
import dev.gatehouse.exchange.Stage.Step;
import dev.gatehouse.identify.Identifier;
import dev.gatehouse.identify.cert.PeerCertificate;
import dev.gatehouse.limit.ConcurrencyGate;
import dev.gatehouse.limit.Limiter;
import dev.gatehouse.listen.BodyMemory;
import dev.gatehouse.listen.BodyReader;
import dev.gatehouse.listen.ClientGate;
import dev.gatehouse.listen.Cors;
import dev.gatehouse.listen.StrictFraming;
import dev.gatehouse.proxy.Relay;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The request path, in order. This is the one place the stage order is written down:
 *
 * <ol>
 *   <li><b>listen</b>: who is calling (network rules, IoC list, bans, Host; 403 or a closed
 *       connection), CORS preflights, strict request-target and header checks (400, 431);
 *   <li><b>identify</b>: the API key becomes a principal (401; failures count toward a ban, and
 *       past the per-address rate for anonymous requests they get 429);
 *   <li><b>authorize</b>: the key's own network rule (403), route classification (404, 405) and
 *       scope (403);
 *   <li><b>limit</b>: rates per key and address and token budgets (429);
 *   <li><b>listen</b> reads and checks the body (400, 413); <b>authorize</b> checks the models it
 *       names and their pins (403); <b>limit</b> applies request caps (400) and takes a concurrency
 *       slot, perhaps after a bounded wait (429, 503);
 *   <li><b>guard</b>: prompt-injection, jailbreak and secret checks (403), after the model checks
 *       and before the concurrency slot is taken;
 *   <li><b>proxy</b>: relay to the upstream, streaming;
 *   <li><b>account</b>: token usage metered as the response streams, one log record and one audit
 *       record per request, refusals included (a complete response's last byte waits until its
 *       audit record is durable), counted in the metrics and shown to the alert rules, and probe
 *       detection.
 * </ol>
 *
 * <p>{@link #steps} is that order as code: one {@link Stage} per line, each in its phase (before
 * the body is read, or after it). Adding a stage is one line there plus its wiring. A stage that
 * decides at once costs no callback; one that waits (the pin check, the concurrency queue, the body
 * peek) continues the list from its future. A refused request is answered here and never reaches
 * the upstream. Stages never call each other; each returns a result or a {@link Rejection} to this
 * class, and a stage's failure is answered with its own problem (fail closed). One per event loop.
 */
public final class Pipeline implements Handler<HttpServerRequest> {

  private final GatehouseConfig config;
  private final RouteTable routes;
  private final Identifier identifier;
  private final Authorizer authorizer;
  private final BodyReader bodies;
  private final Relay relay;

  /** What /readyz asks, in order: the upstreams first, then the shared store and limits. */
  private final List<Readiness> readiness;

  private final AccessLog accessLog;
  private final Limiter limiter;
  private final UsageMeters usage;
  private final @Nullable PinnedModels pins;
  private final Accounting accounting;

  /** This event loop's hand-off of audit records (one pipeline serves one loop). */
  private final AuditTurn auditTurn;

  private final @Nullable String hsts;
  private final ClientGate gate;
  private final Cors cors;
  private final AuthFailures authFailures;
  private final ProbeDetector probes;
  private final BodyPeek bodyPeek;
  private final dev.gatehouse.guard.GuardStage guard;

  /** The stages before the body is read, and after it, in order (from {@link #steps}). */
  private final List<Step> head;

  private final List<Step> body;

  /** Tarpitted refusals waiting on this event loop; past the cap they are answered at once. */
  private int tarpitted;

  public Pipeline(
      GatehouseConfig config,
      RouteTable routes,
      Identifier identifier,
      Authorizer authorizer,
      Limiter limiter,
      Relay relay,
      UsageMeters usage,
      AccessLog accessLog,
      @Nullable PinnedModels pins,
      Accounting accounting,
      ClientGate gate,
      Cors cors,
      AuthFailures authFailures,
      ProbeDetector probes,
      BodyMemory bodyMemory,
      dev.gatehouse.guard.GuardStage guard,
      List<Readiness> readiness) {
    this.readiness = List.copyOf(readiness);
    this.gate = gate;
    this.cors = cors;
    this.authFailures = authFailures;
    this.probes = probes;
    this.guard = guard;
    this.config = config;
    this.routes = routes;
    this.identifier = identifier;
    this.authorizer = authorizer;
    this.bodies = new BodyReader(config.limits().maxBody(), config.limits().maxBlob(), bodyMemory);
    this.relay = relay;
    this.accessLog = accessLog;
    this.limiter = limiter;
    this.usage = usage;
    this.pins = pins;
    this.accounting = accounting;
    this.auditTurn = accounting.newTurn();
    this.bodyPeek =
        new BodyPeek(config.probes().bodyPeekBytes(), config.probes().bodyPeekTimeout().toMillis());
    long hstsSeconds = config.tls().hstsMaxAge().toSeconds();
    this.hsts = config.tlsEnabled() && hstsSeconds > 0 ? "max-age=" + hstsSeconds : null;
    List<Step> all = steps();
    this.head = all.stream().filter(st -> st.phase() == Stage.Phase.HEAD).toList();
    this.body = all.stream().filter(st -> st.phase() == Stage.Phase.BODY).toList();
  }

  /** The stage names in order, the HEAD phase first. */
  public List<String> stageNames() {
    return java.util.stream.Stream.concat(head.stream(), body.stream()).map(Step::name).toList();
  }

  /**
   * The request path, in order: one line per stage. The HEAD phase runs before the body is read,
   * the BODY phase after it; then the proxy relays, and the account taps watch the response.
   */
  private List<Step> steps() {
    return List.of(
        // listen: who is calling, and is the request well formed?
        Step.head("listen.target", this::target),
        Step.head(
            "listen.gate", x -> Stage.refuse(gate.check(x))), // network rules, IoC list, bans, Host
        Step.head("listen.shape", this::shape), // a parsed target, the header cap
        Step.head("listen.cors", this::cors), // a preflight from an allowed origin: answered here
        Step.head("listen.health", this::health), // /healthz, /readyz: answered here
        // account, checked up front: a gateway that cannot write its audit record serves nothing
        Step.head("account.audit_available", this::auditAvailable),
        // identify: the key becomes a principal
        Step.head("identify.key", this::identify),
        // authorize: from this address, this operation, this scope
        Step.head(
            "authorize.network",
            x ->
                Stage.refuse(
                    NetworkPolicy.check(
                        Objects.requireNonNull(x.principal(), "identify.key ran"),
                        x.clientAddress()))),
        Step.head("authorize.route", this::route),
        Step.head(
            "authorize.scope",
            x ->
                Stage.refuse(
                    authorizer.scope(
                        Objects.requireNonNull(x.principal(), "identify.key ran"),
                        Objects.requireNonNull(x.route(), "authorize.route ran")))),
        // limit, the part that needs no body: rates per key and address, token budgets
        Step.head("limit.rates", limiter::rates).failingAs(Problem.LIMITER_UNAVAILABLE),
        // (listen reads the body here, between the phases: bounded and well formed)
        // authorize: the models the body names, and their pins
        Step.body("authorize.models", x -> Stage.refuse(authorizer.models(x))),
        Step.body("authorize.pins", x -> pins == null ? Stage.next() : pins.check(x))
            .failingAs(Problem.PIN_CHECK_UNAVAILABLE),
        // guard: prompt checks, before a concurrency slot is taken (a refusal holds none)
        Step.body("guard.prompt", x -> Stage.refuse(guard.check(x)))
            .failingAs(Problem.GUARD_UNAVAILABLE),
        // limit, the rest: request caps and a concurrency slot (which may wait in a queue)
        Step.body("limit.admit", limiter::admit).failingAs(Problem.LIMITER_UNAVAILABLE));
  }

  @Override
  public void handle(HttpServerRequest req) {
    handle(req, head, body, true);
  }

  /**
   * This pipeline as a bare relay, for {@code gatehouse bench-relay} only (never {@code serve}):
   * the steps the relay cannot do without (a parsed target and its route, which says how the body
   * travels), every request as {@link Identifier#ANONYMOUS}, and no account (no audit record, log
   * line, metrics, alerts, usage or probe scoring). The gap to the full pipeline is the cost of the
   * safeguards.
   */
  Handler<HttpServerRequest> relayOnly() {
    List<Step> needed =
        java.util.stream.Stream.concat(
                head.stream().filter(s -> RELAY_NEEDS.contains(s.name())),
                java.util.stream.Stream.of(
                    Step.head(
                        "identify.none",
                        x -> {
                          x.identified(Identifier.ANONYMOUS);
                          return Stage.next();
                        })))
            .toList();
    return req -> handle(req, needed, List.of(), false);
  }

  /** The steps of {@link #steps} a relay-only pipeline keeps. */
  private static final java.util.Set<String> RELAY_NEEDS =
      java.util.Set.of("listen.target", "listen.shape", "authorize.route");

  private void handle(
      HttpServerRequest req, List<Step> headSteps, List<Step> bodySteps, boolean account) {
    Exchange x =
        new Exchange(
            req,
            RequestIds.next(),
            System.currentTimeMillis(),
            System.nanoTime(),
            account ? this::endAudited : (ex, ending) -> afterCounted(ex, ending).run());
    HttpServerResponse resp = x.response();
    resp.putHeader("X-Request-Id", x.requestId());
    if (hsts != null) {
      resp.putHeader("Strict-Transport-Security", hsts);
    }
    boolean[] logged = new boolean[1];
    // Vert.x calls the end handler also when the connection closes before the response ended,
    // and then the close handler: both come here, and only the first counts.
    Handler<Void> finish =
        v -> {
          if (logged[0]) {
            return;
          }
          logged[0] = true;
          if (!resp.ended()) {
            x.clientLeft(); // the client went away first: cancel whatever still runs for it
            cutByFraming(x);
          }
          if (x.tap() != null) {
            x.tap().onAbort(); // no-op when the stream already settled
          }
          x.freeSlot(); // a response that did not end whole (reset, client gone) frees it here
          x.freeBody();
          if (!account) {
            return; // relay only (bench-relay): nothing is recorded
          }
          if (x.relaying()) {
            accounting.metrics().streamClosed();
          }
          accessLog.record(x);
          if (x.markAudited()) { // account: a response that did not end whole (reset, client gone)
            // is audited, and scored, here
            accounting.record(x, resp.getStatusCode(), auditTurn);
            probes.observe(x);
          }
        };
    resp.endHandler(finish);
    resp.closeHandler(finish);
    run(
        x,
        headSteps,
        0,
        () ->
            bodies
                .read(x)
                .onComplete(
                    ar -> {
                      if (ar.failed()) {
                        reject(
                            x,
                            new Rejection(
                                Problem.BODY_INVALID_JSON,
                                "request body could not be read",
                                "request body: " + ar.cause().getMessage()));
                      } else if (ar.result() != null) {
                        reject(x, ar.result());
                      } else {
                        run(x, bodySteps, 0, () -> proxy(x, account));
                      }
                    }));
  }

  /**
   * Runs {@code stages} from {@code i} on, then {@code then}. A stage whose future is already
   * complete is followed at once, on this stack; a pending one continues from its callback.
   */
  private void run(Exchange x, List<Step> stages, int i, Runnable then) {
    for (; i < stages.size(); i++) {
      Step step = stages.get(i);
      Future<Rejection> f;
      try {
        f = step.stage().apply(x);
      } catch (RuntimeException | StackOverflowError e) {
        f = Future.failedFuture(e);
      }
      if (!f.isComplete()) {
        int next = i + 1;
        f.onComplete(
            ar -> {
              if (settle(x, step, ar)) {
                run(x, stages, next, then);
              }
            });
        return;
      }
      if (!settle(x, step, f)) {
        return;
      }
    }
    then.run();
  }

  /** Acts on a stage's answer; true when the request goes on. Every failure denies. */
  @SuppressWarnings("ReferenceEquality") // Stage.ANSWERED is a sentinel, known by identity
  private boolean settle(Exchange x, Step step, AsyncResult<Rejection> ar) {
    if (ar.failed()) {
      reject(x, Rejection.logged(step.onFailure(), step.name() + ": " + ar.cause()));
      return false;
    }
    Rejection r = ar.result();
    if (r == Stage.ANSWERED) {
      return false;
    }
    if (r != null) {
      reject(x, r);
      return false;
    }
    return true;
  }

  // The stages that take more than one call, each one step of the list above.

  /**
   * listen: the request target and the dialect its path implies; a malformed one is refused after
   * the gate.
   */
  private Future<Rejection> target(Exchange x) {
    x.targeted(
        RequestTarget.parse(x.request().uri())); // the dialect follows from the target's path
    return Stage.next();
  }

  /** listen: a target that parsed, and no more header lines than the cap. */
  private Future<Rejection> shape(Exchange x) {
    if (x.target() == null) {
      return Stage.refuse(Rejection.of(Problem.TARGET_MALFORMED));
    }
    return Stage.refuse(
        headerCount(x.request()) > config.limits().maxHeaders()
            ? Rejection.of(Problem.HEADERS_TOO_MANY)
            : null);
  }

  private Future<Rejection> cors(Exchange x) {
    return cors.handle(x) ? Stage.refuse(Stage.ANSWERED) : Stage.next();
  }

  /** account: the refusal is still offered to the audit writer, which keeps it for its retry. */
  private Future<Rejection> auditAvailable(Exchange x) {
    return Stage.refuse(
        accounting.auditAvailable()
            ? null
            : new Rejection(
                Problem.AUDIT_UNAVAILABLE,
                Problem.AUDIT_UNAVAILABLE.message,
                accounting.auditUnavailableReason(),
                1,
                false,
                0));
  }

  /**
   * identify: the API key becomes a principal. A refusal counts toward a ban, is rate-limited per
   * address for anonymous callers, and first reads a bounded prefix of the body for probe detection
   * only (scanners' signatures live in their bodies). The answer is the same as without the peek,
   * Connection: close included when a body was on its way; nothing is forwarded.
   */
  private Future<Rejection> identify(Exchange x) {
    Future<Identifier.Identity> who =
        identifier.resolve(
            x.request().headers(),
            PeerCertificate.of(x.request()),
            Instant.ofEpochMilli(x.startMillis()));
    if (!who.isComplete()) {
      // A JWT waits for its provider's key set: body chunks that arrived with no handler set would
      // be dropped, so hold them; whichever reads the body next resumes (as limit/Limiter does)
      x.request().pause();
    }
    return who.compose(w -> identified(x, w));
  }

  private Future<Rejection> identified(Exchange x, Identifier.Identity who) {
    if (who.rejection() == null) {
      x.identified(
          Objects.requireNonNull(
              who.principal(), "an identity without a rejection has a principal"));
      return Stage.next();
    }
    authFailures.observe(x, who.rejection()); // enough 401s from one address ban it
    x.closeAfterRefusal(hasUnreadBody(x.request()));
    // limit: guessing keys is rate-limited per address (a limiter failure is its own refusal)
    return limiter
        .anonymous(x)
        .compose(
            throttled -> {
              Rejection refusal = throttled != null ? throttled : who.rejection();
              return bodyPeek.peek(x).transform(peeked -> Future.succeededFuture(refusal));
            });
  }

  /** authorize: which operation (404; 405 with Allow). */
  private Future<Rejection> route(Exchange x) {
    RouteTable.Match match =
        routes.match(
            x.request().method().name(),
            Objects.requireNonNull(x.target(), "listen.shape ran").path());
    if (match.route() == null) {
      if (match.pathKnown()) {
        x.response().putHeader("Allow", String.join(", ", match.allowedMethods()));
        return Stage.refuse(Rejection.of(Problem.METHOD_NOT_ALLOWED));
      }
      return Stage.refuse(Rejection.of(Problem.ENDPOINT_UNKNOWN));
    }
    x.routed(
        match.route(),
        match.route().param() ? x.target().path().substring(match.route().path().length()) : null);
    return Stage.next();
  }

  /** proxy: the usage meter taps the response as it streams, and the relay forwards it. */
  private void proxy(Exchange x, boolean account) {
    x.startedRelaying();
    JsonNode fields = x.json();
    if (fields != null && !accounting.capturesPrompts()) {
      x.letFieldsGo(ProbeDetector.helloProbe(fields)); // no stage after this one reads them
    }
    if (account) {
      x.addTap(
          usage.meter(
              x, limiter.budgets(Objects.requireNonNull(x.principal(), "identify.key ran"))));
      accounting.metrics().streamOpened();
    }
    relay.forward(x, r -> reject(x, r));
  }

  /**
   * account: queues the request's audit record and ends the response only once the writer has it in
   * the file (written, or fsynced with audit.durability: fsync), so a client never holds a complete
   * response that the audit log lacks. If the record cannot be written, the response is aborted
   * instead (the client sees a truncated response).
   */
  private void endAudited(Exchange x, Runnable last) {
    Runnable ending = afterCounted(x, last); // counted while the record is written
    if (!x.markAudited()) {
      ending.run();
      return;
    }
    var written = accounting.record(x, x.response().getStatusCode(), auditTurn);
    // account: every request is scored, refusals included, before its client has the answer, so
    // a verdict (a ban) holds for whatever the client sends once it has it
    probes.observe(x);
    if (!config.audit().waitForDurable()
        || x.problem() == Problem.AUDIT_UNAVAILABLE
        || (x.upstreamStartNanos() == 0 && !accounting.auditAvailable())) {
      // audit.durability: batch: nothing waits; the writer's next batch covers it. While the audit
      // log is
      // failing, a record cannot be durable now; a response that was never relayed (a refusal,
      // /healthz, /readyz) serves nothing, so it is sent anyway and its record is held for the
      // writer's retry. A relayed one is aborted below instead.
      ending.run();
      return;
    }
    io.vertx.core.Context ctx = io.vertx.core.Vertx.currentContext();
    written.whenComplete(
        (v, err) ->
            ctx.runOnContext(
                h -> {
                  if (x.response().ended() || x.response().closed()) {
                    return;
                  }
                  if (err != null) {
                    x.response().reset();
                    return;
                  }
                  ending.run();
                }));
  }

  /**
   * Frees the request's concurrency slot before the response's last bytes go out, and has {@code
   * ending} wait until neither the slot nor the response's usage can mislead the client's next
   * request, through this gateway or another: that request finds its slot back, and its tokens
   * spent. Local counts answer at once. Shared ones answer after one Redis round trip (bounded by
   * {@code redis.timeout}) when the slot filled a cap or the key has a budget, else at once ({@link
   * ConcurrencyGate.Slot#release}, {@link ResponseTap#settled}). A failure does not hold the
   * answer: the slot's lease frees it, and the ledger refuses the key until it has recorded what it
   * owes.
   */
  private static Runnable afterCounted(Exchange x, Runnable ending) {
    Future<Void> freed = x.freeSlot();
    ResponseTap tap = x.tap();
    Future<Void> settled = tap == null ? freed : tap.settled();
    io.vertx.core.Context ctx = io.vertx.core.Vertx.currentContext();
    if ((freed.isComplete() && settled.isComplete()) || ctx == null) {
      return ending; // local counts: nothing to wait for
    }
    Future<?> counted = Future.join(freed, settled);
    return () ->
        counted.onComplete(
            ar ->
                ctx.runOnContext(
                    v -> {
                      if (!x.response().ended() && !x.response().closed()) {
                        ending.run();
                      }
                    }));
  }

  /** listen: liveness and readiness, answered here without a key. */
  private Future<Rejection> health(Exchange x) {
    String path = Objects.requireNonNull(x.target(), "listen.shape ran").path();
    if (!path.equals("/healthz") && !path.equals("/readyz")) {
      return Stage.next();
    }
    String method = x.request().method().name();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      x.response().putHeader("Allow", "GET, HEAD");
      return Stage.refuse(Rejection.of(Problem.METHOD_NOT_ALLOWED));
    }
    x.response().putHeader("Content-Type", "application/json");
    x.response().putHeader("Cache-Control", "no-store");
    if (path.equals("/healthz")) {
      Buffer ok = sized(x.response(), "{\"status\":\"ok\"}"); // liveness: nothing behind it
      x.end(() -> x.response().end(ok));
      return Stage.refuse(Stage.ANSWERED);
    }
    // Every part is asked at once; the first not ready (in list order) names the answer.
    List<Future<Boolean>> answers =
        readiness.stream().map(r -> r.ready().otherwise(false)).toList();
    return Future.join(answers)
        .transform(
            ar -> {
              String down = null;
              for (int i = 0; i < answers.size() && down == null; i++) {
                Future<Boolean> f = answers.get(i);
                if (!(f.succeeded() && Boolean.TRUE.equals(f.result()))) {
                  down = readiness.get(i).notReadyStatus();
                }
              }
              // not ready while requests would get audit.unavailable
              if (down == null && !accounting.auditAvailable()) {
                down = "audit_unavailable";
              }
              String status = down == null ? "ready" : down;
              x.response().setStatusCode(down == null ? 200 : 503);
              Buffer answer = sized(x.response(), "{\"status\":\"" + status + "\"}");
              x.end(() -> x.response().end(answer));
              return Future.succeededFuture(Stage.ANSWERED);
            });
  }

  /**
   * listen, then account: a request the framing check refused before this pipeline saw it (its
   * bytes are not HTTP/1.x as framed, or pass the decoder's limits), recorded as any refusal is: a
   * log line, an audit record, the metrics and alert rules, and probe scoring. {@code client} is
   * the connection's peer (the PROXY header's, with that protocol on); {@code scored} is false when
   * that peer is a trusted proxy whose clients cannot be told apart, which is never scored for
   * them. Call on this pipeline's event loop.
   */
  public void framingRefused(
      FramingRefusal r, dev.gatehouse.config.@Nullable IpAddress client, boolean scored) {
    String ip = client == null ? "-" : client.text();
    accessLog.recordRefused(r, ip);
    accounting.recordRefused(r, ip, auditTurn);
    if (scored && client != null) {
      probes.observe(r, client);
    }
  }

  /**
   * A response that did not end: if the framing check cut it (its request's body broke the framing,
   * and the check answered or closed the connection), its record says so, with the status the
   * client was sent and the check's request id, rather than a client that went away.
   */
  private static void cutByFraming(Exchange x) {
    FramingRefusal cut = StrictFraming.cut(x.request().connection());
    if (cut == null) {
      return;
    }
    x.refused(
        cut.problem(),
        "framing check: "
            + cut.why()
            + (cut.answered() ? " (answered as request " + cut.requestId() + ")" : ""));
    if (cut.answered() && !x.response().headWritten()) {
      x.response().setStatusCode(cut.status()); // for the record: the check's answer was sent
      x.addBytesOut(cut.bytesOut());
    }
  }

  /** Most tarpitted refusals held at once per event loop; each holds a connection open. */
  private static final int MAX_TARPITTED = 1024;

  /**
   * Answers a refusal in the client's dialect, or closes the connection instead when the refusal
   * says so (a banned client). A delayed refusal (a tarpitted client) waits on a timer, not a
   * thread. Safe to call once the response has started.
   */
  private void reject(Exchange x, Rejection r) {
    x.refused(
        r.problem(),
        r.logReason()); // set first: a client that leaves while tarpitted is logged as refused
    if (r.delayMillis() > 0 && tarpitted < MAX_TARPITTED) {
      tarpitted++;
      io.vertx.core.Vertx.currentContext()
          .owner()
          .setTimer(
              r.delayMillis(),
              id -> {
                tarpitted--;
                reject(x, r.delayed(0));
              });
      return;
    }
    HttpServerResponse resp = x.response();
    if (resp.ended() || resp.closed()) {
      return;
    }
    if (r.close()) {
      resp.setStatusCode(r.problem().status); // for the log; nothing is sent
      x.refused(
          r.problem(),
          (x.logReason() == null ? "" : x.logReason() + "; ")
              + "closed without an answer (bans.refusal)");
      x.request().connection().close();
      return;
    }
    if (resp.headWritten()) {
      resp.reset(); // mid-response: the relay's own cut handles streams; anything else aborts
      return;
    }
    resp.setStatusCode(r.problem().status);
    resp.putHeader("Content-Type", "application/json; charset=utf-8");
    resp.putHeader("Cache-Control", "no-store");
    if (r.retryAfterSeconds() > 0) {
      resp.putHeader("Retry-After", Long.toString(r.retryAfterSeconds()));
    }
    if (r.problem() == Problem.KEY_INVALID) {
      resp.putHeader("WWW-Authenticate", "Bearer realm=\"gatehouse\"");
    }
    Buffer body = sized(resp, x.dialect().errorBody(r.problem(), r.message(), x.requestId()));
    x.addBytesOut(body.length());
    if (x.closeAfterRefusal() || hasUnreadBody(x.request())) {
      // The client may still be sending a body we will not read: close the connection rather
      // than read the rest of it, or mistake it for the next request. HTTP/2 has no Connection
      // header (RFC 9113 8.2.2: a client must treat a response with one as malformed, and the
      // JDK's client does); there the unread stream is reset and the connection stays.
      if (x.request().version() != io.vertx.core.http.HttpVersion.HTTP_2) {
        resp.putHeader("Connection", "close");
      }
      x.end(
          () ->
              resp.end(body)
                  .onComplete(
                      v -> {
                        if (x.request().version() != io.vertx.core.http.HttpVersion.HTTP_2) {
                          x.request().connection().close();
                        }
                      }));
      return;
    }
    x.end(() -> resp.end(body));
  }

  /**
   * {@code text} as the body of an answer Gatehouse writes itself, with its Content-Length set in
   * the usual case: the one Vert.x adds on its own is {@code content-length}, a lower-case name
   * beside the canonical others, by which a scanner reading bytes tells the foundation.
   */
  static Buffer sized(HttpServerResponse resp, String text) {
    Buffer body = Buffer.buffer(text);
    resp.putHeader("Content-Length", Integer.toString(body.length()));
    return body;
  }

  /** Header lines, repeats included (Vert.x's size() counts distinct names only). */
  private static int headerCount(HttpServerRequest req) {
    int n = 0;
    for (var ignored : req.headers()) {
      n++;
    }
    return n;
  }

  private static boolean hasUnreadBody(HttpServerRequest req) {
    if (req.isEnded()) {
      return false;
    }
    String cl = req.getHeader("Content-Length");
    return (cl != null && !cl.equals("0")) || req.getHeader("Transfer-Encoding") != null;
  }
}

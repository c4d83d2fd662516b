package dev.gatehouse.gateway;

import dev.gatehouse.account.AccessLog;
import dev.gatehouse.account.Accounting;
import dev.gatehouse.account.AuthFailures;
import dev.gatehouse.account.BodyPeek;
import dev.gatehouse.account.ProbeDetector;
import dev.gatehouse.account.UsageMeters;
import dev.gatehouse.authorize.Authorizer;
import dev.gatehouse.authorize.NetworkPolicy;
import dev.gatehouse.authorize.PinnedModels;
import dev.gatehouse.authorize.RouteTable;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.identify.Identifier;
import dev.gatehouse.limit.Limiter;
import dev.gatehouse.listen.BodyReader;
import dev.gatehouse.listen.ClientGate;
import dev.gatehouse.listen.Cors;
import dev.gatehouse.listen.RequestTarget;
import dev.gatehouse.pipeline.Dialect;
import dev.gatehouse.pipeline.Exchange;
import dev.gatehouse.pipeline.Problem;
import dev.gatehouse.pipeline.Rejection;
import dev.gatehouse.proxy.Relay;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

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
 *   <li><b>listen</b> reads and checks the body (400, 413); <b>authorize</b> checks the models
 *       it names and their pins (403); <b>limit</b> applies request caps (400) and takes a
 *       concurrency slot, perhaps after a bounded wait (429, 503);
 *   <li><b>guard</b>: prompt-injection, jailbreak and secret checks (403), after the model checks
 *       and before the concurrency slot is taken;
 *   <li><b>proxy</b>: relay to the upstream, streaming;
 *   <li><b>account</b>: token usage metered as the response streams, one log record and one
 *       audit record per request, refusals included (a complete response's last byte waits until
 *       its audit record is durable), counted in the metrics and shown to the alert rules, and
 *       probe detection.
 * </ol>
 *
 * <p>A refused request is answered here and never reaches the upstream. Stages never call each
 * other; each returns a result or a {@link Rejection} to this class. One per event loop.
 */
public final class Pipeline implements Handler<HttpServerRequest> {

  private final GatehouseConfig config;
  private final RouteTable routes;
  private final Identifier identifier;
  private final Authorizer authorizer;
  private final BodyReader bodies;
  private final Relay relay;
  private final AccessLog accessLog;
  private final Limiter limiter;
  private final UsageMeters usage;
  private final PinnedModels pins;
  private final Accounting accounting;
  private final String hsts;
  private final ClientGate gate;
  private final Cors cors;
  private final AuthFailures authFailures;
  private final ProbeDetector probes;
  private final BodyPeek bodyPeek;
  private final dev.gatehouse.guard.GuardStage guard;
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
      PinnedModels pins,
      Accounting accounting,
      ClientGate gate,
      Cors cors,
      AuthFailures authFailures,
      ProbeDetector probes) {
    this.gate = gate;
    this.cors = cors;
    this.authFailures = authFailures;
    this.probes = probes;
    this.guard = dev.gatehouse.guard.GuardStage.of(config.guard());
    this.config = config;
    this.routes = routes;
    this.identifier = identifier;
    this.authorizer = authorizer;
    this.bodies = new BodyReader(config.limits().maxBody(), config.limits().maxBlob());
    this.relay = relay;
    this.accessLog = accessLog;
    this.limiter = limiter;
    this.usage = usage;
    this.pins = pins;
    this.accounting = accounting;
    this.bodyPeek = new BodyPeek(config.probes().bodyPeekBytes(), config.probes().bodyPeekTimeout().toMillis());
    long hstsSeconds = config.tls().hstsMaxAge().toSeconds();
    this.hsts = config.tlsEnabled() && hstsSeconds > 0 ? "max-age=" + hstsSeconds : null;
  }

  @Override
  public void handle(HttpServerRequest req) {
    Exchange x = new Exchange(req, newRequestId(), System.currentTimeMillis(), System.nanoTime());
    HttpServerResponse resp = x.response;
    resp.putHeader("X-Request-Id", x.requestId);
    if (hsts != null) {
      resp.putHeader("Strict-Transport-Security", hsts);
    }
    boolean[] logged = new boolean[1];
    boolean[] relaying = new boolean[1];
    // Vert.x calls the end handler also when the connection closes before the response ended,
    // and then the close handler: both come here, and only the first counts.
    Handler<Void> finish = v -> {
      if (logged[0]) {
        return;
      }
      logged[0] = true;
      if (!resp.ended()) {
        x.clientGone = true; // the client went away first: cancel whatever still runs for it
        if (x.onClientGone != null) {
          x.onClientGone.run();
        }
      }
      if (x.tap != null) {
        x.tap.onAbort(); // no-op when the stream already settled
      }
      if (x.release != null) {
        x.release.run();
      }
      if (relaying[0]) {
        accounting.metrics().streamClosed();
      }
      accessLog.record(x);
      if (!x.audited) { // account: a response that did not end whole (reset, client gone) is audited here
        x.audited = true;
        accounting.record(x, resp.getStatusCode());
      }
      probes.observe(x); // account: scores every finished request, refusals included
    };
    x.beforeEnd = ending -> endAudited(x, ending);
    resp.endHandler(finish);
    resp.closeHandler(finish);

    // listen
    x.target = RequestTarget.parse(req.uri());
    if (x.target != null) {
      x.dialect = Dialect.of(x.target.path());
    }
    // may this client use Gatehouse at all? (network rules, IoC list, bans, Host)
    Rejection turnedAway = gate.check(x);
    if (turnedAway != null) {
      reject(x, turnedAway);
      return;
    }
    if (x.target == null) {
      reject(x, Rejection.of(Problem.TARGET_MALFORMED));
      return;
    }
    if (headerCount(req) > config.limits().maxHeaders()) {
      reject(x, Rejection.of(Problem.HEADERS_TOO_MANY));
      return;
    }
    if (cors.handle(x)) {
      return; // a CORS preflight from an allowed origin, answered without a key
    }
    if (x.target.path().equals("/healthz") || x.target.path().equals("/readyz")) {
      health(x);
      return;
    }

    // account, checked up front: a gateway that cannot write its audit record serves nothing
    // (fail closed). The refusal is still offered to the audit writer, which keeps it for its retry.
    if (!accounting.auditAvailable()) {
      reject(x, new Rejection(Problem.AUDIT_UNAVAILABLE, Problem.AUDIT_UNAVAILABLE.message,
          accounting.auditUnavailableReason(), 1, false, 0));
      return;
    }

    // identify
    Identifier.Identity who = identifier.identify(req.headers(), Instant.ofEpochMilli(x.startMillis));
    if (who.rejection() != null) {
      authFailures.observe(x, who.rejection()); // enough 401s from one address ban it
      Rejection throttled = limiter.anonymous(x); // limit: guessing keys is rate-limited per address
      Rejection refusal = throttled != null ? throttled : who.rejection();
      // account: a bounded prefix of the body goes to probe detection only (scanners' signatures
      // live in their bodies). The answer is the same as without it, Connection: close included
      // when a body was on its way, and nothing is forwarded.
      boolean bodyPending = hasUnreadBody(req);
      bodyPeek.peek(x).onComplete(peeked -> reject(x, refusal, bodyPending));
      return;
    }
    x.principal = who.principal();

    // authorize: may this key be used from this address?
    Rejection notFromHere = NetworkPolicy.check(x.principal, x.clientAddress);
    if (notFromHere != null) {
      reject(x, notFromHere);
      return;
    }

    // authorize: which operation, and may this key perform it?
    RouteTable.Match match = routes.match(req.method().name(), x.target.path());
    if (match.route() == null) {
      if (match.pathKnown()) {
        resp.putHeader("Allow", String.join(", ", match.allowedMethods()));
        reject(x, Rejection.of(Problem.METHOD_NOT_ALLOWED));
      } else {
        reject(x, Rejection.of(Problem.ENDPOINT_UNKNOWN));
      }
      return;
    }
    x.route = match.route();
    if (x.route.param()) {
      x.pathParam = x.target.path().substring(x.route.path().length());
    }
    Rejection denied = authorizer.scope(x.principal, x.route);
    if (denied != null) {
      reject(x, denied);
      return;
    }

    // limit, first the part that needs no body: rates per key and address, token budgets
    Rejection limited = limiter.rates(x);
    if (limited != null) {
      reject(x, limited);
      return;
    }

    // listen reads the body (bounded, well-formed), then authorize checks the models it names
    bodies
        .read(x)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                x.logReason = "request body: " + ar.cause().getMessage();
                reject(x, Rejection.of(Problem.BODY_INVALID_JSON, "request body could not be read"));
                return;
              }
              if (ar.result() != null) {
                reject(x, ar.result());
                return;
              }
              Rejection modelDenied = authorizer.models(x);
              if (modelDenied != null) {
                reject(x, modelDenied);
                return;
              }
              // authorize: a pinned model must still have its pinned digest upstream; then
              // limit, the rest: request caps and a concurrency slot (which may wait in a queue)
              Future<Rejection> pinned = pins == null ? Future.succeededFuture(null) : pins.check(x);
              // guard: prompt checks, before a concurrency slot is taken (a refusal holds none)
              // Each step fails closed with its own code: a failure is never another stage's.
              pinned.recover(e -> Future.succeededFuture(Rejection.logged(Problem.PIN_CHECK_UNAVAILABLE, String.valueOf(e))))
                  .map(r -> r != null ? r : guardCheck(x))
                  .compose(r -> r != null ? Future.succeededFuture(r) : limiter.admit(x)
                      .recover(e -> Future.succeededFuture(Rejection.logged(Problem.LIMITER_UNAVAILABLE, String.valueOf(e)))))
                  .onComplete(admitted -> {
                if (admitted.failed() || admitted.result() != null) {
                  reject(x, admitted.failed() ? Rejection.logged(Problem.INTERNAL, String.valueOf(admitted.cause()))
                      : admitted.result());
                  return;
                }
                // account meters the response as it streams; proxy relays it
                x.tap = usage.meter(x, limiter.budgets(x.principal));
                relaying[0] = true;
                accounting.metrics().streamOpened();
                relay.forward(x, r -> reject(x, r));
              });
            });
  }

  /** guard: an error inside the guard refuses the request as the guard's own failure (503). */
  private Rejection guardCheck(Exchange x) {
    try {
      return guard.check(x);
    } catch (RuntimeException | StackOverflowError e) {
      return Rejection.logged(Problem.GUARD_UNAVAILABLE, String.valueOf(e));
    }
  }

  /**
   * account: queues the request's audit record and ends the response only once the record is
   * durable, so a client never holds a complete response that the audit log lacks. If the record
   * cannot be written, the response is aborted instead (the client sees a truncated response).
   */
  private void endAudited(Exchange x, Runnable ending) {
    if (x.audited) {
      ending.run();
      return;
    }
    x.audited = true;
    var written = accounting.record(x, x.response.getStatusCode());
    if (!config.audit().waitForDurable() || x.problem == Problem.AUDIT_UNAVAILABLE
        || (x.upstreamStartNanos == 0 && !accounting.auditAvailable())) {
      // audit.durability: batch: the writer's next fsync covers it. While the audit log is
      // failing, a record cannot be durable now; a response that was never relayed (a refusal,
      // /healthz, /readyz) serves nothing, so it is sent anyway and its record is held for the
      // writer's retry. A relayed one is aborted below instead.
      ending.run();
      return;
    }
    io.vertx.core.Context ctx = io.vertx.core.Vertx.currentContext();
    written.whenComplete((v, err) -> ctx.runOnContext(h -> {
      if (x.response.ended() || x.response.closed()) {
        return;
      }
      if (err != null) {
        x.response.reset();
        return;
      }
      ending.run();
    }));
  }

  private void health(Exchange x) {
    String method = x.request.method().name();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      x.response.putHeader("Allow", "GET, HEAD");
      reject(x, Rejection.of(Problem.METHOD_NOT_ALLOWED));
      return;
    }
    x.response.putHeader("Content-Type", "application/json");
    x.response.putHeader("Cache-Control", "no-store");
    if (x.target.path().equals("/healthz")) {
      x.end(() -> x.response.end("{\"status\":\"ok\"}")); // liveness: says nothing about what is behind
      return;
    }
    relay
        .upstreamReady()
        .onComplete(
            ar -> {
              boolean up = ar.succeeded() && ar.result();
              boolean audited = accounting.auditAvailable(); // not ready while requests would get audit.unavailable
              x.response.setStatusCode(up && audited ? 200 : 503);
              x.end(() -> x.response.end(!up ? "{\"status\":\"upstream_unavailable\"}"
                  : audited ? "{\"status\":\"ready\"}" : "{\"status\":\"audit_unavailable\"}"));
            });
  }

  /** Most tarpitted refusals held at once per event loop; each holds a connection open. */
  private static final int MAX_TARPITTED = 1024;

  /**
   * Answers a refusal in the client's dialect, or closes the connection instead when the refusal
   * says so (a banned client). A delayed refusal (a tarpitted client) waits on a timer, not a
   * thread. Safe to call once the response has started.
   */
  private void reject(Exchange x, Rejection r) {
    reject(x, r, false);
  }

  /** As above; {@code bodyWasPending}: close after answering, as for an unread body, even if it was read since. */
  private void reject(Exchange x, Rejection r, boolean bodyWasPending) {
    x.problem = r.problem(); // set first: a client that leaves while tarpitted is logged as refused
    if (r.logReason() != null) {
      x.logReason = r.logReason();
    }
    if (r.delayMillis() > 0 && tarpitted < MAX_TARPITTED) {
      tarpitted++;
      io.vertx.core.Vertx.currentContext().owner().setTimer(r.delayMillis(), id -> {
        tarpitted--;
        reject(x, r.delayed(0), bodyWasPending);
      });
      return;
    }
    HttpServerResponse resp = x.response;
    if (resp.ended() || resp.closed()) {
      return;
    }
    if (r.close()) {
      resp.setStatusCode(r.problem().status); // for the log; nothing is sent
      x.logReason = (x.logReason == null ? "" : x.logReason + "; ") + "closed without an answer (bans.refusal)";
      x.request.connection().close();
      return;
    }
    if (resp.headWritten()) {
      resp.reset(); // mid-response: the relay's own cut handles streams; anything else aborts
      return;
    }
    resp.setStatusCode(r.problem().status);
    resp.headers().remove("Content-Length");
    resp.putHeader("Content-Type", "application/json; charset=utf-8");
    resp.putHeader("Cache-Control", "no-store");
    if (r.retryAfterSeconds() > 0) {
      resp.putHeader("Retry-After", Long.toString(r.retryAfterSeconds()));
    }
    if (r.problem() == Problem.KEY_INVALID) {
      resp.putHeader("WWW-Authenticate", "Bearer realm=\"gatehouse\"");
    }
    String body = x.dialect.errorBody(r.problem(), r.message(), x.requestId);
    x.bytesOut = body.length();
    if (bodyWasPending || hasUnreadBody(x.request)) {
      // The client may still be sending a body we will not read: close the connection rather
      // than read the rest of it, or mistake it for the next request.
      resp.putHeader("Connection", "close");
      x.end(() -> resp.end(body).onComplete(v -> {
        if (x.request.version() != io.vertx.core.http.HttpVersion.HTTP_2) {
          x.request.connection().close();
        }
      }));
      return;
    }
    x.end(() -> resp.end(body));
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

  private static String newRequestId() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }
}

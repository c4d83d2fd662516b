package dev.gatehouse.admin;

import dev.gatehouse.admin.api.AdminApi;
import dev.gatehouse.admin.auth.AdminAuth;
import dev.gatehouse.admin.auth.BrowserGuard;
import dev.gatehouse.admin.auth.LoginLimiter;
import dev.gatehouse.admin.auth.OidcRoutes;
import dev.gatehouse.admin.auth.SessionRoutes;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.HostPort;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The admin listener, the control plane: loopback by default and apart from the public one. Every
 * request passes, in order: a request id and the security headers; the Host and Origin checks
 * ({@link BrowserGuard}); a 64 KiB body limit; and, on every route but the dashboard's files and
 * login, a credential of the route's role ({@link AdminAuth}). It serves the admin API under {@code
 * /api/} (errors as RFC 9457 problems, {@link ProblemJson}), Prometheus metrics at {@code
 * /metrics}, liveness at {@code /healthz}, the API description at {@code /openapi.json} and the
 * dashboard at {@code /}. Runs on the gateway's Vert.x instance; everything that may block runs off
 * the event loop.
 */
public final class AdminServer implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse.admin");

  /** The Prometheus text exposition format. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** The largest request body; admin requests are small JSON documents. */
  static final long BODY_LIMIT = 64 * 1024;

  /**
   * The dashboard's own files only: no inline script or style, nothing from another origin, no
   * framing, no form or base URL elsewhere.
   */
  static final String CSP =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none';"
          + " base-uri 'none'";

  private final HttpServer server;
  private final int port;
  private final AdminRoutes routes;

  private AdminServer(HttpServer server, int port, AdminRoutes routes) {
    this.server = server;
    this.port = port;
    this.routes = routes;
  }

  /** Starts listening on {@code admin.listen}; blocks until bound, or throws. */
  public static AdminServer start(AdminContext ctx) throws Exception {
    return start(ctx, null);
  }

  /** Starts listening, over TLS when {@code tls} is given (the tests' way to a TLS listener). */
  static AdminServer start(AdminContext ctx, @Nullable KeyCertOptions tls) throws Exception {
    GatehouseConfig config = ctx.config().get();
    HostPort listen =
        Objects.requireNonNull(config.admin().listen(), "admin.listen is set when this starts");
    Vertx vertx = ctx.vertx();
    Router router = Router.router(vertx);
    // Null until the port is known: until then the guard refuses every request.
    java.util.concurrent.atomic.AtomicReference<@Nullable Set<String>> hosts =
        new java.util.concurrent.atomic.AtomicReference<>();
    router.route().handler(AdminServer::headers);
    router.route().handler(new BrowserGuard(hosts::get));
    router.route().handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT));
    router.route().failureHandler(AdminServer::failure);

    AdminAuth auth =
        new AdminAuth(
            vertx,
            ctx.admins(),
            new LoginLimiter(Clock.systemUTC()),
            () -> ctx.config().get().profile() == GatehouseConfig.Profile.PROD);
    AdminRoutes routes = new AdminRoutes(router, auth::require);
    SessionRoutes.register(routes, auth, ctx.admins());
    OidcRoutes.register(routes, vertx, config.admin().oidc(), ctx.admins());
    // Declared like every API route, so that the role check, the OpenAPI test and the refusal
    // tests cover them too.
    routes.add(
        HttpMethod.GET,
        "/metrics",
        Role.VIEWER,
        "Prometheus metrics (text exposition format)",
        rc -> metrics(rc, ctx));
    routes.add(
        HttpMethod.GET,
        "/healthz",
        Role.VIEWER,
        "Liveness of the gateway process",
        rc ->
            rc.response().putHeader("Content-Type", "application/json").end("{\"status\":\"ok\"}"));
    Buffer openApi = classPathFile("admin/openapi.json");
    routes.add(
        HttpMethod.GET,
        "/openapi.json",
        Role.VIEWER,
        "This API's OpenAPI 3.1 document",
        rc -> {
          if (openApi == null) {
            ProblemJson.send(rc, 404, "admin.not_found", "this build has no API description");
            return;
          }
          rc.response().putHeader("Content-Type", "application/json").end(openApi);
        });
    AdminApi.register(routes, ctx);
    DashboardFiles dashboard = new DashboardFiles(vertx);
    router.route("/").handler(dashboard);
    router.route("/assets/*").handler(dashboard);
    router.route().handler(rc -> notFound(rc, routes));

    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(listen.host())
            .setPort(listen.port())
            .setIdleTimeout(60)
            .setHttp2ClearTextEnabled(false);
    if (tls != null) {
      options.setSsl(true).setKeyCertOptions(tls);
    }
    HttpServer server = vertx.createHttpServer(options).requestHandler(router);
    int port = server.listen().await(30, TimeUnit.SECONDS).actualPort();
    hosts.set(BrowserGuard.allowedHosts(listen.host(), port, config.admin().hosts()));
    return new AdminServer(server, port, routes);
  }

  /** Every response: its request id, no caching, and the browser's safety headers. */
  private static void headers(RoutingContext rc) {
    String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    rc.put(ProblemJson.REQUEST_ID, id);
    rc.response()
        .putHeader("X-Request-Id", id)
        .putHeader("Cache-Control", "no-store")
        .putHeader("Content-Security-Policy", CSP)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("X-Frame-Options", "DENY");
    rc.next();
  }

  /** True for GET and HEAD; otherwise answers 405 and returns false. */
  private static void metrics(RoutingContext rc, AdminContext ctx) {
    ctx.vertx()
        .executeBlocking(ctx.gateway().metrics()::scrape, false)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                rc.fail(500, ar.cause());
                return;
              }
              rc.response().putHeader("Content-Type", CONTENT_TYPE).end(ar.result());
            });
  }

  /** No route took the request: 405 with Allow when the path is an API route's, else 404. */
  private static void notFound(RoutingContext rc, AdminRoutes routes) {
    SortedSet<String> allowed = routes.methodsFor(rc.request().path());
    if (!allowed.isEmpty()) {
      rc.response().putHeader("Allow", String.join(", ", allowed));
      ProblemJson.send(
          rc, 405, "admin.method_not_allowed", "this path answers " + String.join(", ", allowed));
      return;
    }
    ProblemJson.send(rc, 404, "admin.not_found", "no such admin route");
  }

  /** A handler failed or a limit was hit: a problem, never a stack trace. */
  private static void failure(RoutingContext rc) {
    int status = rc.statusCode();
    switch (status) {
      case 400 -> ProblemJson.send(rc, 400, "admin.invalid_request", "the request is malformed");
      case 413 ->
          ProblemJson.send(rc, 413, "admin.body_too_large", "request bodies are limited to 64 KiB");
      default -> {
        LOG.log(
            Level.WARNING,
            "admin request " + rc.get(ProblemJson.REQUEST_ID) + " failed",
            rc.failure());
        ProblemJson.send(rc, 500, "admin.internal", "the admin listener failed; see its log");
      }
    }
  }

  private static @Nullable Buffer classPathFile(String name) throws IOException {
    try (InputStream in = AdminServer.class.getClassLoader().getResourceAsStream(name)) {
      return in == null ? null : Buffer.buffer(in.readAllBytes());
    }
  }

  /** The port it listens on. */
  public int port() {
    return port;
  }

  /** The routes registered through {@link AdminRoutes}, which the tests check one by one. */
  public AdminRoutes routes() {
    return routes;
  }

  @Override
  public void close() {
    server.close().await();
  }
}

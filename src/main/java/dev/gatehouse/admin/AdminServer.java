package dev.gatehouse.admin;

import dev.gatehouse.config.HostPort;
import dev.gatehouse.metrics.GatewayMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.TimeUnit;

/**
 * The admin listener: loopback by default, apart from the public one. It serves Prometheus metrics
 * at {@code GET /metrics} and a liveness answer at {@code GET /healthz}; anything else gets 404 or
 * 405. Runs on the gateway's Vert.x instance; the scrape is rendered off the event loop.
 */
public final class AdminServer implements AutoCloseable {

  /** The Prometheus text exposition format. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final int port;

  private AdminServer(HttpServer server, int port) {
    this.server = server;
    this.port = port;
  }

  /** Starts listening; blocks until bound, or throws. */
  public static AdminServer start(Vertx vertx, HostPort listen, GatewayMetrics metrics)
      throws Exception {
    HttpServer server =
        vertx
            .createHttpServer(
                new HttpServerOptions()
                    .setHost(listen.host())
                    .setPort(listen.port())
                    .setIdleTimeout(60)
                    .setHttp2ClearTextEnabled(false))
            .requestHandler(req -> handle(vertx, req, metrics));
    int port = server.listen().await(30, TimeUnit.SECONDS).actualPort();
    return new AdminServer(server, port);
  }

  private static void handle(Vertx vertx, HttpServerRequest req, GatewayMetrics metrics) {
    String path = req.path();
    boolean known = path.equals("/metrics") || path.equals("/healthz");
    if (!known) {
      req.response()
          .setStatusCode(404)
          .putHeader("Content-Type", "text/plain")
          .end("not found: the admin listener serves /metrics and /healthz\n");
      return;
    }
    String method = req.method().name();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      req.response().setStatusCode(405).putHeader("Allow", "GET, HEAD").end();
      return;
    }
    if (path.equals("/healthz")) {
      req.response().putHeader("Content-Type", "application/json").end("{\"status\":\"ok\"}");
      return;
    }
    vertx
        .executeBlocking(metrics::scrape)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                req.response()
                    .setStatusCode(500)
                    .putHeader("Content-Type", "text/plain")
                    .end("metrics unavailable\n");
                return;
              }
              req.response()
                  .putHeader("Content-Type", CONTENT_TYPE)
                  .putHeader("Cache-Control", "no-store")
                  .end(ar.result());
            });
  }

  /** The port it listens on. */
  public int port() {
    return port;
  }

  @Override
  public void close() {
    server.close().await();
  }
}

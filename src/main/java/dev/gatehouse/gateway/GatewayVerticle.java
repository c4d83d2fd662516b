package dev.gatehouse.gateway;

import dev.gatehouse.account.AccessLog;
import dev.gatehouse.authorize.Authorizer;
import dev.gatehouse.authorize.RouteTable;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.identify.ApiKeys;
import dev.gatehouse.identify.Identifier;
import dev.gatehouse.identify.KeyRing;
import dev.gatehouse.listen.ClientGate;
import dev.gatehouse.listen.ConnectionLimits;
import dev.gatehouse.listen.ConnectionTimeouts;
import dev.gatehouse.listen.StrictFraming;
import dev.gatehouse.listen.TlsMaterial;
import dev.gatehouse.listen.TlsProfile;
import dev.gatehouse.proxy.Relay;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.ServerSSLOptions;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One event loop's share of the public listener: its own server instance (Vert.x spreads
 * connections across instances on the same port), relay and pipeline.
 */
final class GatewayVerticle extends VerticleBase {

  private final GatehouseConfig config;
  private final RouteTable routes;
  private final KeyRing ring;
  private final ApiKeys keys;
  private final Authorizer authorizer;
  private final AccessLog accessLog;
  private final Gateway.Shared shared;
  private final @Nullable TlsMaterial tls;
  private final int port;
  private final TlsProfile profile;

  /** Relay only ({@code gatehouse bench-relay}): no policy, no account. Never set by serve. */
  private final boolean relayOnly;

  // start() sets these; Vert.x runs it before any other call reaches this verticle
  @SuppressWarnings("NullAway.Init")
  private HttpServer server;

  @SuppressWarnings("NullAway.Init")
  private Identifier identifier;

  @SuppressWarnings("NullAway.Init")
  private Relay relay;

  @SuppressWarnings("NullAway.Init")
  private ClientGate gate;

  GatewayVerticle(Gateway.Shared shared, @Nullable TlsMaterial tls, int port, boolean relayOnly) {
    this.relayOnly = relayOnly;
    this.config = shared.config();
    this.routes = shared.routes();
    this.ring = shared.ring();
    this.keys = shared.keys();
    this.authorizer = shared.authorizer();
    this.accessLog = shared.accessLog();
    this.shared = shared;
    this.tls = tls;
    this.port = port;
    this.profile = new TlsProfile(config.tls().modern());
  }

  @Override
  public Future<?> start() {
    identifier = new Identifier(config.authEnabled(), ring, keys);
    relay = new Relay(vertx, shared.upstream(), config);
    gate = new ClientGate(config, shared.bans());
    Pipeline pipeline =
        new Pipeline(
            config,
            routes,
            identifier,
            authorizer,
            shared.limiter(),
            relay,
            shared.usage(),
            accessLog,
            shared.pins(),
            shared.accounting(),
            gate,
            shared.cors(),
            shared.authFailures(),
            shared.probes(),
            shared.bodyMemory(),
            shared.guard());
    ConnectionLimits limits = shared.connectionLimits();
    ConnectionTimeouts timeouts =
        new ConnectionTimeouts(
            vertx,
            config.timeouts().headerRead().toMillis(),
            config.timeouts().keepalive().toMillis());
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(config.listen().host())
            .setPort(port)
            .setMaxHeaderSize(config.limits().maxHeaderBytes())
            .setMaxInitialLineLength(8192)
            .setCompressionSupported(false)
            .setDecompressionSupported(false)
            .setHandle100ContinueAutomatically(false)
            .setHttp2ClearTextEnabled(false)
            .setTcpNoDelay(true)
            .setAcceptBacklog(4096);
    if (tls != null) {
      options
          .setSsl(true)
          .setUseAlpn(true)
          .setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
          .setKeyCertOptions(tls.options())
          .setSslHandshakeTimeout(config.timeouts().headerRead().toMillis())
          .setSslHandshakeTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS);
      profile.applyTo(options);
    }
    server =
        vertx
            .createHttpServer(options)
            .connectionHandler(
                conn -> {
                  if (relayOnly) {
                    timeouts.onConnection(conn); // bench-relay: no caps, bans or framing checks
                    return;
                  }
                  // Cheapest refusals first, before a byte is read: banned peers, then the caps.
                  if (!gate.admit(conn)) {
                    return;
                  }
                  Runnable release =
                      limits.admit(
                          conn.remoteAddress() == null
                              ? null
                              : IpAddress.parse(conn.remoteAddress().host()));
                  if (release == null) {
                    conn.close();
                    return;
                  }
                  timeouts.onConnection(conn, release);
                  // listen: strict HTTP/1.1 framing on the raw bytes, in front of Netty's decoder
                  if (conn instanceof io.vertx.core.net.impl.ConnectionBase base) {
                    StrictFraming.install(
                        base.channel(),
                        Math.max(config.limits().maxBody(), config.limits().maxBlob()),
                        config.limits().maxBody(),
                        config.limits().maxHeaderBytes() + 8192 + 2,
                        config.timeouts().bodyRead().toNanos(),
                        config.timeouts().bodyMinRate());
                  }
                })
            .invalidRequestHandler(
                req -> {
                  HttpServerRequest.DEFAULT_INVALID_REQUEST_HANDLER.handle(req);
                  accessLog.recordInvalid(req);
                })
            .requestHandler(timeouts.wrap(relayOnly ? pipeline.relayOnly() : pipeline));
    return server.listen();
  }

  /** Swaps the certificate; open connections keep the one they negotiated. */
  Future<Boolean> updateTls(TlsMaterial material) {
    return server.updateSSLOptions(
        profile.applyTo(new ServerSSLOptions().setKeyCertOptions(material.options())), false);
  }

  @Override
  public Future<?> stop() {
    return server.close();
  }

  /** The bytes of request bodies held now, across the gateway; for tests. */
  long bodyMemoryHeld() {
    return shared.bodyMemory().held();
  }
}

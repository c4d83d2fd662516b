package dev.gatehouse.gateway;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.exchange.FramingRefusal;
import dev.gatehouse.identify.Identifier;
import dev.gatehouse.identify.cert.CertPrincipals;
import dev.gatehouse.listen.ClientGate;
import dev.gatehouse.listen.ConnectionLimits;
import dev.gatehouse.listen.ConnectionTimeouts;
import dev.gatehouse.listen.ProxyProtocol;
import dev.gatehouse.listen.Refusal;
import dev.gatehouse.listen.StrictFraming;
import dev.gatehouse.listen.TlsMaterial;
import dev.gatehouse.listen.TlsProfile;
import dev.gatehouse.listen.UndecodableRequest;
import dev.gatehouse.proxy.Relay;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
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
 *
 * <p>A reload ({@link #swap}) replaces the pipeline on this event loop. The connection handler and
 * the request handler read the one in force when a connection or a request arrives, and a request
 * keeps the pipeline it started with to its end (its callbacks hold it), so a stream running across
 * a reload is never dropped or switched mid-way. The listener itself (address, TLS, decoder sizes,
 * timeouts) is set up once from the config it started with.
 */
final class GatewayVerticle extends VerticleBase {

  /** What serves requests on this event loop under one config: swapped whole by a reload. */
  private record Serving(GatehouseConfig config, ClientGate gate, Pipeline pipeline) {}

  private final Gateway.Shared started;
  private final @Nullable TlsMaterial tls;
  private final int port;
  private final TlsProfile profile;

  /** Relay only ({@code gatehouse bench-relay}): no policy, no account. Never set by serve. */
  private final boolean relayOnly;

  // start() sets these; Vert.x runs it before any other call reaches this verticle
  @SuppressWarnings("NullAway.Init")
  private HttpServer server;

  /**
   * The pipeline in force. Written on this verticle's event loop only (start, {@link #swap}), read
   * there by the handlers; volatile so that a test reading it from another thread sees the latest.
   */
  @SuppressWarnings("NullAway.Init")
  private volatile Serving serving;

  GatewayVerticle(Gateway.Shared shared, @Nullable TlsMaterial tls, int port, boolean relayOnly) {
    this.relayOnly = relayOnly;
    this.started = shared;
    this.tls = tls;
    this.port = port;
    this.profile = new TlsProfile(shared.config().tls().modern());
  }

  /** The pipeline and the checks around it for one config; cheap: no I/O, nothing shared built. */
  private Serving serving(Gateway.Shared shared) {
    GatehouseConfig config = shared.config();
    Identifier identifier =
        new Identifier(
            config.authEnabled(),
            shared.ring(),
            shared.keys(),
            // checked at load by ConfigChecks.clientPrincipals, so this parse cannot fail here
            CertPrincipals.parse(config.tls().clients().principals()),
            shared.jwt());
    Relay relay = new Relay(vertx, shared.upstream(), config);
    ClientGate gate = new ClientGate(config, shared.bans());
    Pipeline pipeline =
        new Pipeline(
            config,
            shared.routes(),
            identifier,
            shared.authorizer(),
            shared.limiter(),
            relay,
            shared.usage(),
            shared.accessLog(),
            shared.pins(),
            shared.accounting(),
            gate,
            shared.cors(),
            shared.authFailures(),
            shared.probes(),
            shared.bodyMemory(),
            shared.guard(),
            shared.readiness());
    return new Serving(config, gate, pipeline);
  }

  /**
   * Puts a reloaded config in force on this event loop, for the connections and requests that
   * arrive after it; those already running keep theirs.
   */
  Future<Void> swap(Gateway.Shared next) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(
        v -> {
          try {
            serving = serving(next);
            done.complete();
          } catch (RuntimeException e) {
            done.fail(e); // the old pipeline stays in force on this loop
          }
        });
    return done.future();
  }

  @Override
  public Future<?> start() {
    GatehouseConfig config = started.config();
    serving = serving(started);
    ConnectionLimits limits = started.connectionLimits();
    ConnectionTimeouts timeouts =
        new ConnectionTimeouts(
            vertx,
            config.timeouts().headerRead().toMillis(),
            config.timeouts().keepalive().toMillis());
    // the decoder's limit, fixed for the listener's life (limits.max_header_bytes needs a restart):
    // the framing check refuses past the same, so the decoder never does
    int maxFieldBytes = config.limits().maxHeaderBytes();
    HttpServerOptions options =
        StrictFraming.limitDecoder(new HttpServerOptions(), maxFieldBytes)
            .setHost(config.listen().host())
            .setPort(port)
            .setCompressionSupported(false)
            .setDecompressionSupported(false)
            // No WebSocket is served: without these, every connection carries a handler that
            // inspects each response for a WebSocket handshake to compress.
            .setPerFrameWebSocketCompressionSupported(false)
            .setPerMessageWebSocketCompressionSupported(false)
            .setHandle100ContinueAutomatically(false)
            .setHttp2ClearTextEnabled(false)
            .setTcpNoDelay(true)
            .setAcceptBacklog(4096)
            // Every write to a client happens on its connection's event loop (a back end that
            // answers on a thread of its own is handed back to the context first, as Pipeline and
            // Limiter do), so an HTTP/1 connection writes directly instead of through a queue for
            // other threads: about 4.7 KB less per open connection (HeldStreamFootprintTest), and
            // no queue hand-off per write. A write from another thread throws (nothing is sent)
            // rather than racing the event loop.
            .setStrictThreadMode(true);
    ProxyProtocol.configure(options, config);
    // listen.proxy_protocol and network.trusted_proxies are restart-only: fixed with the listener
    ProxyProtocol proxyProtocol =
        config.balancing().proxyProtocol()
            ? new ProxyProtocol(config.network().trustedProxies())
            : null;
    if (tls != null) {
      options
          .setSsl(true)
          .setUseAlpn(true)
          .setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
          .setKeyCertOptions(tls.options())
          .setSslHandshakeTimeout(config.timeouts().headerRead().toMillis())
          .setSslHandshakeTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS);
      profile.applyTo(options);
      tls.applyClientAuth(options);
    }
    Handler<HttpServerRequest> requests =
        relayOnly
            ? serving.pipeline().relayOnly()
            : req -> serving.pipeline().handle(req); // the pipeline in force as the request arrives
    server =
        vertx
            .createHttpServer(options)
            .connectionHandler(
                conn -> {
                  if (relayOnly) {
                    timeouts.onConnection(conn); // bench-relay: no caps, bans or framing checks
                    return;
                  }
                  // the PROXY header's sender first: until it is trusted, the address is not
                  if (proxyProtocol != null && !proxyProtocol.admit(conn)) {
                    return;
                  }
                  Serving now = serving; // the config in force as the connection arrives
                  // Cheapest refusals first, before a byte is read: banned peers, then the caps.
                  if (!now.gate().admit(conn)) {
                    return;
                  }
                  Runnable release =
                      limits.admit(
                          conn.remoteAddress() == null
                              ? null
                              : IpAddress.parse(conn.remoteAddress().host()));
                  if (release == null) {
                    Refusal.close(conn);
                    return;
                  }
                  timeouts.onConnection(conn, release);
                  // listen: strict HTTP/1.1 framing on the raw bytes, in front of Netty's decoder;
                  // what it refuses is accounted for by the pipeline in force at the time
                  // (the callback holds the address, not the connection: the check may outlive the
                  // connection in a pending timer, and the connection holds its request)
                  io.vertx.core.net.SocketAddress from = conn.remoteAddress();
                  StrictFraming.install(
                      conn, now.config(), maxFieldBytes, r -> framingRefused(r, from));
                })
            .invalidRequestHandler(
                req -> {
                  FramingRefusal r = UndecodableRequest.answer(req);
                  if (!relayOnly) { // bench-relay records nothing
                    framingRefused(r, req.remoteAddress());
                  }
                })
            .requestHandler(timeouts.wrap(requests));
    return server.listen();
  }

  /**
   * Accounts for a request refused on its bytes, from {@code peer} (the connection's, the PROXY
   * header's with that protocol on), with the pipeline in force now; scored against the peer unless
   * it is a trusted proxy that names its clients in headers.
   */
  private void framingRefused(FramingRefusal r, io.vertx.core.net.@Nullable SocketAddress peer) {
    IpAddress client = peer == null ? null : IpAddress.parse(peer.host());
    Serving now = serving;
    now.pipeline().framingRefused(r, client, client != null && now.gate().answersForItself(client));
  }

  /**
   * Swaps the certificate (and the client CA and CRL, which must come along: options without them
   * would stop asking for client certificates); open connections keep what they negotiated.
   */
  Future<Boolean> updateTls(TlsMaterial material) {
    return server.updateSSLOptions(
        material.applyClientAuth(
            profile.applyTo(new ServerSSLOptions().setKeyCertOptions(material.options()))),
        false);
  }

  /**
   * Stops accepting connections and shuts down those open, each once its request in flight has
   * ended, closing any left after {@code millis} ({@link Drain}).
   */
  Future<Void> shutdown(long millis) {
    return server.shutdown(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  @Override
  public Future<?> stop() {
    return server.close();
  }

  /** The bytes of request bodies held now, across the gateway; for tests. */
  long bodyMemoryHeld() {
    return started.bodyMemory().held();
  }
}

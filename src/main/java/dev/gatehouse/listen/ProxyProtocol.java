package dev.gatehouse.listen;

import dev.gatehouse.config.AddressSet;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The PROXY protocol (v1 text, v2 binary) on the public listener ({@code listen.proxy_protocol}),
 * for a TCP load balancer (HAProxy's {@code send-proxy-v2}, nginx's {@code proxy_protocol on}) that
 * would otherwise hide every client behind its own address.
 *
 * <p>Vert.x reads the header before HTTP (Netty's {@code HAProxyMessageDecoder}) and from then on
 * reports the address it carries as the connection's remote address, which bans, connection caps,
 * limits and the audit record all read. A connection without a valid header, or one that does not
 * send it within {@code timeouts.header_read}, is closed there. What Vert.x does not check is who
 * sent the header: it believes any peer. {@link #admit} does, on the address the socket really
 * connected from, and closes the connection unless that peer is in {@code network.trusted_proxies}
 * (the config refuses this setting without it): any other peer could otherwise name the address it
 * is judged by.
 *
 * <p>A header that names no address (v2 {@code LOCAL}, a load balancer's own health check; v1
 * {@code UNKNOWN}) leaves the connection judged by the load balancer's address. Stateless.
 */
public final class ProxyProtocol {

  private static final Logger LOG = Logger.getLogger("gatehouse");

  private final AddressSet trusted;

  public ProxyProtocol(AddressSet trusted) {
    this.trusted = trusted;
  }

  /** Turns the header on for a listener when {@code listen.proxy_protocol} asks for it. */
  public static HttpServerOptions configure(HttpServerOptions options, GatehouseConfig config) {
    if (config.balancing().proxyProtocol()) {
      options
          .setUseProxyProtocol(true)
          .setProxyProtocolTimeout(config.timeouts().headerRead().toMillis())
          .setProxyProtocolTimeoutUnit(TimeUnit.MILLISECONDS);
    }
    return options;
  }

  /**
   * The connection handler's first check, once the header has been read: false, with the connection
   * closed, when the peer that sent it is not a trusted proxy.
   */
  public boolean admit(HttpConnection conn) {
    IpAddress peer = address(conn.remoteAddress(true)); // the socket's, not the header's
    // Fail closed: a peer that is not a trusted proxy (or has no address to check) may not name
    // the client, so its connection is refused rather than judged by its own address.
    if (peer == null || !trusted.contains(peer)) {
      LOG.fine(() -> "PROXY header from untrusted peer " + peer + ": connection closed");
      Refusal.close(conn);
      return false;
    }
    return true;
  }

  private static @Nullable IpAddress address(@Nullable SocketAddress a) {
    return a == null || a.host() == null ? null : IpAddress.parse(a.host());
  }
}

package dev.gatehouse.listen;

import dev.gatehouse.abuse.BanList;
import dev.gatehouse.config.AddressSet;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.store.StoreException;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.HostAndPort;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The first check of every request, before its target or key is looked at: who is calling, and may
 * they at all? In order: the client's address (through trusted proxies only), the network allow and
 * deny lists (403 {@code network.address_denied}), the IoC list and bans (closed, or 403 {@code
 * network.client_banned}; a tarpitted client's refusal is held back first), and the Host allowlist
 * (403 {@code network.host_denied}).
 *
 * <p>Fail closed: when the ban store cannot say whether a client is banned, the request is refused
 * with 503 and nothing is forwarded.
 *
 * <p>Banned and IoC-listed peers that connect directly are also refused at the connection level
 * ({@link #admit}), before a byte is read, when {@code bans.refusal} is {@code close}.
 *
 * <p>Reads bans from memory only ({@link BanList}); thread-safe.
 */
public final class ClientGate {

  private final AddressSet allow;
  private final AddressSet deny;
  private final AddressSet trusted;

  /**
   * True when the connection's address came from a PROXY header ({@link ProxyProtocol}): then the
   * Forwarded headers are never read, since a TCP load balancer passes the client's own through.
   */
  private final boolean proxyProtocol;

  private final AddressSet ioc;
  private final HostAllowlist hosts;
  private final BanList bans;
  private final boolean close;
  private final long tarpitMillis;

  public ClientGate(GatehouseConfig config, BanList bans) {
    GatehouseConfig.Network n = config.network();
    this.allow = n.allow();
    this.deny = n.deny();
    this.trusted = n.trustedProxies();
    this.proxyProtocol = config.balancing().proxyProtocol();
    this.ioc = n.ioc();
    this.hosts = new HostAllowlist(n.allowedHosts(), config.listen().isLoopback());
    this.bans = bans;
    this.close = config.bans().close();
    this.tarpitMillis = config.probes().tarpitDelay().toMillis();
  }

  /**
   * The connection handler's check: false when the connection was closed because its peer is banned
   * or IoC-listed. Proxies' connections, and anything the store cannot answer now, are left to
   * {@link #check}, which sees the real client or answers 503.
   */
  public boolean admit(HttpConnection conn) {
    if (!close || conn.remoteAddress() == null) {
      return true;
    }
    IpAddress peer = IpAddress.parse(conn.remoteAddress().host());
    if (peer == null || trusted.contains(peer)) {
      return true;
    }
    boolean refuse;
    try {
      refuse = ioc.contains(peer) || bans.check(peer) == BanList.Verdict.BANNED;
    } catch (StoreException e) {
      return true;
    }
    if (refuse) {
      bans.hit(peer, null);
      Refusal.close(conn); // nothing it sent with the connection is read
    }
    return !refuse;
  }

  /**
   * Whether what a connection's peer sends, before a request head names a client, may be scored
   * against that peer: not when it is a trusted proxy that names its clients in headers (before a
   * head is read they cannot be told apart, and a ban would shut them all out). With the PROXY
   * protocol the peer is the client its header named.
   */
  public boolean answersForItself(IpAddress peer) {
    return proxyProtocol || !trusted.contains(peer);
  }

  /** Resolves the client's address onto the exchange; returns a refusal, or null to go on. */
  @SuppressWarnings("ReferenceEquality") // resolve answers its input when no proxy vouched
  public @Nullable Rejection check(Exchange x) {
    IpAddress client =
        proxyProtocol
            ? x.clientAddress()
            : ForwardedFor.resolve(x.clientAddress(), x.request().headers(), trusted);
    if (client != x.clientAddress()) {
      x.vouchedFor(Objects.requireNonNull(client, "resolve is null only for a null peer"));
    }
    if (client == null) {
      return Rejection.logged(Problem.ADDRESS_DENIED, "no client address");
    }
    if (deny.contains(client)) {
      return Rejection.logged(Problem.ADDRESS_DENIED, "address in network.deny");
    }
    if (!allow.isEmpty() && !allow.contains(client)) {
      return Rejection.logged(Problem.ADDRESS_DENIED, "address not in network.allow");
    }
    if (ioc.contains(client)) {
      return banned(x, "address in the IoC list");
    }
    BanList.Verdict v;
    try {
      v = bans.check(client);
    } catch (StoreException e) {
      // Fail closed: a ban that cannot be checked is not assumed absent.
      return new Rejection(
          Problem.STORE_UNAVAILABLE, "store unavailable", "ban check failed: " + e.getMessage());
    }
    if (v == BanList.Verdict.BANNED) {
      bans.hit(client, x.request().path());
      return banned(x, "banned");
    }
    if (v == BanList.Verdict.TARPIT) {
      return banned(x, "tarpitted").delayed(tarpitMillis);
    }
    HostAndPort authority = x.request().authority();
    String host = authority == null ? null : authority.host();
    if (!hosts.allows(host)) {
      return Rejection.logged(
          Problem.HOST_DENIED, "Host " + host + " not allowed (network.allowed_hosts)");
    }
    return null;
  }

  /**
   * A banned client's refusal: the connection closed, or 403 when configured so, and always 403
   * behind a proxy, whose connection other clients share.
   */
  private Rejection banned(Exchange x, String why) {
    Rejection r = Rejection.logged(Problem.CLIENT_BANNED, why);
    return close && !x.viaProxy() ? r.closing() : r;
  }
}

package dev.gatehouse.listen;

import dev.gatehouse.config.AddressSet;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Caps on open client connections: {@code connections.max_per_ip} per client address and {@code
 * connections.max_total} in all. A connection over either cap is closed as soon as it is accepted,
 * before a byte of it is read.
 *
 * <p>Why per address: a slowloris client holds connections open by sending its request head slowly
 * ({@code timeouts.header_read} ends each one, but it can open more). A global cap alone would let
 * one such client fill every slot and lock everyone out; a per-address cap keeps it to its own
 * share, and clients at other addresses are still served. Trusted proxies carry many clients and
 * count only toward the global cap. Shared by every event loop; thread-safe.
 */
public final class ConnectionLimits {

  private static final Logger LOG = Logger.getLogger("gatehouse.abuse");
  private static final long WARN_EVERY_MILLIS = 60_000;

  private final int maxPerIp;
  private final int maxTotal;
  private final AddressSet exempt;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<IpAddress, Integer> perIp = new ConcurrentHashMap<>();
  private final AtomicLong lastWarning = new AtomicLong();
  private final AtomicLong refusedSinceWarning = new AtomicLong();

  public ConnectionLimits(GatehouseConfig.Connections config, AddressSet trustedProxies) {
    this.maxPerIp = config.maxPerIp();
    this.maxTotal = config.maxTotal();
    this.exempt = trustedProxies;
  }

  /**
   * Takes a slot for a new connection from {@code peer}. Returns what to run when it closes, or
   * null when it is over a cap and must be closed now.
   */
  public @Nullable Runnable admit(@Nullable IpAddress peer) {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      refused("connections.max_total (" + maxTotal + ")", peer);
      return null;
    }
    if (peer == null || exempt.contains(peer)) {
      return total::decrementAndGet;
    }
    boolean[] ok = new boolean[1];
    perIp.compute(
        peer,
        (k, n) -> {
          int c = n == null ? 0 : n;
          if (c >= maxPerIp) {
            return n;
          }
          ok[0] = true;
          return c + 1;
        });
    if (!ok[0]) {
      total.decrementAndGet();
      refused("connections.max_per_ip (" + maxPerIp + ")", peer);
      return null;
    }
    return () -> {
      perIp.computeIfPresent(peer, (k, n) -> n <= 1 ? null : n - 1);
      total.decrementAndGet();
    };
  }

  /** Open connections now, in all. */
  public int open() {
    return total.get();
  }

  /** Logs refusals at most once a minute, so that a flood cannot flood the log too. */
  private void refused(String cap, @Nullable IpAddress peer) {
    long n = refusedSinceWarning.incrementAndGet();
    long now = System.currentTimeMillis();
    long last = lastWarning.get();
    if (now - last >= WARN_EVERY_MILLIS && lastWarning.compareAndSet(last, now)) {
      refusedSinceWarning.set(0);
      LOG.warning(
          "connection refused: "
              + cap
              + " reached, ip="
              + (peer == null ? "-" : peer.text())
              + " ("
              + n
              + " refused since the last report)");
    }
  }
}

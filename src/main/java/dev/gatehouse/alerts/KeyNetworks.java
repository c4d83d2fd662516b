package dev.gatehouse.alerts;

import dev.gatehouse.config.Cidr;
import dev.gatehouse.config.IpAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The networks each key has been used from, to notice a key used from a new one (a stolen key is
 * often used from elsewhere). An address counts as its /{@code v4Prefix} or /{@code v6Prefix}
 * network. A key's first network is its baseline and raises nothing. Thread-safe.
 */
public final class KeyNetworks {

  /** Most networks remembered per key; past it a key's new networks are still reported. */
  static final int MAX_PER_KEY = 256;

  /** Most addresses remembered per key, so that a known address costs one lookup. */
  static final int MAX_ADDRESSES_PER_KEY = 4096;

  private final int v4Prefix;
  private final int v6Prefix;
  private final Map<String, Set<String>> byKey = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> addressesByKey = new ConcurrentHashMap<>();

  public KeyNetworks(int v4Prefix, int v6Prefix) {
    this.v4Prefix = v4Prefix;
    this.v6Prefix = v6Prefix;
  }

  /** The network an address belongs to, as CIDR text, or null when it is not an address. */
  public @Nullable String networkOf(String ip) {
    IpAddress a = ip == null ? null : IpAddress.parse(ip);
    if (a == null) {
      return null;
    }
    return java.util.Objects.requireNonNull(
            Cidr.parse(a.text() + "/" + (a.isV4() ? v4Prefix : v6Prefix)))
        .toString(); // a valid address and prefix
  }

  /** Records a use without judging it (history read at start). */
  public void remember(String keyId, String ip) {
    String net = networkOf(ip);
    if (keyId != null && net != null) {
      Set<String> nets = byKey.computeIfAbsent(keyId, k -> ConcurrentHashMap.newKeySet());
      if (nets.size() < MAX_PER_KEY) {
        nets.add(net);
      }
    }
  }

  /**
   * Records a use; returns the new network when the key has been seen before but never from this
   * network, else null.
   */
  public @Nullable String observe(@Nullable String keyId, String ip) {
    if (keyId == null || ip == null) {
      return null;
    }
    Set<String> addresses =
        addressesByKey.computeIfAbsent(keyId, k -> ConcurrentHashMap.newKeySet());
    if (addresses.contains(ip)) {
      return null; // seen before, so its network is known: the common case, no parsing
    }
    if (addresses.size() < MAX_ADDRESSES_PER_KEY) {
      addresses.add(ip);
    }
    Set<String> nets = byKey.computeIfAbsent(keyId, k -> ConcurrentHashMap.newKeySet());
    String net = networkOf(ip);
    if (net == null || nets.contains(net)) {
      return null;
    }
    synchronized (nets) {
      boolean first = nets.isEmpty();
      if (nets.size() < MAX_PER_KEY) {
        nets.add(net);
      }
      return first ? null : net;
    }
  }

  /** The networks a key is known from, for an alert's event. */
  public Set<String> known(@Nullable String keyId) {
    return Set.copyOf(byKey.getOrDefault(keyId, Set.of()));
  }
}

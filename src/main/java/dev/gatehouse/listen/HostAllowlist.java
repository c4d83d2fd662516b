package dev.gatehouse.listen;

import dev.gatehouse.config.IpAddress;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The Host values Gatehouse answers to, against DNS rebinding: a web page on an attacker's domain
 * that re-points its name at 127.0.0.1 can make a browser send requests to a loopback listener, but
 * they still carry the attacker's name in {@code Host}, and are refused here.
 *
 * <p>Empty (the default) is automatic: a loopback listener answers only to {@code localhost},
 * {@code *.localhost} and loopback addresses (what a browser on the same machine uses); any other
 * listener answers to every name, since its clients' names for it are not known. A configured list
 * holds exact names, {@code *.domain} wildcards (one or more labels), address literals, or {@code
 * *} for any. A request without a Host (HTTP/1.0) cannot come from a browser and is accepted in
 * automatic mode only. Immutable.
 */
public final class HostAllowlist {

  private final List<String> names;
  private final boolean automatic;
  private final boolean any;

  public HostAllowlist(List<String> configured, boolean loopbackListener) {
    this.names = configured.stream().map(HostAllowlist::normalise).toList();
    this.automatic = configured.isEmpty();
    this.any = (automatic && !loopbackListener) || names.contains("*");
  }

  /** True when a request naming {@code host} (without its port; null for none) is answered. */
  public boolean allows(@Nullable String host) {
    if (any) {
      return true;
    }
    if (host == null || host.isEmpty()) {
      return automatic;
    }
    String h = normalise(host);
    if (automatic) {
      IpAddress a = IpAddress.parse(h);
      return h.equals("localhost") || h.endsWith(".localhost") || (a != null && a.isLoopback());
    }
    IpAddress literal = IpAddress.parse(h);
    for (String n : names) {
      if (n.startsWith("*.")
          ? h.endsWith(n.substring(1)) && h.length() > n.length() - 1
          : n.equals(h)) {
        return true;
      }
      if (literal != null && literal.equals(IpAddress.parse(n))) {
        return true;
      }
    }
    return false;
  }

  /** Lower case, without brackets or a trailing dot. */
  private static String normalise(String host) {
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.endsWith(".") && h.length() > 1) {
      h = h.substring(0, h.length() - 1);
    }
    return h;
  }
}

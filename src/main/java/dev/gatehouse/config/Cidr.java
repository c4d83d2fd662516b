package dev.gatehouse.config;

import org.jspecify.annotations.Nullable;

/**
 * An IPv4 or IPv6 address range in CIDR form ({@code 192.168.1.0/24}, {@code 2001:db8::/48}); a
 * bare address is a range of one. Host bits below the prefix are ignored, as most tools do, so
 * {@code 10.1.2.3/8} is {@code 10.0.0.0/8}. Immutable.
 *
 * @param network the first address of the range
 * @param prefix the number of leading bits that must match
 */
public record Cidr(IpAddress network, int prefix) {

  /** Parses an address or {@code ADDRESS/PREFIX}; returns null when malformed. */
  public static @Nullable Cidr parse(String text) {
    if (text == null) {
      return null;
    }
    String s = text.trim();
    if (s.indexOf('%') >= 0) {
      return null; // zones belong to interfaces, not to rules
    }
    int slash = s.indexOf('/');
    IpAddress a = IpAddress.parse(slash < 0 ? s : s.substring(0, slash));
    if (a == null) {
      return null;
    }
    int bits = a.isV4() ? 32 : 128;
    int prefix = bits;
    if (slash >= 0) {
      String p = s.substring(slash + 1);
      if (!p.matches("[0-9]{1,3}")) {
        return null;
      }
      prefix = Integer.parseInt(p);
      // An IPv4-mapped range written in IPv6 (::ffff:10.0.0.0/104) is an IPv4 range.
      if (a.isV4() && s.substring(0, slash).indexOf(':') >= 0) {
        if (prefix < 96) {
          return null;
        }
        prefix -= 96;
      }
      if (prefix > bits) {
        return null;
      }
    }
    byte[] b = a.bytes();
    for (int i = 0; i < b.length; i++) {
      int keep = Math.max(0, Math.min(8, prefix - 8 * i));
      b[i] &= (byte) (0xff00 >> keep);
    }
    return new Cidr(IpAddress.of(b), prefix);
  }

  /** True when the address is in this range (an IPv4 address is never in an IPv6 range). */
  public boolean contains(IpAddress a) {
    byte[] n = network.raw();
    byte[] x = a.raw();
    if (n.length != x.length) {
      return false;
    }
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (n[i] != x[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    if (rest == 0) {
      return true;
    }
    int mask = 0xff00 >> rest;
    return (n[full] & mask) == (x[full] & mask);
  }

  /** True when the range is one address. */
  public boolean single() {
    return prefix == (network.isV4() ? 32 : 128);
  }

  @Override
  public String toString() {
    return network.text() + "/" + prefix;
  }
}

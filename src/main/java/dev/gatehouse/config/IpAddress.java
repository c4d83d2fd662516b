package dev.gatehouse.config;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * An IPv4 or IPv6 address, parsed strictly from its literal form and never through DNS, with one
 * canonical spelling: dotted decimal for IPv4, RFC 5952 for IPv6 (lower case, zeros compressed),
 * and IPv4-mapped IPv6 addresses ({@code ::ffff:192.0.2.1}) folded to their IPv4 form so that a
 * dual-stack socket and an IPv4 rule agree. Bans, rules and logs all key on {@link #text()}.
 * Immutable.
 */
public final class IpAddress {

  private final byte[] bytes;
  private final String text;

  private IpAddress(byte[] bytes) {
    this.bytes = bytes;
    this.text = bytes.length == 4 ? v4Text(bytes) : v6Text(bytes);
  }

  /**
   * Parses an IPv4 or IPv6 literal (an IPv6 zone such as {@code %lo} is dropped); returns null for
   * anything else, host names included. IPv4 parts must be plain decimal without leading zeros,
   * since {@code 010} means 8 to some parsers and 10 to others.
   */
  public static @Nullable IpAddress parse(@Nullable String s) {
    if (s == null || s.isEmpty() || s.length() > 64) {
      return null;
    }
    int zone = s.indexOf('%');
    if (zone >= 0) {
      s = s.substring(0, zone);
    }
    byte[] b = s.indexOf(':') >= 0 ? parseV6(s) : parseV4(s);
    return b == null ? null : of(b);
  }

  /** The address for raw bytes (4 or 16); IPv4-mapped IPv6 becomes IPv4. */
  static IpAddress of(byte[] b) {
    if (b.length == 16 && isV4Mapped(b)) {
      return new IpAddress(Arrays.copyOfRange(b, 12, 16));
    }
    return new IpAddress(b.clone());
  }

  private static boolean isV4Mapped(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
  }

  private static byte @Nullable [] parseV4(String s) {
    byte[] out = new byte[4];
    int part = 0;
    int i = 0;
    int n = s.length();
    while (part < 4) {
      int start = i;
      int v = 0;
      while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9' && i - start < 3) {
        v = v * 10 + (s.charAt(i) - '0');
        i++;
      }
      int len = i - start;
      if (len == 0 || v > 255 || (len > 1 && s.charAt(start) == '0')) {
        return null;
      }
      out[part++] = (byte) v;
      if (part < 4) {
        if (i >= n || s.charAt(i) != '.') {
          return null;
        }
        i++;
      }
    }
    return i == n ? out : null;
  }

  private static byte @Nullable [] parseV6(String s) {
    int dbl = s.indexOf("::");
    if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) {
      return null;
    }
    String head = dbl >= 0 ? s.substring(0, dbl) : s;
    String tail = dbl >= 0 ? s.substring(dbl + 2) : "";
    int[] h = groups(head);
    int[] t = groups(tail);
    if (h == null || t == null) {
      return null;
    }
    // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups and must come last.
    int hl = h.length;
    int tl = t.length;
    int total = hl + tl;
    boolean v4InHead = hl > 0 && h[hl - 1] < 0;
    boolean v4InTail = tl > 0 && t[tl - 1] < 0;
    if ((v4InHead && dbl >= 0) || (v4InHead && v4InTail)) {
      return null;
    }
    if (v4InHead || v4InTail) {
      total++;
    }
    if (dbl < 0 ? total != 8 : total > 7) {
      return null;
    }
    byte[] out = new byte[16];
    int pos = 0;
    pos = put(out, pos, h, head);
    if (pos < 0) {
      return null;
    }
    int tailBytes = (tl + (v4InTail ? 1 : 0)) * 2;
    pos = 16 - tailBytes;
    return put(out, pos, t, tail) < 0 ? null : out;
  }

  /** Writes groups; a negative marker stands for an IPv4 tail, parsed from the text's end. */
  private static int put(byte[] out, int pos, int[] groups, String text) {
    for (int g : groups) {
      if (g < 0) {
        byte[] v4 = parseV4(text.substring(text.lastIndexOf(':') + 1));
        if (v4 == null) {
          return -1;
        }
        System.arraycopy(v4, 0, out, pos, 4);
        pos += 4;
      } else {
        out[pos++] = (byte) (g >> 8);
        out[pos++] = (byte) g;
      }
    }
    return pos;
  }

  /** Hex groups of one side of "::"; -1 marks a final dotted IPv4 part; null when malformed. */
  private static int @Nullable [] groups(String side) {
    if (side.isEmpty()) {
      return new int[0];
    }
    String[] parts = side.split(":", -1);
    int[] out = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i];
      if (p.indexOf('.') >= 0 && i == parts.length - 1) {
        out[i] = -1;
        continue;
      }
      if (p.isEmpty() || p.length() > 4) {
        return null;
      }
      int v = 0;
      for (int k = 0; k < p.length(); k++) {
        int d = Character.digit(p.charAt(k), 16);
        if (d < 0) {
          return null;
        }
        v = v * 16 + d;
      }
      out[i] = v;
    }
    return out;
  }

  private static String v4Text(byte[] b) {
    return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
  }

  /**
   * RFC 5952: lower-case hex, no leading zeros, the longest run of two or more zero groups as "::".
   */
  private static String v6Text(byte[] b) {
    int[] g = new int[8];
    for (int i = 0; i < 8; i++) {
      g[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLen = 1;
    for (int i = 0; i < 8; ) {
      if (g[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && g[j] == 0) {
        j++;
      }
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    StringBuilder s = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        s.append("::");
        i += bestLen - 1;
        continue;
      }
      if (!s.isEmpty() && s.charAt(s.length() - 1) != ':') {
        s.append(':');
      }
      s.append(Integer.toHexString(g[i]));
    }
    return s.toString();
  }

  /** 4 bytes for IPv4, 16 for IPv6; a copy. */
  public byte[] bytes() {
    return bytes.clone();
  }

  byte[] raw() {
    return bytes;
  }

  public boolean isV4() {
    return bytes.length == 4;
  }

  /** True for 127.0.0.0/8 and ::1. */
  public boolean isLoopback() {
    if (isV4()) {
      return bytes[0] == 127;
    }
    for (int i = 0; i < 15; i++) {
      if (bytes[i] != 0) {
        return false;
      }
    }
    return bytes[15] == 1;
  }

  /** The canonical text form. */
  public String text() {
    return text;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof IpAddress a && Arrays.equals(bytes, a.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return text;
  }
}

package dev.gatehouse.listen;

import dev.gatehouse.config.AddressSet;
import dev.gatehouse.config.IpAddress;
import io.vertx.core.MultiMap;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Finds the client behind trusted reverse proxies from {@code Forwarded} (RFC 7239, preferred when
 * present) or {@code X-Forwarded-For}.
 *
 * <p>Only a peer in {@code network.trusted_proxies} is asked at all; from anyone else both headers
 * are ignored, since a client could otherwise pick the address it is judged by. The chain is read
 * from the right, the end the nearest proxy wrote: each trusted hop is skipped, and the first
 * address that is not a trusted proxy is the client. Anything to its left was written by the client
 * itself and is never read. A hop that is not an address ({@code unknown}, an obfuscated
 * identifier, garbage) ends the walk at the nearest address known so far, which is a trusted proxy:
 * Gatehouse never invents a client address. Stateless.
 */
public final class ForwardedFor {

  /** Hops read at most; headers are bounded by limits.max_header_bytes anyway. */
  private static final int MAX_HOPS = 32;

  private ForwardedFor() {}

  /**
   * The client address: {@code peer} itself unless it is a trusted proxy that forwarded for
   * someone.
   */
  public static @Nullable IpAddress resolve(
      @Nullable IpAddress peer, MultiMap headers, AddressSet trusted) {
    if (peer == null || trusted.isEmpty() || !trusted.contains(peer)) {
      return peer;
    }
    List<String> hops = hops(headers);
    IpAddress current = peer;
    for (int i = hops.size() - 1; i >= 0 && i >= hops.size() - MAX_HOPS; i--) {
      IpAddress hop = parseHop(hops.get(i));
      if (hop == null) {
        return current;
      }
      current = hop;
      if (!trusted.contains(hop)) {
        return hop;
      }
    }
    return current;
  }

  /** The hop values in order, left to right, from Forwarded's for= or else X-Forwarded-For. */
  static List<String> hops(MultiMap headers) {
    List<String> out = new ArrayList<>();
    List<String> forwarded = headers.getAll("Forwarded");
    if (!forwarded.isEmpty()) {
      for (String line : forwarded) {
        for (String element : splitOutsideQuotes(line, ',')) {
          String forValue = null;
          for (String pair : splitOutsideQuotes(element, ';')) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).trim().equalsIgnoreCase("for")) {
              forValue = pair.substring(eq + 1).trim();
            }
          }
          out.add(forValue == null ? "" : forValue); // an element without for= is an unknown hop
        }
      }
      return out;
    }
    for (String line : headers.getAll("X-Forwarded-For")) {
      for (String part : line.split(",", -1)) {
        out.add(part.trim());
      }
    }
    return out;
  }

  private static List<String> splitOutsideQuotes(String s, char sep) {
    List<String> out = new ArrayList<>();
    boolean quoted = false;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"') {
        quoted = !quoted;
      } else if (c == sep && !quoted) {
        out.add(s.substring(start, i).trim());
        start = i + 1;
      }
    }
    out.add(s.substring(start).trim());
    return out;
  }

  /** One hop: an address, with or without brackets, quotes and a port; null when it is none. */
  static @Nullable IpAddress parseHop(String hop) {
    String h = hop.trim();
    if (h.length() >= 2 && h.startsWith("\"") && h.endsWith("\"")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.startsWith("[")) {
      int close = h.indexOf(']');
      if (close < 0 || (close + 1 < h.length() && !h.substring(close + 1).matches(":[0-9]{1,5}"))) {
        return null;
      }
      return IpAddress.parse(h.substring(1, close));
    }
    int colon = h.indexOf(':');
    if (colon >= 0 && colon == h.lastIndexOf(':')) {
      if (!h.substring(colon + 1).matches("[0-9]{1,5}")) {
        return null;
      }
      h = h.substring(0, colon); // IPv4 with a port
    }
    return IpAddress.parse(h);
  }
}

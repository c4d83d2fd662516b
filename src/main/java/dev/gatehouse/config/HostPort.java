package dev.gatehouse.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.jspecify.annotations.Nullable;

/** A listen address: host (name or IP literal, IPv6 without brackets) and port. */
public record HostPort(String host, int port) {

  /**
   * Parses {@code HOST:PORT}, {@code [V6]:PORT}; returns null when malformed. A port of 0 asks the
   * OS for a free one (used by tests).
   */
  public static @Nullable HostPort parse(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    String host;
    String port;
    if (text.startsWith("[")) {
      int close = text.indexOf("]:");
      if (close < 0) {
        return null;
      }
      host = text.substring(1, close);
      port = text.substring(close + 2);
    } else {
      int colon = text.lastIndexOf(':');
      if (colon <= 0 || text.indexOf(':') != colon) {
        return null;
      }
      host = text.substring(0, colon);
      port = text.substring(colon + 1);
    }
    if (host.isEmpty() || !port.matches("[0-9]{1,5}")) {
      return null;
    }
    int p = Integer.parseInt(port);
    return p > 65535 ? null : new HostPort(host, p);
  }

  /**
   * True only for addresses that cannot be reached from another machine: 127.0.0.0/8, ::1 and
   * "localhost". A wildcard (0.0.0.0, ::) is not loopback.
   */
  public boolean isLoopback() {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) {
      return false; // a DNS name other than localhost could resolve anywhere
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}

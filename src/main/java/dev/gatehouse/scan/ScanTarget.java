package dev.gatehouse.scan;

import dev.gatehouse.config.HostPort;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * One URL the operator asked to scan. Only these are ever contacted: no redirect is followed, no
 * neighbour port or host is tried.
 *
 * @param base the URL without a trailing slash; probe paths are appended to it
 * @param host the host, without IPv6 brackets
 * @param port the port, the scheme's default filled in
 * @param tls true for https
 */
public record ScanTarget(URI base, String host, int port, boolean tls) {

  /**
   * Parses an {@code http://} or {@code https://} URL with a host and optionally a path prefix (for
   * a gateway behind a reverse proxy at {@code /llm}).
   *
   * @throws IllegalArgumentException with a {@code URL: value (expected: ...)} message
   */
  public static ScanTarget parse(String text) {
    URI u;
    try {
      u = new URI(text.strip());
    } catch (URISyntaxException e) {
      throw bad(text);
    }
    String scheme = u.getScheme();
    if (!("http".equals(scheme) || "https".equals(scheme))
        || u.getHost() == null
        || u.getRawUserInfo() != null
        || u.getRawQuery() != null
        || u.getRawFragment() != null) {
      throw bad(text);
    }
    String path = u.getRawPath() == null ? "" : u.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    boolean tls = scheme.equals("https");
    int port = u.getPort() > 0 ? u.getPort() : tls ? 443 : 80;
    String host = u.getHost().replace("[", "").replace("]", "");
    String hostPart = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return new ScanTarget(
        URI.create(scheme + "://" + hostPart + ":" + port + path), host, port, tls);
  }

  private static IllegalArgumentException bad(String text) {
    return new IllegalArgumentException(
        "URL: "
            + text
            + " (expected: an http:// or https:// URL with a host, and no user, query or fragment)");
  }

  /** True when the host is this machine's loopback: nobody else sees what it serves. */
  public boolean loopback() {
    return new HostPort(host, port).isLoopback();
  }

  @Override
  public String toString() {
    return base.toString();
  }
}

package dev.gatehouse.config;

/**
 * The checks that need two sections at once: the admin listener's port against the public one, and
 * the exposure rule (listen, tls and auth together). Every other check belongs to its section.
 */
final class CrossSectionChecks {

  private CrossSectionChecks() {}

  static void check(GatehouseConfig c, Problems p) {
    HostPort admin = c.admin().listen();
    if (admin != null && admin.port() != 0 && admin.port() == c.listen().port()) {
      p.invalid("admin.listen", "a port other than the public listener's");
    }
    exposure(c, p);
    // Any peer could otherwise name the address it is judged by (bans, limits, audit).
    if (c.balancing().proxyProtocol() && c.network().trustedProxies().isEmpty()) {
      p.add(
          "listen.proxy_protocol",
          "listen.proxy_protocol: true (expected: only together with network.trusted_proxies,"
              + " the load balancers allowed to send the header)");
    }
  }

  /** The one check that keeps Gatehouse from serving clear text or anonymous traffic off-box. */
  private static void exposure(GatehouseConfig c, Problems p) {
    if (c.listen().isLoopback() || (c.tlsEnabled() && c.authEnabled())) {
      return;
    }
    StringBuilder b = new StringBuilder();
    b.append("listen: ")
        .append(c.listen())
        .append(
            " (expected: a loopback address such as 127.0.0.1:11435, unless TLS is configured and authentication is on)\n")
        .append(
            "This address can be reached from other machines. Without TLS, API keys and prompts would cross the network in clear text;")
        .append(
            " without authentication, anyone who finds the port could use, copy or delete your models. Add to gatehouse.yaml:\n");
    if (!c.tlsEnabled()) {
      b.append("  tls:\n    cert: ")
          .append(c.dataDir().resolve("tls/cert.pem"))
          .append("\n    key: ")
          .append(c.dataDir().resolve("tls/key.pem"))
          .append('\n');
    }
    if (!c.authEnabled()) {
      b.append("  auth:\n    enabled: true\n");
    }
    if (!c.tlsEnabled()) {
      b.append(
          "Create that certificate and key with: gatehouse tls self-signed --host <name-clients-use>");
    }
    p.add("listen", b.toString().stripTrailing());
  }
}

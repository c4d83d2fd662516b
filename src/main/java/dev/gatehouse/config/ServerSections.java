package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.Admin;
import dev.gatehouse.config.GatehouseConfig.Posture;
import dev.gatehouse.config.GatehouseConfig.Tls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The sections about the process itself, each built from its settings and checked as it is built:
 * {@code tls.*}, {@code admin.*} with {@code health.*}, and {@code posture.*} ({@code store.*} is
 * {@link StoreSection}).
 */
final class ServerSections {

  private ServerSections() {}

  static Tls tls(SettingValues v, Problems p) {
    Path cert = v.path("tls.cert");
    Path key = v.path("tls.key");
    Path chain = v.path("tls.chain");
    HostPort redirect = v.hostPort("tls.redirect_listen");
    Duration reload = v.duration("tls.reload_interval");
    p.positive("tls.reload_interval", reload);
    p.exactlyOneOf(
        "tls.profile", "intermediate", "intermediate or modern", "intermediate", "modern");
    if ((cert == null) != (key == null)) {
      String missing = cert == null ? "tls.cert" : "tls.key";
      String other = cert == null ? "tls.key" : "tls.cert";
      // reported before tls.cert's own problem, whichever of the two is missing
      p.add(
          "tls.cert",
          missing + ": (empty) (expected: a PEM file, set together with " + other + ")");
    }
    readable(p, "tls.cert", cert);
    readable(p, "tls.key", key);
    readable(p, "tls.chain", chain);
    if (chain != null && cert == null) {
      p.add(
          "tls.chain",
          "tls.chain: " + chain + " (expected: only together with tls.cert and tls.key)");
    }
    if (redirect != null && cert == null) {
      p.add(
          "tls.redirect_listen",
          "tls.redirect_listen: "
              + redirect
              + " (expected: only together with tls.cert and tls.key)");
    }
    return new Tls(
        cert,
        key,
        chain,
        redirect,
        v.duration("tls.hsts_max_age"),
        reload,
        "modern".equals(v.string("tls.profile")),
        ClientCertSection.clientCerts(v, p, cert != null));
  }

  private static void readable(Problems p, String path, @Nullable Path file) {
    if (file != null && !Files.isReadable(file)) {
      p.add(path, path + ": " + file + " (expected: a readable PEM file)");
    }
  }

  private static final java.util.regex.Pattern ADMIN_HOST =
      java.util.regex.Pattern.compile(
          "(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?");

  static Admin admin(SettingValues v, Problems p) {
    HostPort listen = v.hostPort("admin.listen");
    boolean allowRemote = v.bool("admin.allow_remote");
    if (listen != null && !listen.isLoopback() && !allowRemote) {
      p.invalid(
          "admin.listen",
          "a loopback address; another address exposes the admin API and dashboard to the network, so it needs admin.allow_remote: true");
    }
    List<String> hosts = new java.util.ArrayList<>();
    for (String h : v.strings("admin.hosts")) {
      // A Host header is a name and maybe a port, nothing else: no scheme, path or wildcard.
      if (!ADMIN_HOST.matcher(h).matches()) {
        p.invalid("admin.hosts", "host or host:port entries, such as admin.example.com:8443");
        break;
      }
      hosts.add(h.toLowerCase(java.util.Locale.ROOT));
    }
    Duration interval = v.duration("health.interval");
    if (interval.isNegative()) {
      p.invalid("health.interval", "0s or more");
    }
    Duration timeout = v.duration("health.timeout");
    p.positive("health.timeout", timeout);
    return new Admin(listen, allowRemote, interval, timeout, hosts, OidcSection.oidc(v, p));
  }

  static Posture posture(SettingValues v, Problems p) {
    Duration runTimeout = v.duration("posture.run_timeout");
    p.positive("posture.run_timeout", runTimeout);
    return new Posture(v.duration("posture.interval"), runTimeout);
  }
}

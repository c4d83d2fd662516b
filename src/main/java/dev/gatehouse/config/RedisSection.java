package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.SharedLimits;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The section of docs/limits-redis.md: {@code limits.kind} and {@code redis.*}, checked as a whole,
 * since most mistakes are combinations (a Sentinel without a master name, Redis settings while the
 * limits stay local). A password never appears in a report: a URL that carries one is refused
 * without being shown.
 */
final class RedisSection {

  private RedisSection() {}

  /** Every {@code redis.*} setting, for the check that none is set while the limits are local. */
  private static final List<String> REDIS =
      List.of(
          "redis.url",
          "redis.mode",
          "redis.endpoints",
          "redis.master_name",
          "redis.user",
          "redis.password_file",
          "redis.tls_ca",
          "redis.timeout",
          "redis.key_prefix");

  private static final String NOT_GIVEN = "\u0000";

  static SharedLimits sharedLimits(SettingValues v, Problems p) {
    p.oneOf("limits.kind", "local", "local or redis", "local", "redis");
    boolean redis = "redis".equals(v.string("limits.kind"));
    Path passwordFile = v.path("redis.password_file");
    Path tlsCa = v.path("redis.tls_ca");
    SharedLimits s =
        new SharedLimits(
            redis,
            v.string("redis.url"),
            v.string("redis.mode"),
            v.strings("redis.endpoints"),
            v.string("redis.master_name"),
            v.string("redis.user"),
            passwordFile,
            tlsCa,
            v.duration("redis.timeout"),
            v.string("redis.key_prefix"));
    if (!redis) {
      // Redis settings without limits.kind: redis would leave every gateway counting alone, which
      // is what the operator set them up to prevent: refused rather than ignored
      for (String path : REDIS) {
        if (!NOT_GIVEN.equals(v.given(path, NOT_GIVEN))) {
          p.add(
              path,
              path
                  + ": set while limits.kind is local (expected: limits.kind: redis, or no redis.*"
                  + " setting)");
        }
      }
      return s;
    }
    p.oneOf(
        "redis.mode",
        "standalone",
        "standalone, sentinel or cluster",
        "standalone",
        "sentinel",
        "cluster");
    switch (s.mode()) {
      case "standalone" -> {
        if (s.url().isEmpty()) {
          p.add(
              "redis.url",
              "redis.url: empty (expected: redis://HOST:PORT or rediss://HOST:PORT"
                  + " with limits.kind redis and redis.mode standalone)");
        } else {
          address(p, "redis.url", s.url(), true);
        }
        if (!s.endpoints().isEmpty()) {
          p.add(
              "redis.endpoints",
              "redis.endpoints: set with redis.mode standalone (expected:"
                  + " redis.url alone; endpoints are for sentinel or cluster)");
        }
      }
      case "sentinel", "cluster" -> {
        if (s.endpoints().isEmpty()) {
          p.add(
              "redis.endpoints",
              "redis.endpoints: empty (expected: at least one"
                  + " redis://HOST:PORT with redis.mode "
                  + s.mode()
                  + ")");
        }
        for (String e : s.endpoints()) {
          address(p, "redis.endpoints", e, false);
        }
        if (!s.url().isEmpty()) {
          p.add(
              "redis.url",
              "redis.url: set with redis.mode "
                  + s.mode()
                  + " (expected: the addresses in redis.endpoints, and no redis.url)");
        }
      }
      default -> {} // reported by oneOf above
    }
    if ("sentinel".equals(s.mode()) && s.masterName().isEmpty()) {
      p.add(
          "redis.master_name",
          "redis.master_name: empty (expected: the master's name as the"
              + " Sentinels know it, with redis.mode sentinel)");
    }
    if (!"sentinel".equals(s.mode()) && !s.masterName().isEmpty()) {
      p.add(
          "redis.master_name",
          "redis.master_name: set with redis.mode "
              + s.mode()
              + " (expected: only with redis.mode sentinel)");
    }
    if (!s.user().isEmpty() && passwordFile == null) {
      p.add(
          "redis.user",
          "redis.user: set without redis.password_file (expected: the user's"
              + " password in redis.password_file)");
    }
    if (passwordFile != null && !Files.isReadable(passwordFile)) {
      p.add(
          "redis.password_file",
          "redis.password_file: "
              + passwordFile
              + " (expected: a readable file holding the Redis password)");
    }
    if (tlsCa != null && !Files.isReadable(tlsCa)) {
      p.add(
          "redis.tls_ca",
          "redis.tls_ca: "
              + tlsCa
              + " (expected: a readable PEM file of the CA certificates Redis's certificate"
              + " chains to)");
    }
    boolean tls =
        s.url().startsWith("rediss://")
            || s.endpoints().stream().anyMatch(e -> e.startsWith("rediss://"));
    if (tlsCa != null && !tls) {
      // a CA for a plain-text connection would check nothing: the operator meant TLS
      p.add(
          "redis.tls_ca",
          "redis.tls_ca: set without a rediss:// address (expected: rediss:// in redis.url or"
              + " redis.endpoints, or no redis.tls_ca)");
    }
    p.positive("redis.timeout", s.timeout());
    if (s.timeout().compareTo(Duration.ofSeconds(60)) > 0) {
      p.invalid("redis.timeout", "at most 60s (a request waits this long for its limits)");
    }
    String prefix = s.keyPrefix();
    if (prefix.isEmpty()
        || prefix.length() > 64
        || !prefix.matches("[\\x21-\\x7e]+")
        || prefix.contains("{")
        || prefix.contains("}")) {
      // braces would change which Cluster slot the keys hash to (Gatehouse sets its own hash tags)
      p.invalid("redis.key_prefix", "1-64 printable characters, no space and no { or }");
    }
    return s;
  }

  /** Checks one Redis address; never echoes one that holds user information (a password). */
  private static void address(Problems p, String path, String text, boolean database) {
    String expected =
        " (expected: redis://HOST:PORT or rediss://HOST:PORT"
            + (database ? ", optionally with /DB" : "")
            + "; the password goes in redis.password_file)";
    URI u;
    try {
      u = new URI(text);
    } catch (URISyntaxException e) {
      p.add(path, path + ": " + (text.contains("@") ? "(not shown)" : text) + expected);
      return;
    }
    if (u.getRawUserInfo() != null) {
      p.add(path, path + ": a URL with user information, not shown" + expected);
      return;
    }
    boolean ok =
        ("redis".equals(u.getScheme()) || "rediss".equals(u.getScheme()))
            && u.getHost() != null
            && u.getPort() <= 65535
            && u.getRawQuery() == null
            && u.getRawFragment() == null
            && (u.getRawPath() == null
                || u.getRawPath().isEmpty()
                || (database && u.getRawPath().matches("/[0-9]{1,2}")));
    if (!ok) {
      p.add(path, path + ": " + text + expected);
    }
  }
}

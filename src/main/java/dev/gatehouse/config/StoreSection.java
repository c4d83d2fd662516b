package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The {@code store.*} section: which store holds keys, bans, usage and the audit copy, and for
 * PostgreSQL where it is and how long the gateway may serve from memory without it.
 */
final class StoreSection {

  private StoreSection() {}

  /**
   * The shortest {@code store.max_stale}: the store is checked every second, so a shorter window
   * would run out between two good checks and refuse traffic while the store is fine.
   */
  static final Duration MIN_STALE = Duration.ofSeconds(2);

  static Store store(SettingValues v, Problems p) {
    p.oneOf("store.kind", "sqlite", "sqlite or postgres", "sqlite", "postgres");
    String kind = v.string("store.kind");
    String url = v.string("store.url").strip();
    String user = v.string("store.user").strip();
    Path passwordFile = v.path("store.password_file");
    int poolSize = v.integer("store.pool_size");
    Duration maxStale = v.duration("store.max_stale");
    boolean postgres = kind.equals("postgres");
    if (postgres) {
      if (url.isEmpty()) {
        p.add(
            "store.url",
            "store.url: (empty) (expected: jdbc:postgresql://HOST[:PORT]/DATABASE with store.kind: postgres)");
      } else if (!url.startsWith("jdbc:postgresql://")) {
        p.add(
            "store.url",
            "store.url: " + redacted(url) + " (expected: jdbc:postgresql://HOST[:PORT]/DATABASE)");
      } else if (holdsPassword(url)) {
        // A URL is shown in messages and process listings; a password belongs in a file only.
        p.add(
            "store.url",
            "store.url: "
                + redacted(url)
                + " (expected: no password in the URL; put it in store.password_file)");
      }
      if (passwordFile != null && !Files.isReadable(passwordFile)) {
        p.add(
            "store.password_file",
            "store.password_file: " + passwordFile + " (expected: a readable file)");
      }
      p.range("store.pool_size", poolSize, 2, 1000, "2-1000");
      if (maxStale.compareTo(MIN_STALE) < 0) {
        p.invalid(
            "store.max_stale",
            "2s or more: the store is checked every second, so less would refuse traffic between two good checks");
      }
    } else if (!url.isEmpty() || passwordFile != null || !user.isEmpty()) {
      // Settings that only PostgreSQL reads, given for SQLite: the operator meant another store.
      p.add(
          "store.url",
          "store.url, store.user, store.password_file: set (expected: only with store.kind: postgres)");
    }
    return new Store(
        kind, url.isEmpty() ? null : url, user, passwordFile, Math.max(2, poolSize), maxStale);
  }

  /** Whether the URL carries a password (a {@code password=} parameter or user info). */
  static boolean holdsPassword(String url) {
    String lower = url.toLowerCase(Locale.ROOT);
    int q = lower.indexOf('?');
    String query = q < 0 ? "" : lower.substring(q + 1);
    for (String param : query.split("&")) {
      if (param.startsWith("password=") || param.startsWith("sslpassword=")) {
        return true;
      }
    }
    String authority = (q < 0 ? lower : lower.substring(0, q));
    int slashes = authority.indexOf("//");
    int at = authority.indexOf('@');
    return slashes >= 0 && at > slashes;
  }

  /** The URL without its query and user info, which may hold a password, for messages. */
  static String redacted(String url) {
    int q = url.indexOf('?');
    String base = q < 0 ? url : url.substring(0, q) + "?...";
    int slashes = base.indexOf("//");
    int at = base.indexOf('@');
    if (slashes >= 0 && at > slashes) {
      base = base.substring(0, slashes + 2) + "...@" + base.substring(at + 1);
    }
    return base;
  }
}

package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.Alerts;
import dev.gatehouse.config.GatehouseConfig.Audit;
import dev.gatehouse.config.GatehouseConfig.AuditDurability;
import dev.gatehouse.config.GatehouseConfig.AuditPrompt;
import dev.gatehouse.config.GatehouseConfig.AuditRetention;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.jspecify.annotations.Nullable;

/**
 * The sections of docs/alerts.md and docs/audit.md, each built from its settings and checked as it
 * is built: {@code alerts.*} and {@code audit.*}. Alert rules and manage hours are parsed by the
 * alerts feature, through its {@link ConfigCheck}.
 */
final class AlertAndAuditSections {

  private AlertAndAuditSections() {}

  static Alerts alerts(SettingValues v, Problems p) {
    URI webhook = webhookUrl(v.string("alerts.webhook"));
    if (webhook == null && !v.given("alerts.webhook", "").isBlank()) {
      p.invalid("alerts.webhook", "an http:// or https:// URL with a host and no user info");
    }
    String zone = v.given("alerts.timezone", "").trim();
    if (!zone.isEmpty() && !ZoneId.getAvailableZoneIds().contains(zone) && !zone.equals("UTC")) {
      p.invalid("alerts.timezone", "a time zone id such as UTC or Europe/Berlin");
    }
    Alerts a =
        new Alerts(
            v.bool("alerts.default_rules"),
            v.strings("alerts.rules"),
            webhook,
            v.path("alerts.webhook_secret_file"),
            v.duration("alerts.webhook_timeout"),
            v.integer("alerts.webhook_retries"),
            v.duration("alerts.webhook_backoff"),
            v.string("alerts.manage_hours"),
            zone(v.string("alerts.timezone")),
            v.integer("alerts.network_prefix_v4"),
            v.integer("alerts.network_prefix_v6"));
    p.range("alerts.webhook_retries", a.webhookRetries(), 0, 100, "0-100");
    p.positive("alerts.webhook_timeout", a.webhookTimeout());
    p.positive("alerts.webhook_backoff", a.webhookBackoff());
    p.range("alerts.network_prefix_v4", a.networkPrefixV4(), 1, 32, "1-32");
    p.range("alerts.network_prefix_v6", a.networkPrefixV6(), 1, 128, "1-128");
    return a;
  }

  /** The webhook URL, or null when empty or malformed (the latter is reported). */
  private static @Nullable URI webhookUrl(String text) {
    if (text.isEmpty()) {
      return null;
    }
    try {
      URI u = new URI(text);
      boolean ok =
          ("http".equals(u.getScheme()) || "https".equals(u.getScheme()))
              && u.getHost() != null
              && u.getRawUserInfo() == null;
      return ok ? u : null;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  /** The zone, the system's when empty, or UTC when malformed (which is reported). */
  private static ZoneId zone(String text) {
    if (text.isEmpty()) {
      return ZoneId.systemDefault();
    }
    try {
      return ZoneId.of(text);
    } catch (DateTimeException e) {
      return ZoneOffset.UTC;
    }
  }

  /** The audit section; {@code dataDir} is where the checkpoint key lives unless one is named. */
  static Audit audit(SettingValues v, Problems p, Path dataDir) {
    p.exactlyOneOf("audit.prompt", "none", "none, sha256 or text", "none", "sha256", "text");
    // response: the name fsync had before written became the default; kept so that existing
    // configurations keep their power-loss durability.
    p.exactlyOneOf(
        "audit.durability",
        "written",
        "written, fsync or batch",
        "written",
        "fsync",
        "response",
        "batch");
    Path key = v.path("audit.hmac_key_file");
    AuditRetention retention =
        new AuditRetention(
            v.size("audit.retention.segment_bytes"),
            v.duration("audit.retention.max_age"),
            v.size("audit.retention.max_bytes"));
    Audit a =
        new Audit(
            key == null ? dataDir.resolve("audit-hmac.key") : key.toAbsolutePath().normalize(),
            switch (v.string("audit.prompt")) {
              case "sha256" -> AuditPrompt.SHA256;
              case "text" -> AuditPrompt.TEXT;
              default -> AuditPrompt.NONE; // anything else is reported above
            },
            v.integer("audit.checkpoint_every"),
            v.duration("audit.checkpoint_interval"),
            switch (v.string("audit.durability")) {
              case "fsync", "response" -> AuditDurability.FSYNC;
              case "batch" -> AuditDurability.BATCH;
              default -> AuditDurability.WRITTEN; // anything else is reported above
            },
            retention,
            v.duration("audit.db_max_lag"));
    p.range("audit.checkpoint_every", a.checkpointEvery(), 1, 1_000_000, "1-1000000");
    p.positive("audit.checkpoint_interval", a.checkpointInterval());
    p.positive("audit.db_max_lag", a.dbMaxLag());
    p.range(
        "audit.retention.segment_bytes", retention.segmentBytes(), 1024, 1L << 40, "1KiB to 1TiB");
    if (retention.maxBytes() != 0 && retention.maxBytes() < retention.segmentBytes()) {
      p.range(
          "audit.retention.max_bytes",
          retention.maxBytes(),
          retention.segmentBytes(),
          Long.MAX_VALUE,
          "0 (off) or at least audit.retention.segment_bytes");
    }
    return a;
  }
}

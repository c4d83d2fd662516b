package dev.gatehouse.config;

import java.util.List;
import java.util.Set;

/**
 * Which settings a running gateway takes on at a reload, and which only at its next start: the one
 * list that the reload, {@code docs/configuration.md} (generated from it) and the admin API's
 * config answer all read. A setting not named in {@link #RESTART} applies live.
 */
public final class Reloading {

  private Reloading() {}

  /**
   * The settings read only at start: a reload that changes one reports it as needing a restart and
   * keeps its running value. Each line says what holds the value for the life of the process.
   */
  public static final Set<String> RESTART =
      Set.of(
          // the public listener's socket, its TLS set-up and the HTTP decoder's options; a
          // certificate renewed at the same paths is loaded by tls.reload_interval, no restart
          "listen",
          "listen.proxy_protocol", // the listener's decoder, set up once
          // read when the drain starts; the process ends after it
          "shutdown.grace",
          "tls.cert",
          "tls.key",
          "tls.chain",
          "tls.redirect_listen",
          "tls.reload_interval",
          "tls.profile",
          "tls.client_ca", // the trust store and client-auth mode are the listener's TLS set-up
          "tls.client_auth",
          "tls.client_crl",
          "limits.max_header_bytes",
          "timeouts.header_read",
          "timeouts.keepalive",
          // the process: threads, data directory, store, and one bound on all request bodies
          "server.event_loops",
          "server.transport",
          "data_dir",
          "store.kind",
          "instance.id", // the audit chain the writer appends to, opened once
          "store.url",
          "store.user",
          "store.password_file",
          "store.pool_size",
          "store.max_stale",
          "limits.body_memory",
          // the profile is checked against the settings above, which keep their running values
          "profile",
          // the upstream: its URL, connection pools per event loop, health check, model digests
          "upstream",
          "upstreams", // the pool: each upstream's pools, health, ejection state and model lists
          "routing.affinity",
          "routing.eject_after",
          "routing.eject_base",
          "routing.eject_max",
          "routing.models_refresh",
          "limits.max_upstream_connections",
          "timeouts.upstream_connect",
          "models.pin_refresh",
          "health.interval",
          "health.timeout",
          // the shared limits' back end and its Redis client, built once at start
          "limits.kind",
          "redis.url",
          "redis.mode",
          "redis.endpoints",
          "redis.master_name",
          "redis.user",
          "redis.password_file",
          "redis.tls_ca",
          "redis.timeout",
          "redis.key_prefix",
          // the concurrency gate's sizes and queue; connection caps count open connections
          "concurrency.global",
          "concurrency.queue",
          "concurrency.queue_timeout",
          "connections.max_per_ip",
          "connections.max_total",
          "network.trusted_proxies",
          // the admin listener
          "admin.listen",
          "admin.allow_remote",
          "admin.hosts", // read once, when the admin listener starts
          // read once, when the admin listener starts (its routes hold the provider's client)
          "admin.oidc.issuer",
          "admin.oidc.client_id",
          "admin.oidc.client_secret_file",
          "admin.oidc.redirect_base",
          "admin.oidc.roles_claim",
          "admin.oidc.roles",
          // the audit log's files, key and durability, opened once
          "audit.hmac_key_file",
          "audit.checkpoint_every",
          "audit.checkpoint_interval",
          "audit.durability",
          "audit.retention.segment_bytes",
          "audit.retention.max_age",
          "audit.retention.max_bytes",
          "audit.db_max_lag",
          // alerting: the rule windows, the webhook and the key networks are built once
          "alerts.default_rules",
          "alerts.rules",
          "alerts.webhook",
          "alerts.webhook_secret_file",
          "alerts.webhook_timeout",
          "alerts.webhook_retries",
          "alerts.webhook_backoff",
          "alerts.manage_hours",
          "alerts.timezone",
          "alerts.network_prefix_v4",
          "alerts.network_prefix_v6",
          // serve's periodic posture check
          "posture.interval",
          "posture.run_timeout");

  /** True when a reload applies {@code path} to new requests. */
  public static boolean live(String path) {
    return !RESTART.contains(path);
  }

  /** The settings that apply live, in schema order. */
  public static List<String> livePaths() {
    return Settings.ALL.stream().map(Setting::path).filter(Reloading::live).toList();
  }

  /** The settings that need a restart, in schema order. */
  public static List<String> restartPaths() {
    return Settings.ALL.stream().map(Setting::path).filter(p -> !live(p)).toList();
  }
}

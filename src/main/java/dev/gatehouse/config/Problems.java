package dev.gatehouse.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The problems found in one configuration, each one line in the form {@code path: value (expected:
 * ...)}. The sections, the cross-section checks and the features' {@link ConfigCheck}s all add to
 * one instance; the loader reports them together (all or nothing).
 *
 * <p>The report lists problems in {@link #REPORT_ORDER} by the setting each is about, whatever
 * order they were found in, so that a section or a feature's check can run in any order and the
 * report still reads the same (the golden files under {@code src/test/resources/config-errors} pin
 * it). Problems about the same setting keep the order they were added in.
 */
public final class Problems {

  /**
   * The order of the report, by setting. Item-by-item checks of addresses, hosts and choices come
   * first, then ranges and relations, then files, and the exposure refusal, the longest message,
   * last.
   */
  private static final List<String> REPORT_ORDER =
      List.of(
          "network.allow",
          "network.deny",
          "network.trusted_proxies",
          "network.ioc",
          "bans.never",
          "network.allowed_hosts",
          "cors.origins",
          "bans.refusal",
          "probes.action",
          "network.ioc_file",
          "server.event_loops",
          "limits.max_body",
          "limits.max_blob",
          "limits.body_memory",
          "limits.max_header_bytes",
          "limits.max_headers",
          "limits.max_upstream_connections",
          "timeouts.header_read",
          "timeouts.keepalive",
          "timeouts.upstream_connect",
          "timeouts.upstream_first_byte",
          "timeouts.upstream_idle",
          "timeouts.body_read",
          "tls.reload_interval",
          "cors.max_age",
          "bans.auth_failures",
          "bans.auth_window",
          "bans.duration",
          "bans.max_duration",
          "probes.threshold",
          "probes.window",
          "probes.tarpit_delay",
          "probes.body_peek_bytes",
          "probes.body_peek_timeout",
          "connections.max_per_ip",
          "connections.max_total",
          "rate.key_rpm",
          "rate.key_burst",
          "rate.ip_rpm",
          "rate.ip_burst",
          "rate.anonymous_ip_rpm",
          "rate.anonymous_ip_burst",
          "budget.tokens_per_minute",
          "budget.tokens_per_day",
          "concurrency.global",
          "concurrency.per_key",
          "concurrency.queue",
          "concurrency.queue_timeout",
          "caps.mode",
          "caps.max_output_tokens",
          "caps.num_ctx",
          "caps.n",
          "caps.images",
          "caps.messages",
          "caps.prompt_chars",
          "models.pin_refresh",
          "admin.listen",
          "health.interval",
          "health.timeout",
          "alerts.webhook",
          "alerts.rules",
          "alerts.manage_hours",
          "alerts.timezone",
          "alerts.webhook_retries",
          "alerts.webhook_timeout",
          "alerts.webhook_backoff",
          "posture.run_timeout",
          "alerts.network_prefix_v4",
          "alerts.network_prefix_v6",
          "audit.prompt",
          "tls.profile",
          "server.transport",
          "store.kind",
          "store.url",
          "store.user",
          "store.pool_size",
          "store.max_stale",
          "guard.mode",
          "guard.scope",
          "guard.secrets",
          "guard.max_bytes",
          "audit.durability",
          "audit.checkpoint_every",
          "audit.checkpoint_interval",
          "audit.db_max_lag",
          "audit.retention.segment_bytes",
          "audit.retention.max_bytes",
          "models.pinned",
          "store.password_file",
          "tls.cert",
          "tls.key",
          "tls.chain",
          "tls.redirect_listen",
          "tls.client_auth",
          "tls.client_ca",
          "tls.client_crl",
          "tls.client_principals",
          "policy.allowed_registries",
          "*", // any setting not named here
          "listen"); // the exposure refusal

  private record Problem(int rank, String line) {}

  private final SettingValues values;
  private final List<Problem> found = new ArrayList<>();

  Problems(SettingValues values) {
    this.values = values;
  }

  /**
   * Adds a problem written out in full; {@code path} is the setting it is about, which places it in
   * the report.
   */
  public void add(String path, String line) {
    int rank = REPORT_ORDER.indexOf(path);
    found.add(new Problem(rank >= 0 ? rank : REPORT_ORDER.indexOf("*"), line));
  }

  /** Adds {@code path: value-as-given (expected: expected)}. */
  public void invalid(String path, String expected) {
    add(path, values.describe(path) + " (expected: " + expected + ")");
  }

  /**
   * As {@link #invalid(String, String)}, showing {@code shownIfDefault} when the setting was not
   * given.
   */
  void invalid(String path, String shownIfDefault, String expected) {
    add(path, values.describe(path, shownIfDefault) + " (expected: " + expected + ")");
  }

  /**
   * Reports {@code value} (the setting at {@code path}, or a figure derived from it) outside {@code
   * min..max}.
   */
  void range(String path, long value, long min, long max, String expected) {
    if (value < min || value > max) {
      invalid(path, Long.toString(value), expected);
    }
  }

  /** Reports a duration that is zero (which would mean "at once" or "never", both unsafe here). */
  void positive(String path, Duration d) {
    if (d.isZero() || d.isNegative()) {
      invalid(path, d.toString(), "a duration above zero");
    }
  }

  /** Reports a choice, as written and trimmed, that is none of {@code allowed}. */
  void oneOf(String path, String def, String expected, String... allowed) {
    String text = values.given(path, def).trim();
    if (text.equals("false") && List.of(allowed).contains("off")) {
      return; // YAML 1.1 reads a bare off as the boolean false; where off is a choice, that is what
      // was meant
    }
    if (!List.of(allowed).contains(text)) {
      invalid(path, expected);
    }
  }

  /** Reports a choice, exactly as written, that is none of {@code allowed}. */
  void exactlyOneOf(String path, String def, String expected, String... allowed) {
    if (!List.of(allowed).contains(values.given(path, def))) {
      invalid(path, expected);
    }
  }

  boolean isEmpty() {
    return found.isEmpty();
  }

  /** The lines of the report, in {@link #REPORT_ORDER}. */
  List<String> lines() {
    return found.stream()
        .sorted(Comparator.comparingInt(Problem::rank))
        .map(Problem::line)
        .toList();
  }
}

package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.Budget;
import dev.gatehouse.config.GatehouseConfig.Caps;
import dev.gatehouse.config.GatehouseConfig.Concurrency;
import dev.gatehouse.config.GatehouseConfig.Limits;
import dev.gatehouse.config.GatehouseConfig.Rate;
import dev.gatehouse.config.GatehouseConfig.Timeouts;

/**
 * The sections of docs/limits.md, each built from its settings and checked as it is built: {@code
 * limits.*}, {@code timeouts.*}, {@code rate.*}, {@code budget.*}, {@code concurrency.*} and {@code
 * caps.*}.
 */
final class LimitSections {

  private LimitSections() {}

  private static final String OFF_OR_POSITIVE = "0 (off) or a positive number";

  static Limits limits(SettingValues v, Problems p) {
    Limits l =
        new Limits(
            v.size("limits.max_body"),
            v.size("limits.max_blob"),
            v.size("limits.body_memory"),
            v.sizeAsInt("limits.max_header_bytes"),
            v.integer("limits.max_headers"),
            v.integer("limits.max_upstream_connections"));
    p.range("limits.max_body", l.maxBody(), 1024, 1L << 32, "1KiB to 4GiB");
    p.range("limits.max_blob", l.maxBlob(), 1024, Long.MAX_VALUE, "at least 1KiB");
    p.range(
        "limits.body_memory",
        l.bodyMemory(),
        0,
        Long.MAX_VALUE,
        "0 (60% of the heap, within its old generation) or a size");
    if (l.bodyMemory() > 0 && l.bodyMemory() < l.maxBody()) {
      // a budget smaller than one allowed body would refuse that body every time
      p.invalid(
          "limits.body_memory",
          Long.toString(l.bodyMemory()),
          "0 or at least limits.max_body (" + l.maxBody() + ")");
    }
    p.range("limits.max_header_bytes", l.maxHeaderBytes(), 1024, 1 << 20, "1KiB to 1MiB");
    p.range("limits.max_headers", l.maxHeaders(), 8, 1000, "8-1000");
    p.range(
        "limits.max_upstream_connections", l.maxUpstreamConnections(), 1, 1_000_000, "1-1000000");
    return l;
  }

  static Timeouts timeouts(SettingValues v, Problems p) {
    for (String path :
        new String[] {
          "timeouts.header_read",
          "timeouts.keepalive",
          "timeouts.upstream_connect",
          "timeouts.upstream_first_byte",
          "timeouts.upstream_idle",
          "timeouts.body_read"
        }) {
      p.positive(path, v.duration(path));
    }
    return new Timeouts(
        v.duration("timeouts.header_read"),
        v.duration("timeouts.keepalive"),
        v.duration("timeouts.upstream_connect"),
        v.duration("timeouts.upstream_first_byte"),
        v.duration("timeouts.upstream_idle"),
        v.duration("timeouts.body_read"),
        v.size("timeouts.body_min_rate"));
  }

  static Rate rate(SettingValues v, Problems p) {
    Rate r =
        new Rate(
            v.integer("rate.key_rpm"),
            v.integer("rate.key_burst"),
            v.integer("rate.ip_rpm"),
            v.integer("rate.ip_burst"),
            v.integer("rate.anonymous_ip_rpm"),
            v.integer("rate.anonymous_ip_burst"));
    p.range("rate.key_rpm", r.keyRpm(), 0, 1_000_000_000, OFF_OR_POSITIVE);
    p.range("rate.key_burst", r.keyBurst(), 0, 1_000_000_000, OFF_OR_POSITIVE);
    p.range("rate.ip_rpm", r.ipRpm(), 0, 1_000_000_000, OFF_OR_POSITIVE);
    p.range("rate.ip_burst", r.ipBurst(), 0, 1_000_000_000, OFF_OR_POSITIVE);
    p.range("rate.anonymous_ip_rpm", r.anonymousIpRpm(), 0, 1_000_000_000, OFF_OR_POSITIVE);
    p.range("rate.anonymous_ip_burst", r.anonymousIpBurst(), 0, 1_000_000_000, OFF_OR_POSITIVE);
    return r;
  }

  static Budget budget(SettingValues v, Problems p) {
    Budget b =
        new Budget(v.integer("budget.tokens_per_minute"), v.integer("budget.tokens_per_day"));
    p.range("budget.tokens_per_minute", b.tokensPerMinute(), 0, 1_000_000_000, OFF_OR_POSITIVE);
    p.range("budget.tokens_per_day", b.tokensPerDay(), 0, 1_000_000_000, OFF_OR_POSITIVE);
    return b;
  }

  static Concurrency concurrency(SettingValues v, Problems p) {
    Concurrency c =
        new Concurrency(
            v.integer("concurrency.global"),
            v.integer("concurrency.per_key"),
            v.integer("concurrency.queue"),
            v.duration("concurrency.queue_timeout"));
    p.range("concurrency.global", c.global(), 1, 1_000_000, "1-1000000");
    p.range("concurrency.per_key", c.perKey(), 1, 1_000_000, "1-1000000");
    p.range("concurrency.queue", c.queue(), 0, 1_000_000, "0-1000000");
    p.positive("concurrency.queue_timeout", c.queueTimeout());
    return c;
  }

  static Caps caps(SettingValues v, Problems p) {
    p.exactlyOneOf("caps.mode", "clamp", "clamp or reject", "clamp", "reject");
    Caps c =
        new Caps(
            "reject".equals(v.string("caps.mode")),
            v.integer("caps.max_output_tokens"),
            v.integer("caps.num_ctx"),
            v.integer("caps.n"),
            v.duration("caps.keep_alive_max"),
            v.integer("caps.images"),
            v.size("caps.image_bytes"),
            v.integer("caps.messages"),
            v.integer("caps.prompt_chars"));
    p.range("caps.max_output_tokens", c.maxOutputTokens(), 1, 10_000_000, "1-10000000");
    p.range("caps.num_ctx", c.numCtx(), 1, 10_000_000, "1-10000000");
    p.range("caps.n", c.n(), 1, 128, "1-128");
    p.range("caps.images", c.images(), 0, 1000, "0-1000");
    p.range("caps.messages", c.messages(), 1, 1_000_000, "1-1000000");
    p.range("caps.prompt_chars", c.promptChars(), 1, 1_000_000_000, "1-1000000000");
    return c;
  }
}

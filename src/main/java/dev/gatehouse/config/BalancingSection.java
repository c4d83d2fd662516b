package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.Balancing;
import java.time.Duration;

/**
 * The section about running behind a load balancer: {@code listen.proxy_protocol} and {@code
 * shutdown.grace}. That the PROXY protocol comes with trusted proxies is checked in {@code
 * CrossSectionChecks}, which sees the network section too.
 */
final class BalancingSection {

  /** Longest drain: a load balancer's own drain timeout is rarely longer, and a stop must end. */
  private static final Duration MAX_GRACE = Duration.ofHours(1);

  private BalancingSection() {}

  static Balancing balancing(SettingValues v, Problems p) {
    Duration grace = v.duration("shutdown.grace");
    if (grace.compareTo(MAX_GRACE) > 0) {
      p.invalid("shutdown.grace", grace.toString(), "at most 1h");
    }
    return new Balancing(v.bool("listen.proxy_protocol"), grace);
  }
}

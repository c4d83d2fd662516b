package dev.gatehouse.alerts;

import dev.gatehouse.audit.AuditRecord;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The account stage's alerting: every finished request is an event, a key seen from a new network
 * is another, and the upstream health check adds {@code upstream_down} and {@code upstream_up}.
 * Thread-safe; never blocks.
 */
public final class Alerts {

  /** The rules shipped by default; a configured rule with the same name replaces one. */
  public static final List<String> DEFAULT_RULES =
      List.of(
          "requests_per_ip: count requests by ip > 20 in 1m cooldown 10m",
          "auth_failures_per_ip: count requests where reason=auth.* by ip >= 5 in 1m cooldown 10m",
          "models_manage: count requests where op=models.manage by ip >= 1 in 1m cooldown 1m",
          "models_manage_off_hours: count requests where op=models.manage and off_hours=true by ip >= 1 in 1m cooldown 1m severity critical",
          "budget_exhausted: count requests where reason=limit.token_budget by key >= 1 in 1m cooldown 1h",
          "key_new_network: count key_new_network by key >= 1 in 1m cooldown 0s",
          "upstream_down: count upstream_down >= 1 in 1m cooldown 5m severity critical",
          "dependency_down: count dependency_down by dependency >= 1 in 1m cooldown 5m severity critical",
          "model_digest_drift: count requests where reason=policy.model_pin_mismatch by model >= 1 in 1m cooldown 1h severity critical",
          "posture_finding: count posture_finding by finding >= 1 in 1m cooldown 0s severity critical");

  private final AlertEngine engine;
  private final KeyNetworks networks;
  private final ManageHours hours;
  private final Clock clock;
  private final @Nullable Webhook webhook;

  /**
   * @param webhook where the engine's alerts are delivered, or null for the log only
   */
  public Alerts(
      AlertEngine engine,
      KeyNetworks networks,
      ManageHours hours,
      Clock clock,
      @Nullable Webhook webhook) {
    this.engine = engine;
    this.webhook = webhook;
    this.networks = networks;
    this.hours = hours;
    this.clock = clock;
  }

  /**
   * The rules in force: the defaults (unless turned off) with configured rules replacing those of
   * the same name, then the other configured rules.
   *
   * @throws IllegalArgumentException naming the rule that does not parse
   */
  public static List<AlertRule> rules(boolean defaults, List<String> configured) {
    Map<String, AlertRule> byName = new LinkedHashMap<>();
    if (defaults) {
      for (String r : DEFAULT_RULES) {
        AlertRule rule = AlertRule.parse(r);
        byName.put(rule.name(), rule);
      }
    }
    for (String r : configured) {
      AlertRule rule;
      try {
        rule = AlertRule.parse(r);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("'" + r + "': " + e.getMessage(), e);
      }
      byName.put(rule.name(), rule);
    }
    return new ArrayList<>(byName.values());
  }

  /** The webhook, or null. */
  public @Nullable Webhook webhook() {
    return webhook;
  }

  /** The engine (tests and metrics read its counters). */
  public AlertEngine engine() {
    return engine;
  }

  /** Observes a finished request, and a key's use from a network it was never used from. */
  public void request(AuditRecord r) {
    long now = clock.millis();
    engine.request(r, now, hours); // as observe(Event.request(...)), without building the event
    String net = networks.observe(r.keyId(), r.ip());
    if (net != null) {
      Map<String, String> f = new LinkedHashMap<>();
      f.put("key", r.keyId());
      f.put("key_name", r.keyName());
      f.put("ip", r.ip());
      f.put("network", net);
      f.put("known_networks", String.join(" ", new java.util.TreeSet<>(networks.known(r.keyId()))));
      f.put("request_id", r.requestId());
      engine.observe(Event.of("key_new_network", now, f));
    }
  }

  /** Observes a change of the upstream's health. */
  public void upstream(String upstream, boolean up, String detail) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("upstream", upstream);
    if (detail != null) {
      f.put("detail", detail);
    }
    engine.observe(Event.of(up ? "upstream_up" : "upstream_down", clock.millis(), f));
  }

  /**
   * Observes a shared dependency ({@code dependency} is {@code store} for PostgreSQL, {@code
   * limits} for Redis) becoming unreachable or reachable again. While it is down, requests that
   * need it are refused (fail closed), so the default rule is critical.
   */
  public void dependency(String dependency, boolean up, String detail) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("dependency", dependency);
    f.put("detail", detail);
    engine.observe(Event.of(up ? "dependency_up" : "dependency_down", clock.millis(), f));
  }

  /**
   * Observes a posture finding at or above high that the periodic check saw for the first time (the
   * checker raises each one once; {@code finding} is its id and subject, so the default rule groups
   * by it).
   */
  public void posture(String findingId, String severity, String subject, String title) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("finding", findingId + " " + subject);
    f.put("finding_severity", severity);
    f.put("subject", subject);
    f.put("detail", title);
    engine.observe(Event.of("posture_finding", clock.millis(), f));
  }

  /** Drops idle groups; call now and then. */
  public void sweep() {
    engine.sweep(clock.millis());
  }
}

package dev.gatehouse.alerts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.audit.AuditRecord;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Alert rules: the one-line syntax, windows, thresholds, grouping and cooldowns. */
class AlertRulesTest {

  static final long T0 = Instant.parse("2026-11-22T10:00:00Z").toEpochMilli();
  static final ManageHours OFFICE = ManageHours.parse("Mon-Fri 08:00-18:00", ZoneOffset.UTC);

  static AuditRecord record(
      String ip, String keyId, String op, int status, String reason, long tokens) {
    return new AuditRecord(
        "2026-11-22T10:00:00.000Z",
        "r1",
        ip,
        keyId,
        keyId == null ? null : "name-" + keyId,
        "POST",
        "/api/generate",
        op,
        "llama3.2:3b",
        status,
        reason.equals("ok") ? "allow" : "deny",
        reason,
        10,
        20,
        tokens,
        tokens,
        0,
        0,
        1000,
        "ua",
        false,
        null,
        null);
  }

  static Event req(long t, String ip, String keyId, String op, int status, String reason) {
    return Event.request(record(ip, keyId, op, status, reason, 0), t, OFFICE);
  }

  static AlertEngine engine(List<Alert> out, String... rules) {
    return new AlertEngine(java.util.Arrays.stream(rules).map(AlertRule::parse).toList(), out::add);
  }

  @Test
  void parsesEveryPartOfARule() {
    AlertRule r =
        AlertRule.parse(
            "bursts: sum tokens requests where op=inference|embeddings and status!=5* by key > 1000 in 5m cooldown 1h severity critical");
    assertThat(r.name()).isEqualTo("bursts");
    assertThat(r.measure()).isEqualTo("tokens");
    assertThat(r.event()).isEqualTo("requests");
    assertThat(r.where())
        .containsExactly(
            new AlertRule.Condition("op", false, List.of("inference", "embeddings")),
            new AlertRule.Condition("status", true, List.of("5*")));
    assertThat(r.groupBy()).isEqualTo("key");
    assertThat(r.strictlyAbove()).isTrue();
    assertThat(r.threshold()).isEqualTo(1000);
    assertThat(r.window()).isEqualTo(Duration.ofMinutes(5));
    assertThat(r.cooldown()).isEqualTo(Duration.ofHours(1));
    assertThat(r.severity()).isEqualTo("critical");

    AlertRule d = AlertRule.parse("x: count upstream_down >= 1");
    assertThat(d.window()).isEqualTo(Duration.ofMinutes(1));
    assertThat(d.cooldown()).isEqualTo(Duration.ofMinutes(10));
    assertThat(d.severity()).isEqualTo("warning");
    assertThat(d.groupBy()).isNull();
  }

  @Test
  void theShippedDefaultsParseAndAConfiguredRuleReplacesOneByName() {
    List<AlertRule> rules =
        Alerts.rules(
            true,
            List.of(
                "requests_per_ip: count requests by ip > 100 in 1m",
                "mine: count requests by key >= 1"));
    assertThat(rules)
        .extracting(AlertRule::name)
        .containsExactly(
            "requests_per_ip",
            "auth_failures_per_ip",
            "models_manage",
            "models_manage_off_hours",
            "budget_exhausted",
            "key_new_network",
            "upstream_down",
            "dependency_down",
            "model_digest_drift",
            "posture_finding",
            "mine");
    assertThat(rules.get(0).threshold()).isEqualTo(100);
    assertThat(Alerts.rules(false, List.of())).isEmpty();
  }

  @Test
  void malformedRulesSayWhatIsWrong() {
    Map<String, String> cases =
        Map.of(
            "no colon here", "expected NAME:",
            "Bad-Name: count requests >= 1", "must be 1-64 of a-z",
            "a: average requests >= 1", "expected count, sum tokens or sum bytes",
            "a: count logins >= 1", "unknown event 'logins'",
            "a: count requests where colour=red >= 1", "unknown field 'colour'",
            "a: count requests by ip = 5", "expected > or >=",
            "a: count requests by ip >= five", "must be a whole number",
            "a: count requests >= 1 in forever", "is not a duration",
            "a: count requests >= 1 severity loud", "severity must be",
            "a: count requests by", "ends too soon");
    cases.forEach(
        (rule, message) ->
            assertThatThrownBy(() -> AlertRule.parse(rule))
                .as(rule)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message));
    assertThatThrownBy(() -> Alerts.rules(true, List.of("a: count requests >= x")))
        .hasMessageStartingWith("'a: count requests >= x': ");
  }

  @Test
  void moreThanTwentyRequestsAMinuteFromOneAddressFiresOnceThenCoolsDown() {
    List<Alert> out = new ArrayList<>();
    AlertEngine e = engine(out, "requests_per_ip: count requests by ip > 20 in 1m cooldown 10m");
    for (int i = 0; i < 20; i++) {
      e.observe(req(T0 + i * 1000, "203.0.113.9", "k1", "inference", 200, "ok"));
      e.observe(req(T0 + i * 1000, "198.51.100.1", "k2", "inference", 200, "ok"));
    }
    assertThat(out).isEmpty(); // 20 is not more than 20
    e.observe(req(T0 + 21_000, "203.0.113.9", "k1", "inference", 200, "ok"));
    assertThat(out).hasSize(1);
    Alert a = out.get(0);
    assertThat(a.groupValue()).isEqualTo("203.0.113.9");
    assertThat(a.total()).isEqualTo(21);
    assertThat(a.summary())
        .isEqualTo("requests_per_ip: 21 requests from ip 203.0.113.9 in 1m (threshold > 20)");
    // still over the threshold, inside the cooldown: suppressed, counted in the next alert
    for (int i = 0; i < 5; i++) {
      e.observe(req(T0 + 22_000 + i, "203.0.113.9", "k1", "inference", 200, "ok"));
    }
    assertThat(out).hasSize(1);
    // after the cooldown, a fresh burst fires again and says how many were suppressed
    long later = T0 + 21_000 + Duration.ofMinutes(10).toMillis() + 1;
    for (int i = 0; i < 21; i++) {
      e.observe(req(later + i, "203.0.113.9", "k1", "inference", 200, "ok"));
    }
    assertThat(out).hasSize(2);
    assertThat(out.get(1).suppressed()).isEqualTo(5);
  }

  @Test
  void theWindowSlidesOldEventsOut() {
    List<Alert> out = new ArrayList<>();
    AlertEngine e =
        engine(out, "auth: count requests where reason=auth.* by ip >= 5 in 1m cooldown 0s");
    for (int i = 0; i < 4; i++) {
      e.observe(req(T0 + i * 20_000, "203.0.113.9", null, null, 401, "auth.key_invalid"));
    }
    // the first failure is 80 s old by the fifth: only 3 are within the minute
    e.observe(req(T0 + 80_000, "203.0.113.9", null, null, 401, "auth.key_invalid"));
    assertThat(out).isEmpty();
    // a successful request does not count
    e.observe(req(T0 + 80_001, "203.0.113.9", "k1", "inference", 200, "ok"));
    e.observe(req(T0 + 80_002, "203.0.113.9", null, null, 401, "auth.key_invalid"));
    e.observe(req(T0 + 80_003, "203.0.113.9", null, null, 401, "auth.key_invalid"));
    assertThat(out).hasSize(1);
    assertThat(out.get(0).total()).isEqualTo(5);
  }

  @Test
  void sumsTokensPerKey() {
    List<Alert> out = new ArrayList<>();
    AlertEngine e = engine(out, "spend: sum tokens requests by key >= 1000 in 1h");
    e.observe(
        Event.request(
            record("192.0.2.1", "k1", "inference", 200, "ok", 300), T0, OFFICE)); // 600 in+out
    e.observe(Event.request(record("192.0.2.1", "k2", "inference", 200, "ok", 300), T0, OFFICE));
    assertThat(out).isEmpty();
    e.observe(
        Event.request(record("192.0.2.2", "k1", "inference", 200, "ok", 200), T0 + 1000, OFFICE));
    assertThat(out)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.groupValue()).isEqualTo("k1");
              assertThat(a.total()).isEqualTo(1000);
              assertThat(a.summary()).contains("1000 tokens from key k1 in 1h");
            });
  }

  @Test
  void modelManagementOutsideTheHoursIsOffHours() {
    List<Alert> out = new ArrayList<>();
    AlertEngine e = engine(out, Alerts.DEFAULT_RULES.get(3)); // models_manage_off_hours
    long mondayNoon = Instant.parse("2026-11-23T12:00:00Z").toEpochMilli();
    long mondayNight = Instant.parse("2026-11-23T23:30:00Z").toEpochMilli();
    long sundayNoon = Instant.parse("2026-11-22T12:00:00Z").toEpochMilli();
    e.observe(req(mondayNoon, "192.0.2.1", "k1", "models.manage", 200, "ok"));
    assertThat(out).isEmpty();
    e.observe(req(mondayNight, "192.0.2.1", "k1", "models.manage", 200, "ok"));
    e.observe(req(sundayNoon, "192.0.2.2", "k1", "models.manage", 403, "policy.endpoint_denied"));
    assertThat(out).extracting(a -> a.rule().severity()).containsExactly("critical", "critical");
    assertThat(
            ManageHours.parse("22:00-06:00", ZoneOffset.UTC)
                .outside(Instant.parse("2026-11-22T23:00:00Z").toEpochMilli()))
        .isFalse();
    assertThat(
            ManageHours.parse("22:00-06:00", ZoneOffset.UTC)
                .outside(Instant.parse("2026-11-22T12:00:00Z").toEpochMilli()))
        .isTrue();
    assertThatThrownBy(() -> ManageHours.parse("Mon-Fry 08:00-18:00", ZoneOffset.UTC))
        .hasMessageContaining("unknown day 'Fry'");
    assertThatThrownBy(() -> ManageHours.parse("8-18", ZoneOffset.UTC))
        .hasMessageContaining("not a time HH:MM");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Mon- 08:00-18:00", // why: a half-written range was read as Monday alone
        "- 08:00-18:00", // why: a range of no days threw ArrayIndexOutOfBounds, not a config error
        "Mon-Tue-Wed 08:00-18:00", // why: three ends are no range
        "08:00-", // why: hours with no end
        "08:00-18:00-20:00", // why: hours with three ends
      })
  void aMalformedRangeIsAConfigError(String text) {
    assertThatThrownBy(() -> ManageHours.parse(text, ZoneOffset.UTC))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aKeyFromANewNetworkIsNoticedButItsFirstNetworkIsItsBaseline() {
    KeyNetworks n = new KeyNetworks(24, 48);
    assertThat(n.observe("k1", "192.0.2.10")).isNull(); // baseline
    assertThat(n.observe("k1", "192.0.2.99")).isNull(); // same /24
    assertThat(n.observe("k1", "198.51.100.7")).isEqualTo("198.51.100.0/24");
    assertThat(n.observe("k1", "198.51.100.8")).isNull();
    assertThat(n.observe("k1", "2001:db8:1:2::5")).isEqualTo("2001:db8:1::/48");
    assertThat(n.observe(null, "192.0.2.1")).isNull(); // no key, nothing to track
    n.remember("k2", "192.0.2.1");
    assertThat(n.observe("k2", "203.0.113.1"))
        .isEqualTo("203.0.113.0/24"); // history read at start counts
  }

  @Test
  void idleGroupsAreSweptAway() {
    List<Alert> out = new ArrayList<>();
    AlertEngine e = engine(out, "r: count requests by ip > 100 in 1m cooldown 1m");
    for (int i = 0; i < 50; i++) {
      e.observe(req(T0, "10.0.0." + i, "k", "inference", 200, "ok"));
    }
    assertThat(e.groupCount()).isEqualTo(50);
    e.sweep(T0 + 60_000);
    assertThat(e.groupCount()).isEqualTo(50);
    e.sweep(T0 + 120_001);
    assertThat(e.groupCount()).isZero();
  }

  @Test
  void aRequestReadFromItsRecordFiresAsItsEventWould() {
    List<Alert> fromEvents = new ArrayList<>();
    List<Alert> fromRecords = new ArrayList<>();
    String[] rules = {
      "auth: count requests where reason=auth.* and status=401|403 by ip >= 3 in 1m cooldown 0s",
      "spend: sum tokens requests where op!=models.* by key > 500 in 1h cooldown 0s",
      "bytes: sum bytes requests by model >= 90 in 1m cooldown 0s",
      "night: count requests where off_hours=true >= 1 in 1m cooldown 0s"
    };
    AlertEngine byEvent = engine(fromEvents, rules);
    AlertEngine byRecord = engine(fromRecords, rules);
    for (int i = 0; i < 12; i++) {
      AuditRecord r =
          i % 3 == 0
              ? record("203.0.113." + (i % 2), null, null, 401, "auth.key_invalid", 0)
              : record("192.0.2.1", "k" + (i % 2), "inference", 200, "ok", 100 * i);
      long t = T0 + i * 1000L + (i > 8 ? Duration.ofHours(10).toMillis() : 0);
      byEvent.observe(Event.request(r, t, OFFICE));
      byRecord.request(r, t, OFFICE);
    }
    assertThat(fromRecords).isNotEmpty();
    assertThat(fromRecords)
        .extracting(a -> a.summary() + " " + a.suppressed())
        .containsExactlyElementsOf(
            fromEvents.stream().map(a -> a.summary() + " " + a.suppressed()).toList());
  }
}

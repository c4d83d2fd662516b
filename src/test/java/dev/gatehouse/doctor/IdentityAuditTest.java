package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gateway.ConfigChecks;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** doctor's checks of the client-identity settings (jwt.*). */
class IdentityAuditTest {

  static Map<String, String> jwt(String issuer, String jwksUrl) {
    Map<String, String> m = new HashMap<>();
    m.put("data_dir", "/tmp/gatehouse-identity-audit-test");
    m.put("jwt.issuer", issuer);
    m.put("jwt.audience", "gatehouse");
    m.put("jwt.jwks_url", jwksUrl);
    return m;
  }

  static List<String> ids(Map<String, String> flags) throws ConfigException {
    GatehouseConfig c = ConfigLoader.load(null, false, Map.of(), flags, ConfigChecks.ALL);
    return ConfigAudit.audit(c, null, List.of(), ConfigAuditTest.NO_STORE, Instant.now())
        .findings()
        .stream()
        .map(Finding::id)
        .toList();
  }

  static final String ISSUER = "https://idp.example/realms/r";
  static final String CERTS = ISSUER + "/protocol/openid-connect/certs";

  // A sound set-up: nothing to report.
  @Test
  void soundSetUpHasNoFinding() throws Exception {
    assertThat(ids(jwt(ISSUER, CERTS))).noneMatch(id -> id.startsWith("GH-JWT-"));
  }

  // JWT off: no identity findings at all.
  @Test
  void offHasNoFinding() throws Exception {
    assertThat(ids(Map.of("data_dir", "/tmp/x"))).noneMatch(id -> id.startsWith("GH-JWT-"));
  }

  // The issuer over plain HTTP, and a key set fetched over plain HTTP from another machine.
  @Test
  void plainHttpIssuerAndKeySet() throws Exception {
    assertThat(ids(jwt("http://idp.example/realms/r", "http://idp.example/certs")))
        .containsExactly("GH-JWT-ISSUER-PLAINTEXT", "GH-JWT-ISSUER-PLAINTEXT");
    // a key set on this machine's loopback is not on any path
    assertThat(ids(jwt(ISSUER, "http://127.0.0.1:8080/certs")))
        .noneMatch(id -> id.startsWith("GH-JWT-"));
  }

  // No audience: tokens issued to other applications would work.
  @Test
  void missingAudience() throws Exception {
    Map<String, String> m = jwt(ISSUER, CERTS);
    m.put("jwt.audience", "");
    assertThat(ids(m)).contains("GH-JWT-NO-AUDIENCE");
  }

  // A skew over five minutes; five minutes exactly is fine.
  @Test
  void clockSkewOverFiveMinutes() throws Exception {
    Map<String, String> m = jwt(ISSUER, CERTS);
    m.put("jwt.clock_skew", "6m");
    assertThat(ids(m)).contains("GH-JWT-CLOCK-SKEW");
    m.put("jwt.clock_skew", "5m");
    assertThat(ids(m)).doesNotContain("GH-JWT-CLOCK-SKEW");
  }

  // HMAC in the list: the config does not load, and doctor says why in its own finding.
  @Test
  void hmacBesidePublicKeys() throws Exception {
    Map<String, String> m = jwt(ISSUER, CERTS);
    m.put("jwt.algorithms", "RS256,HS256");
    List<String> problems;
    try {
      ConfigLoader.load(null, false, Map.of(), m, ConfigChecks.ALL);
      throw new AssertionError("an HS256 allowlist loaded");
    } catch (ConfigException e) {
      problems = e.problems();
    }
    ConfigAudit.Result r =
        ConfigAudit.audit(null, null, problems, ConfigAuditTest.NO_STORE, Instant.now());
    assertThat(r.findings().stream().map(Finding::id))
        .containsExactly("GH-CONFIG-INVALID", "GH-JWT-HMAC-ALGORITHM");
    Finding hmac = r.findings().get(1);
    assertThat(hmac.severity()).isEqualTo(Severity.CRITICAL);
  }
}

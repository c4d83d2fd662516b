package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gatehouse.gateway.ConfigChecks;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The jwt.* section: what it refuses at load, so that it cannot be configured into an open door.
 */
class JwtSectionTest {

  static Map<String, String> base() {
    Map<String, String> m = new HashMap<>();
    m.put("jwt.issuer", "https://idp.example/realms/r");
    m.put("jwt.audience", "gatehouse");
    m.put("jwt.jwks_url", "https://idp.example/realms/r/protocol/openid-connect/certs");
    return m;
  }

  static GatehouseConfig load(Map<String, String> flags) throws ConfigException {
    return ConfigLoader.load(null, false, Map.of(), flags, ConfigChecks.ALL);
  }

  static List<String> problems(Map<String, String> flags) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(flags));
    assertThat(e).as("refused at load").isNotNull();
    return e.problems();
  }

  // Off by default: no issuer, no JWT.
  @Test
  void offByDefault() throws Exception {
    GatehouseConfig c = load(Map.of());
    assertThat(c.jwt().enabled()).isFalse();
    assertThat(c.jwt().algorithms()).containsExactly("RS256", "ES256");
    assertThat(c.jwt().clockSkew()).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void aGoodSectionLoads() throws Exception {
    Map<String, String> m = base();
    m.put("jwt.tiers", "gold rpm=600 burst=60 tokens_per_day=5000000,free rpm=10");
    GatehouseConfig c = load(m);
    assertThat(c.jwt().enabled()).isTrue();
    assertThat(c.jwt().tiers()).containsOnlyKeys("gold", "free");
    assertThat(c.jwt().tiers().get("gold").rpm()).isEqualTo(600);
    assertThat(c.jwt().tiers().get("gold").tokensPerDay()).isEqualTo(5_000_000L);
    assertThat(c.jwt().tiers().get("free").burst()).isNull();
  }

  // The RS/HS confusion and unsigned tokens are refused at the config, not only per request.
  @Test
  void hmacAndNoneAreRefused() throws Exception {
    for (String alg : List.of("HS256", "hs512", "none")) {
      Map<String, String> m = base();
      m.put("jwt.algorithms", "RS256," + alg);
      assertThat(problems(m)).anyMatch(p -> p.startsWith("jwt.algorithms: " + alg));
    }
  }

  // An algorithm Gatehouse does not know is refused rather than ignored.
  @Test
  void unknownAlgorithmIsRefused() throws Exception {
    Map<String, String> m = base();
    m.put("jwt.algorithms", "RS257");
    assertThat(problems(m)).anyMatch(p -> p.startsWith("jwt.algorithms: RS257"));
  }

  // An issuer needs exactly one source of keys.
  @Test
  void exactlyOneKeySource() throws Exception {
    Map<String, String> none = base();
    none.remove("jwt.jwks_url");
    assertThat(problems(none)).anyMatch(p -> p.contains("neither is set"));
    Map<String, String> both = base();
    both.put("jwt.jwks_file", "/etc/jwks.json");
    assertThat(problems(both)).anyMatch(p -> p.contains("both are set"));
  }

  @Test
  void badUrlSkewAndTiersAreRefused() throws Exception {
    Map<String, String> m = base();
    m.put("jwt.jwks_url", "ftp://idp.example/certs");
    m.put("jwt.clock_skew", "2h");
    m.put("jwt.tiers", "gold rpm=abc,gold rpm=1,silver colour=blue");
    List<String> p = problems(m);
    assertThat(p).anyMatch(l -> l.startsWith("jwt.jwks_url"));
    assertThat(p).anyMatch(l -> l.startsWith("jwt.clock_skew"));
    assertThat(p).anyMatch(l -> l.startsWith("jwt.tiers: gold rpm=abc"));
    assertThat(p).anyMatch(l -> l.startsWith("jwt.tiers: silver colour=blue"));
  }
}

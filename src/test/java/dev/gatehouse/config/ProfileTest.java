package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code profile: prod}: a hardened config loads; one that is not is refused with every gap. */
class ProfileTest {

  /** Settings that make a prod config: TLS (files the loader can read), bans that escalate. */
  static Map<String, String> prodFlags(Path dir) throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
    Path key = Files.writeString(dir.resolve("key.pem"), "x");
    Map<String, String> flags = new HashMap<>();
    flags.put("profile", "prod");
    flags.put("tls.cert", cert.toString());
    flags.put("tls.key", key.toString());
    flags.put("probes.action", "ban");
    flags.put("cors.origins", "https://app.example");
    return flags;
  }

  private static GatehouseConfig load(Map<String, String> flags) throws ConfigException {
    return ConfigLoader.load(null, false, Map.of(), flags, List.of());
  }

  @Test
  void devIsTheDefaultAndChecksNothingMore() throws Exception {
    // why: turning the profile on must be a choice; today's configs keep loading
    GatehouseConfig c = load(Map.of("probes.action", "log", "bans.auth_failures", "0"));
    assertThat(c.profile()).isEqualTo(GatehouseConfig.Profile.DEV);
    assertThat(ProfileSection.gaps(c)).hasSize(3); // TLS, auth failures, probes; reported only
  }

  @Test
  void aHardenedProdConfigLoads() throws Exception {
    // why: prod is reachable with ordinary settings; nothing in it is impossible
    GatehouseConfig c = load(prodFlags(Files.createTempDirectory("gh-prod")));
    assertThat(c.profile()).isEqualTo(GatehouseConfig.Profile.PROD);
    assertThat(ProfileSection.gaps(c)).isEmpty();
  }

  @Test
  void aProdConfigThatIsNotOneIsRefusedWithEveryGapAtOnce() throws Exception {
    // why: each gap is its own line in the config error format, all reported together
    Map<String, String> flags = new HashMap<>();
    flags.put("profile", "prod");
    flags.put("auth.enabled", "false");
    flags.put("admin.allow_remote", "true");
    flags.put("cors.origins", "http://app.example,https://ok.example");
    flags.put("bans.auth_failures", "0");
    flags.put("bans.max_duration", "10m");

    assertThatThrownBy(() -> load(flags))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .containsExactly(
                        "cors.origins: http://app.example (expected: https:// origins only, since"
                            + " profile prod lets no clear-text page call the API)",
                        "probes.action: log (expected: ban or tarpit, since profile prod acts on a"
                            + " client that scans)",
                        "bans.auth_failures: 0 (expected: 1 or more, since profile prod bans an"
                            + " address that keeps failing authentication)",
                        "bans.max_duration: 10m (expected: longer than bans.duration (10m), since"
                            + " profile prod doubles a repeat offender's ban)",
                        "tls.cert: (empty) (expected: a PEM certificate with tls.key, since profile"
                            + " prod serves HTTPS only)",
                        "auth.enabled: false (expected: true, since profile prod authenticates every"
                            + " request)",
                        "admin.allow_remote: true (expected: false, since profile prod keeps the"
                            + " admin listener on loopback, where no admin credential crosses the"
                            + " network)"));
  }

  @Test
  void anUnknownProfileIsRefused() {
    // why: a typo must not fall back to dev silently
    assertThatThrownBy(() -> load(Map.of("profile", "production")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("profile: production [from --profile] (expected: dev or prod)");
  }
}

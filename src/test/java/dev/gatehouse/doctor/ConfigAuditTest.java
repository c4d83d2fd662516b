package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.store.KeyRecord;
import dev.gatehouse.tls.SelfSigned;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit of Gatehouse's own configuration, certificate and keys. */
class ConfigAuditTest {

  static ConfigAudit.KeySource keys(KeyRecord... records) {
    return new ConfigAudit.KeySource() {
      @Override
      public List<KeyRecord> keys() {
        return List.of(records);
      }

      @Override
      public String describe() {
        return "test store";
      }

      @Override
      public boolean exists() {
        return true;
      }
    };
  }

  static final ConfigAudit.KeySource NO_STORE =
      new ConfigAudit.KeySource() {
        @Override
        public List<KeyRecord> keys() {
          throw new AssertionError("not read when there is no store");
        }

        @Override
        public String describe() {
          return "/nowhere/gatehouse.db";
        }

        @Override
        public boolean exists() {
          return false;
        }
      };

  static GatehouseConfig config(Map<String, String> settings) throws Exception {
    Map<String, String> flags = new HashMap<>(Map.of("data_dir", "/tmp/gatehouse-audit-test"));
    flags.putAll(settings);
    return ConfigLoader.load(null, false, Map.of(), flags, ConfigChecks.ALL);
  }

  static List<String> ids(ConfigAudit.Result r) {
    return r.findings().stream().map(Finding::id).toList();
  }

  @Test
  void aProdConfigThatIsNotOneIsReportedGapByGapWithItsFix(@TempDir Path dir) throws Exception {
    // why: doctor must say what keeps a prod config from being one, each gap with its fix, where
    // serve only refuses to start
    Path file = dir.resolve("gatehouse.yaml");
    java.nio.file.Files.writeString(
        file, "profile: prod\ndata_dir: /tmp/gatehouse-audit-test\nbans:\n  auth_failures: 0\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ConfigLoader.load(file, true, Map.of(), Map.of(), ConfigChecks.ALL))
        .isInstanceOf(dev.gatehouse.config.ConfigException.class);
    GatehouseConfig c = ConfigLoader.loadForAudit(file, true, Map.of(), Map.of(), ConfigChecks.ALL);

    ConfigAudit.Result r = ConfigAudit.audit(c, file, List.of(), NO_STORE, Instant.now());

    assertThat(r.findings())
        .extracting(Finding::id, Finding::subject)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("GH-CONFIG-PROFILE-GAP", "profile prod: tls.cert"),
            org.assertj.core.groups.Tuple.tuple(
                "GH-CONFIG-PROFILE-GAP", "profile prod: bans.auth_failures"),
            org.assertj.core.groups.Tuple.tuple(
                "GH-CONFIG-PROFILE-GAP", "profile prod: probes.action"));
    assertThat(r.findings().get(0).fix()).contains("gatehouse tls self-signed");
    assertThat(r.findings().get(1).evidence())
        .containsExactly(
            "bans.auth_failures: 0 (expected: 1 or more, since profile prod bans an address that"
                + " keeps failing authentication) in "
                + file);
    // a dev config with the same gaps is not reported: dev asks for none of it
    ConfigAudit.Result dev =
        ConfigAudit.audit(
            config(Map.of("bans.auth_failures", "0")), null, List.of(), NO_STORE, Instant.now());
    assertThat(dev.findings()).isEmpty();
  }

  @Test
  void theDefaultsAreCleanAndTheMissingAdminListenerIsSaidToBeSkipped() throws Exception {
    // why: a fresh install must not greet its operator with findings
    ConfigAudit.Result r =
        ConfigAudit.audit(config(Map.of()), null, List.of(), NO_STORE, Instant.now());
    assertThat(r.findings()).isEmpty();
    assertThat(r.subject().facts())
        .anyMatch(f -> f.value().equals("http://127.0.0.1:11436/metrics"));
    assertThat(r.subject().facts())
        .anyMatch(f -> f.value().contains("no key store at /nowhere/gatehouse.db"));
  }

  @Test
  void aPlainListenerOnTheNetworkAuthOffAndAClearTextRemoteUpstreamAreReported(@TempDir Path dir)
      throws Exception {
    // why: each of these sends keys or prompts where a neighbour can read them, or lets anyone in
    SelfSigned.write(
        List.of("localhost"),
        Duration.ofDays(200),
        dir.resolve("cert.pem"),
        dir.resolve("key.pem"));
    GatehouseConfig c =
        config(
            Map.of(
                "tls.cert",
                dir.resolve("cert.pem").toString(),
                "tls.key",
                dir.resolve("key.pem").toString(),
                "tls.redirect_listen",
                "0.0.0.0:8080",
                "upstream",
                "http://192.168.1.50:11434"));
    ConfigAudit.Result r =
        ConfigAudit.audit(c, Path.of("gatehouse.yaml"), List.of(), NO_STORE, Instant.now());
    assertThat(ids(r))
        .containsExactlyInAnyOrder("GH-CONFIG-PLAIN-LISTENER", "GH-CONFIG-UPSTREAM-PLAINTEXT");
    ConfigAudit.Result off =
        ConfigAudit.audit(
            config(Map.of("auth.enabled", "false")), null, List.of(), NO_STORE, Instant.now());
    assertThat(ids(off)).containsExactly("GH-CONFIG-AUTH-DISABLED");
    ConfigAudit.Result admin =
        ConfigAudit.audit(
            config(Map.of("admin.listen", "0.0.0.0:11436", "admin.allow_remote", "true")),
            null,
            List.of(),
            NO_STORE,
            Instant.now());
    assertThat(ids(admin)).containsExactly("GH-CONFIG-ADMIN-REMOTE");
  }

  @Test
  void certificateDatesAreJudgedAgainstTheClock(@TempDir Path dir) throws Exception {
    // why: under 14 days is a warning, past the end is an outage waiting to be noticed
    SelfSigned.write(
        List.of("localhost"), Duration.ofDays(30), dir.resolve("cert.pem"), dir.resolve("key.pem"));
    GatehouseConfig c =
        config(
            Map.of(
                "tls.cert",
                dir.resolve("cert.pem").toString(),
                "tls.key",
                dir.resolve("key.pem").toString()));
    Instant now = Instant.now();
    assertThat(ids(ConfigAudit.audit(c, null, List.of(), NO_STORE, now))).isEmpty();
    assertThat(ids(ConfigAudit.audit(c, null, List.of(), NO_STORE, now.plus(Duration.ofDays(20)))))
        .containsExactly("GH-TLS-CERT-EXPIRING");
    assertThat(ids(ConfigAudit.audit(c, null, List.of(), NO_STORE, now.plus(Duration.ofDays(31)))))
        .containsExactly("GH-TLS-CERT-EXPIRED");
    Files.writeString(dir.resolve("cert.pem"), "not a certificate");
    assertThat(ids(ConfigAudit.audit(c, null, List.of(), NO_STORE, now)))
        .containsExactly("GH-TLS-CERT-UNREADABLE");
  }

  @Test
  void keysAreJudgedOnlyWhileActive() throws Exception {
    // why: revoked and expired keys cannot be used, so they are not a risk worth reporting
    Instant now = Instant.parse("2026-11-22T12:00:00Z");
    Instant t = now.minus(Duration.ofDays(10));
    ConfigAudit.Result r =
        ConfigAudit.audit(
            config(Map.of()),
            null,
            List.of(),
            keys(
                new KeyRecord(
                    "k1",
                    "ops",
                    new byte[32],
                    List.of("inference", "models.manage", "account"),
                    List.of(),
                    t,
                    null,
                    null,
                    null),
                new KeyRecord(
                    "k2",
                    "inspector",
                    new byte[32],
                    List.of("models.inspect"),
                    List.of("llama*"),
                    t,
                    now.plusSeconds(60),
                    null,
                    null),
                new KeyRecord(
                    "k3",
                    "revoked",
                    new byte[32],
                    List.of("models.manage"),
                    List.of(),
                    t,
                    null,
                    t.plusSeconds(5),
                    null),
                new KeyRecord(
                    "k4",
                    "expired",
                    new byte[32],
                    List.of("cloud"),
                    List.of(),
                    t,
                    now.minusSeconds(1),
                    null,
                    null)),
            now);
    assertThat(r.findings())
        .extracting(Finding::id, Finding::subject, Finding::severity)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("GH-KEY-NO-EXPIRY", "key k1 (ops)", Severity.LOW),
            org.assertj.core.groups.Tuple.tuple(
                "GH-KEY-NO-MODEL-LIMIT", "key k1 (ops)", Severity.LOW),
            org.assertj.core.groups.Tuple.tuple(
                "GH-KEY-RISKY-SCOPE", "key k1 (ops)", Severity.MEDIUM),
            org.assertj.core.groups.Tuple.tuple(
                "GH-KEY-RISKY-SCOPE", "key k2 (inspector)", Severity.LOW));
  }

  @Test
  void anInvalidConfigIsOneHighFindingListingEveryProblem() {
    ConfigAudit.Result r =
        ConfigAudit.audit(
            null,
            Path.of("/etc/gatehouse/gatehouse.yaml"),
            List.of(
                "listen: 0.0.0.0:99999 (expected: HOST:PORT)",
                "limits.max_body: 1 (expected: 1KiB to 4GiB)"),
            NO_STORE,
            Instant.now());
    assertThat(ids(r)).containsExactly("GH-CONFIG-INVALID");
    assertThat(r.findings().get(0).severity()).isEqualTo(Severity.HIGH);
    assertThat(r.findings().get(0).evidence()).hasSize(2);
  }
}

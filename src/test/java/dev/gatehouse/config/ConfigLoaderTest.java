package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.gateway.ConfigChecks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

  @Test
  void defaultsAreSafe() throws Exception {
    // why: with no file, no env and no flags, Gatehouse is loopback-only, authenticated, plain HTTP
    GatehouseConfig c = ConfigLoader.load(null, false, Map.of(), Map.of(), ConfigChecks.ALL);
    assertThat(c.listen()).isEqualTo(new HostPort("127.0.0.1", 11435));
    assertThat(c.upstream().toString()).isEqualTo("http://127.0.0.1:11434");
    assertThat(c.authEnabled()).isTrue();
    assertThat(c.tlsEnabled()).isFalse();
    assertThat(c.dataDir()).isEqualTo(Path.of(".gatehouse").toAbsolutePath().normalize());
    assertThat(c.policy().allowedRegistries()).isEmpty();
    assertThat(c.policy().allowCloudModels()).isFalse();
    assertThat(c.limits().maxBody()).isEqualTo(16L << 20);
    assertThat(c.timeouts().upstreamFirstByte()).isEqualTo(Duration.ofSeconds(300));
  }

  @Test
  void fileThenEnvironmentThenFlags() throws Exception {
    // why: each layer overrides the one before, as docs/configuration.md promises
    Path f = Files.createTempFile("gh", ".yaml");
    Files.writeString(
        f,
        "listen: 127.0.0.1:1000\nupstream: http://127.0.0.1:2000\nlimits:\n  max_body: 1MiB\npolicy:\n  allowed_registries: [a.example]\n");
    GatehouseConfig fileOnly = ConfigLoader.load(f, true, Map.of(), Map.of(), ConfigChecks.ALL);
    assertThat(fileOnly.listen().port()).isEqualTo(1000);
    assertThat(fileOnly.limits().maxBody()).isEqualTo(1L << 20);
    assertThat(fileOnly.policy().allowedRegistries()).containsExactly("a.example");

    Map<String, String> env =
        Map.of(
            "GATEHOUSE_LISTEN",
            "127.0.0.1:3000",
            "GATEHOUSE_HOME",
            "/tmp/gh-home",
            "GATEHOUSE_POLICY_ALLOWED_REGISTRIES",
            "b.example, c.example:5000",
            "PATH",
            "/usr/bin");
    GatehouseConfig withEnv = ConfigLoader.load(f, true, env, Map.of(), ConfigChecks.ALL);
    assertThat(withEnv.listen().port()).isEqualTo(3000);
    assertThat(withEnv.dataDir()).isEqualTo(Path.of("/tmp/gh-home"));
    assertThat(withEnv.policy().allowedRegistries()).containsExactly("b.example", "c.example:5000");
    assertThat(withEnv.upstream().getPort()).isEqualTo(2000);

    GatehouseConfig withFlags =
        ConfigLoader.load(f, true, env, Map.of("listen", "127.0.0.1:4000"), ConfigChecks.ALL);
    assertThat(withFlags.listen().port()).isEqualTo(4000);
  }

  @Test
  void aBareOffIsOffWhereOffIsAChoice() throws Exception {
    // why: YAML 1.1 reads an unquoted off as the boolean false; "guard.mode: false (expected: off,
    // ...)"
    // refused what every YAML user writes
    Path f = Files.createTempFile("gh", ".yaml");
    Files.writeString(f, "guard:\n  mode: off\n  secrets: off\n");
    GatehouseConfig c = ConfigLoader.load(f, true, Map.of(), Map.of(), ConfigChecks.ALL);
    assertThat(c.guard().mode()).isEqualTo(GatehouseConfig.GuardMode.OFF);
    Files.writeString(f, "guard:\n  mode: \"off\"\n");
    assertThat(ConfigLoader.load(f, true, Map.of(), Map.of(), ConfigChecks.ALL).guard().mode())
        .isEqualTo(GatehouseConfig.GuardMode.OFF);
    // a boolean where off is not a choice is still refused
    Files.writeString(f, "guard:\n  mode: true\n");
    assertThatThrownBy(() -> ConfigLoader.load(f, true, Map.of(), Map.of(), ConfigChecks.ALL))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("guard.mode: true (expected: off, log or block)");
    Files.writeString(f, "guard:\n  scope: off\n");
    assertThatThrownBy(() -> ConfigLoader.load(f, true, Map.of(), Map.of(), ConfigChecks.ALL))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("guard.scope");
  }

  @Test
  void aNamedFileMustExistButTheDefaultOneNeedNot() throws Exception {
    // why: a typo in --config must not silently fall back to defaults
    assertThat(
            ConfigLoader.load(
                Path.of("/nonexistent/gatehouse.yaml"),
                false,
                Map.of(),
                Map.of(),
                ConfigChecks.ALL))
        .isNotNull();
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    Path.of("/nonexistent/gatehouse.yaml"),
                    true,
                    Map.of(),
                    Map.of(),
                    ConfigChecks.ALL))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "--config: /nonexistent/gatehouse.yaml (expected: an existing, readable YAML file)");
  }

  @Test
  void loopbackIsRecognisedAndWildcardsAreNot() {
    // why: the exposure rule hinges on this distinction
    assertThat(HostPort.parse("127.0.0.1:1").isLoopback()).isTrue();
    assertThat(HostPort.parse("127.8.9.10:1").isLoopback()).isTrue();
    assertThat(HostPort.parse("localhost:1").isLoopback()).isTrue();
    assertThat(HostPort.parse("[::1]:1").isLoopback()).isTrue();
    assertThat(HostPort.parse("0.0.0.0:1").isLoopback()).isFalse();
    assertThat(HostPort.parse("[::]:1").isLoopback()).isFalse();
    assertThat(HostPort.parse("192.168.1.10:1").isLoopback()).isFalse();
    assertThat(HostPort.parse("myhost.lan:1").isLoopback()).isFalse();
    assertThat(HostPort.parse("nope")).isNull();
    assertThat(HostPort.parse("1.2.3.4:65536")).isNull();
  }

  @Test
  void sizesAndDurationsParseTheirDocumentedForms() {
    // why: docs/configuration.md lists these units
    assertThat(Values.size("16MiB")).isEqualTo(16L << 20);
    assertThat(Values.size("1GB")).isEqualTo(1_000_000_000L);
    assertThat(Values.size("512")).isEqualTo(512L);
    assertThat(Values.size("1 potato")).isNull();
    assertThat(Values.duration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Values.duration("30d")).isEqualTo(Duration.ofDays(30));
    assertThat(Values.duration("90")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Values.duration("-1s")).isNull();
  }

  @Test
  void auditRetentionHasBoundedDefaultsAndZeroOrEmptyTurnsALimitOff() throws Exception {
    // why: the log must not grow for ever by default, and an operator must be able to keep
    // everything
    GatehouseConfig.AuditRetention d =
        ConfigLoader.load(null, false, Map.of(), Map.of(), ConfigChecks.ALL).audit().retention();
    assertThat(d)
        .isEqualTo(new GatehouseConfig.AuditRetention(64L << 20, Duration.ofDays(90), 1L << 30));
    GatehouseConfig.AuditRetention off =
        ConfigLoader.load(
                null,
                false,
                Map.of(
                    "GATEHOUSE_AUDIT_RETENTION_MAX_AGE",
                    "0",
                    "GATEHOUSE_AUDIT_RETENTION_MAX_BYTES",
                    ""),
                Map.of(),
                ConfigChecks.ALL)
            .audit()
            .retention();
    assertThat(off.maxAge()).isZero();
    assertThat(off.maxBytes()).isZero();
    Path f = Files.createTempFile("gh", ".yaml");
    Files.writeString(
        f,
        "audit:\n  retention:\n    segment_bytes: 8MiB\n    max_age: 400d\n    max_bytes: 10GiB\n");
    assertThat(ConfigLoader.load(f, true, Map.of(), Map.of(), ConfigChecks.ALL).audit().retention())
        .isEqualTo(new GatehouseConfig.AuditRetention(8L << 20, Duration.ofDays(400), 10L << 30));
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    null,
                    false,
                    Map.of("GATEHOUSE_AUDIT_RETENTION_MAX_BYTES", "1MiB"),
                    Map.of(),
                    ConfigChecks.ALL))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "audit.retention.max_bytes: 1MiB [from GATEHOUSE_AUDIT_RETENTION_MAX_BYTES]"
                + " (expected: 0 (off) or at least audit.retention.segment_bytes)");
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    null,
                    false,
                    Map.of("GATEHOUSE_AUDIT_RETENTION_SEGMENT_BYTES", "0"),
                    Map.of(),
                    ConfigChecks.ALL))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("audit.retention.segment_bytes: 0");
  }

  @Test
  void auditDurabilityDefaultsToWrittenAndResponseStillMeansFsync() throws Exception {
    // why: written is the default (kill -9 safe, no fsync per response); fsync is the opt-in for
    // power loss, and configs written before it keep theirs under its old name, response
    GatehouseConfig.Audit d =
        ConfigLoader.load(null, false, Map.of(), Map.of(), ConfigChecks.ALL).audit();
    assertThat(d.durability()).isEqualTo(GatehouseConfig.AuditDurability.WRITTEN);
    assertThat(d.waitForDurable()).isTrue();
    for (var c :
        Map.of(
                "fsync", GatehouseConfig.AuditDurability.FSYNC,
                "response", GatehouseConfig.AuditDurability.FSYNC,
                "batch", GatehouseConfig.AuditDurability.BATCH,
                "written", GatehouseConfig.AuditDurability.WRITTEN)
            .entrySet()) {
      GatehouseConfig.Audit a =
          ConfigLoader.load(
                  null,
                  false,
                  Map.of("GATEHOUSE_AUDIT_DURABILITY", c.getKey()),
                  Map.of(),
                  ConfigChecks.ALL)
              .audit();
      assertThat(a.durability()).as(c.getKey()).isEqualTo(c.getValue());
      assertThat(a.waitForDurable()).as(c.getKey()).isEqualTo(!c.getKey().equals("batch"));
    }
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    null,
                    false,
                    Map.of("GATEHOUSE_AUDIT_DURABILITY", "sometimes"),
                    Map.of(),
                    ConfigChecks.ALL))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "audit.durability: sometimes [from GATEHOUSE_AUDIT_DURABILITY]"
                + " (expected: written, fsync or batch)");
  }

  @Test
  void theAdminListenerOnThePublicPortIsAProblemEvenWhenItIsTheDefault() {
    // why: the default admin.listen was described from a value nobody gave, which threw instead of
    // reporting
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    null, false, Map.of(), Map.of("listen", "127.0.0.1:11436"), List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "admin.listen: 127.0.0.1:11436 (expected: a port other than the public listener's)");
  }

  @Test
  void aFeaturesCheckReportsWithTheSectionsInReportOrder() {
    // why: features check their own syntax through the list the composition root passes; their
    // problems take their setting's place in the report, not the place the check ran in
    ConfigCheck hours =
        (config, problems) -> problems.invalid("alerts.manage_hours", "office hours");
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    null,
                    false,
                    Map.of(),
                    Map.of("alerts.timezone", "Mars/Olympus", "alerts.webhook", "ftp://x/y"),
                    List.of(hours)))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "alerts.webhook: ftp://x/y [from --alerts.webhook] (expected: an http:// or https:// URL with a host and no user info)",
                        "alerts.manage_hours: Mon-Fri 08:00-18:00 (expected: office hours)",
                        "alerts.timezone: Mars/Olympus [from --alerts.timezone] (expected: a time zone id such as UTC or Europe/Berlin)"));
  }
}

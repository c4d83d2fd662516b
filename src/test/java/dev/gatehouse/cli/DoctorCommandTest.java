package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.FakeLlmServer;
import dev.gatehouse.testing.GatewayFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gatehouse doctor} on this machine's real /proc: a fake Ollama 0.1.33 listening on every
 * interface is critical and exits 1; the same kind of server on loopback behind a running gateway
 * is clean and exits 0. Every run names its ports with --no-default-ports so that other processes
 * on the machine cannot change the outcome.
 */
class DoctorCommandTest {

  static final ObjectMapper JSON = new ObjectMapper();

  private static CliRun doctor(Path home, String... args) {
    return doctorWithData(home, home.resolve("data"), args);
  }

  /** As {@link #doctor}, reading Gatehouse's store (its keys) from {@code data}. */
  private static CliRun doctorWithData(Path home, Path data, String... args) {
    List<String> all =
        new ArrayList<>(
            List.of(
                "doctor",
                "--no-default-ports",
                "--systemd-dir",
                home.resolve("no-units").toString()));
    all.addAll(List.of(args));
    return CliRun.run(Map.of("GATEHOUSE_HOME", data.toString()), all.toArray(String[]::new));
  }

  private static List<JsonNode> findings(JsonNode report, String id) {
    List<JsonNode> out = new ArrayList<>();
    report
        .get("findings")
        .forEach(
            f -> {
              if (f.get("id").asText().equals(id)) {
                out.add(f);
              }
            });
    return out;
  }

  @Test
  void anOpenOllama0133OnEveryInterfaceIsCriticalWithProbllamaAndTheFix(@TempDir Path home)
      throws Exception {
    // why: the headline case; doctor reads the real /proc/net/tcp and sees the wildcard
    // bind
    try (FakeLlmServer ollama =
        FakeLlmServer.start(FakeLlmServer.Kind.OLLAMA, "0.1.33", "0.0.0.0", null, false)) {
      CliRun r = doctor(home, "--port", String.valueOf(ollama.port()), "--json");
      assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
      JsonNode report = JSON.readTree(r.out());
      JsonNode exposed = findings(report, "GH-EXPOSED-WILDCARD").get(0);
      assertThat(exposed.get("severity").asText()).isEqualTo("critical");
      // Netty binds 0.0.0.0 as a dual-stack IPv6 socket on some machines; both are every interface.
      String subject = exposed.get("subject").asText();
      assertThat(subject).matches("ollama 0\\.1\\.33 at (0\\.0\\.0\\.0|\\[::\\]):" + ollama.port());
      assertThat(exposed.get("fix").asText())
          .contains("OLLAMA_HOST=127.0.0.1:" + ollama.port(), "gatehouse serve");
      assertThat(findings(report, "GH-ADVISORY-CVE-2024-37032").get(0).get("severity").asText())
          .isEqualTo("critical");
      assertThat(findings(report, "GH-ADVISORY-CVE-2024-39720")).hasSize(1);
      assertThat(findings(report, "GH-ADVISORY-CVE-2024-45436")).hasSize(1);
      JsonNode manage = findings(report, "GH-UNAUTH-MODELS-MANAGE").get(0);
      assertThat(manage.get("severity").asText()).isEqualTo("critical");
      assertThat(manage.get("evidence").toString()).contains("DELETE /api/pull -> 405");
      assertThat(findings(report, "GH-UNAUTH-INFERENCE")).hasSize(1);
      assertThat(report.get("exit_status").asInt()).isEqualTo(1);
      assertThat(ollama.stateChanges()).as("doctor changed state or ran a model").isEmpty();

      CliRun text = doctor(home, "--port", String.valueOf(ollama.port()));
      assertThat(text.code()).isEqualTo(1);
      assertThat(text.out())
          .contains(
              "CRITICAL GH-EXPOSED-WILDCARD: " + subject,
              "CRITICAL GH-ADVISORY-CVE-2024-37032: " + subject,
              "Probllama",
              "fix:",
              "exit status 1.");
    }
  }

  @Test
  void theSameMachineWithGatehouseInFrontAndTheUpstreamOnLoopbackIsClean(@TempDir Path home)
      throws Exception {
    // why: the setup doctor recommends must pass with the default --fail-on, or nobody can use it
    // in CI
    try (FakeLlmServer ollama =
            FakeLlmServer.start(FakeLlmServer.Kind.OLLAMA, "0.17.1", "127.0.0.1", null, false);
        GatewayFixture gw = GatewayFixture.start(Map.of("upstream", ollama.url()))) {
      gw.keys.create("chat app", Duration.ofDays(30), List.of("llama3*"), List.of());
      Path yaml = home.resolve("gatehouse.yaml");
      Files.writeString(
          yaml,
          "listen: 127.0.0.1:"
              + gw.port()
              + "\nupstream: "
              + ollama.url()
              + "\ndata_dir: "
              + gw.dataDir
              + "\n");
      // The operator's doctor reads the gateway's own store, so it knows which scopes the keys hold
      // (GATEHOUSE_HOME wins over data_dir in the file, as for every setting).
      CliRun r = doctorWithData(home, gw.dataDir, "--config", yaml.toString(), "--json");
      assertThat(r.code()).as(r.out() + r.err()).isZero();
      JsonNode report = JSON.readTree(r.out());
      JsonNode server = null;
      for (JsonNode s : report.get("checked")) {
        if (s.get("name").asText().equals("ollama 0.17.1 at 127.0.0.1:" + ollama.port())) {
          server = s;
        }
      }
      assertThat(server).as(report.get("checked").toString()).isNotNull();
      assertThat(server.get("facts").get("Gatehouse in front").asText())
          .isEqualTo("yes, http://127.0.0.1:" + gw.port());
      assertThat(server.get("facts").get("listens on").asText()).endsWith("(this machine only)");
      assertThat(report.get("checked").toString())
          .contains(
              "gatehouse at 127.0.0.1:" + gw.port(), "every probed endpoint class answered 401");
      assertThat(findings(report, "GH-GATEWAY-BYPASS")).isEmpty();
      assertThat(findings(report, "GH-NO-GATEWAY")).isEmpty();
      assertThat(findings(report, "GH-EXPOSED-WILDCARD")).isEmpty();
      for (JsonNode f : report.get("findings")) {
        assertThat(f.get("severity").asText()).as(f.toString()).isIn("info", "low");
      }
      assertThat(report.get("summary").get("failing").asInt()).isZero();
      assertThat(report.toString()).contains("http://127.0.0.1:11436/metrics");
      assertThat(ollama.stateChanges()).isEmpty();
    }
  }

  @Test
  void anUpstreamThatListensOnEveryInterfaceCanBeReachedAroundGatehouse(@TempDir Path home)
      throws Exception {
    // why: Gatehouse in front is worth nothing if clients can connect to the model server directly
    try (FakeLlmServer ollama =
            FakeLlmServer.start(FakeLlmServer.Kind.OLLAMA, "0.17.1", "0.0.0.0", null, false);
        GatewayFixture gw = GatewayFixture.start(Map.of("upstream", ollama.url()))) {
      Path yaml = home.resolve("gatehouse.yaml");
      Files.writeString(
          yaml,
          "listen: 127.0.0.1:"
              + gw.port()
              + "\nupstream: "
              + ollama.url()
              + "\ndata_dir: "
              + gw.dataDir
              + "\n");
      CliRun r = doctor(home, "--config", yaml.toString(), "--json");
      assertThat(r.code()).isEqualTo(1);
      JsonNode bypass = findings(JSON.readTree(r.out()), "GH-GATEWAY-BYPASS").get(0);
      assertThat(bypass.get("severity").asText()).isEqualTo("critical");
      assertThat(bypass.get("fix").asText()).contains("OLLAMA_HOST=127.0.0.1:" + ollama.port());
    }
  }

  @Test
  void failOnDecidesTheExitStatus(@TempDir Path home) throws Exception {
    // why: CI pipelines choose their own threshold; low findings pass by default and fail at
    // --fail-on low
    try (FakeLlmServer ollama =
        FakeLlmServer.start(FakeLlmServer.Kind.OLLAMA, "0.17.1", "127.0.0.1", null, false)) {
      String port = String.valueOf(ollama.port());
      assertThat(doctor(home, "--port", port).code()).isZero();
      CliRun low = doctor(home, "--port", port, "--fail-on", "low");
      assertThat(low.code()).isEqualTo(1);
      assertThat(low.out())
          .contains(
              "LOW GH-NO-GATEWAY: ollama 0.17.1 at 127.0.0.1:" + port,
              "(--fail-on low): exit status 1.");
    }
  }

  @Test
  void anInvalidConfigIsAFindingButAMissingOneOrBadOptionsAreErrors(@TempDir Path home)
      throws Exception {
    // why: doctor is most needed when the config is broken, so a broken config must not stop the
    // audit
    Path yaml = home.resolve("broken.yaml");
    Files.writeString(yaml, "listen: 0.0.0.0:99999\ntimeouts:\n  keepalive: soon\n");
    CliRun r = doctor(home, "--config", yaml.toString(), "--json");
    assertThat(r.code()).isEqualTo(1);
    JsonNode invalid = findings(JSON.readTree(r.out()), "GH-CONFIG-INVALID").get(0);
    assertThat(invalid.get("evidence").toString())
        .contains("listen: 0.0.0.0:99999", "timeouts.keepalive: soon");

    CliRun missing = doctor(home, "--config", home.resolve("nope.yaml").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err())
        .contains("--config: ")
        .contains("(expected: an existing, readable YAML file)");
    assertThat(doctor(home, "--fail-on", "severe").err())
        .contains("--fail-on: severe (expected: info, low, medium, high or critical)");
    assertThat(doctor(home, "--json", "--sarif").code()).isEqualTo(2);
    assertThat(doctor(home, "--advisories", home.resolve("none.json").toString()).code())
        .isEqualTo(2);
    assertThat(doctor(home, "--port", "70000").code()).isEqualTo(2);
  }

  @Test
  void sarifOutputIsValidSarif210(@TempDir Path home) throws Exception {
    // why: code-scanning dashboards reject anything but the exact version and shape
    try (FakeLlmServer ollama =
        FakeLlmServer.start(FakeLlmServer.Kind.OLLAMA, "0.1.33", "0.0.0.0", null, false)) {
      CliRun r = doctor(home, "--port", String.valueOf(ollama.port()), "--sarif");
      assertThat(r.code()).isEqualTo(1);
      JsonNode sarif = JSON.readTree(r.out());
      assertThat(sarif.get("version").asText()).isEqualTo("2.1.0");
      assertThat(sarif.get("$schema").asText()).contains("sarif-2.1.0");
      JsonNode run = sarif.get("runs").get(0);
      assertThat(run.get("tool").get("driver").get("name").asText()).isEqualTo("gatehouse");
      for (JsonNode result : run.get("results")) {
        int index = result.get("ruleIndex").asInt();
        assertThat(run.get("tool").get("driver").get("rules").get(index).get("id").asText())
            .isEqualTo(result.get("ruleId").asText());
        assertThat(result.get("level").asText()).isIn("error", "warning", "note");
        assertThat(result.get("message").get("text").asText()).isNotBlank();
      }
    }
  }

  @Test
  void aGatehouseWithAuthenticationOffIsStillRecognisedAsGatehouse(@TempDir Path home)
      throws Exception {
    // why: with auth off it relays GET / and would otherwise pass for the Ollama behind it
    try (FakeLlmServer ollama =
            FakeLlmServer.start(FakeLlmServer.Kind.OLLAMA, "0.17.1", "127.0.0.1", null, false);
        GatewayFixture gw =
            GatewayFixture.start(Map.of("upstream", ollama.url(), "auth.enabled", "false"))) {
      Path yaml = home.resolve("gatehouse.yaml");
      Files.writeString(
          yaml,
          "listen: 127.0.0.1:"
              + gw.port()
              + "\nupstream: "
              + ollama.url()
              + "\nauth:\n  enabled: false\ndata_dir: "
              + gw.dataDir
              + "\n");
      CliRun r = doctor(home, "--config", yaml.toString(), "--json");
      JsonNode report = JSON.readTree(r.out());
      assertThat(report.get("checked").toString())
          .contains("gatehouse at 127.0.0.1:" + gw.port(), "auth.enabled is false")
          .doesNotContain("ollama 0.17.1 at 127.0.0.1:" + gw.port());
      assertThat(findings(report, "GH-CONFIG-AUTH-DISABLED")).hasSize(1);
      assertThat(r.code())
          .as("auth off on loopback is medium: below the default --fail-on")
          .isZero();
    }
  }
}

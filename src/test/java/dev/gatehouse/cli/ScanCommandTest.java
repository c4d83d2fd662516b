package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.FakeLlmServer;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.tls.SelfSigned;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gatehouse scan} against a real TLS gateway and against fake model servers. */
class ScanCommandTest {

  static final ObjectMapper JSON = new ObjectMapper();

  private static CliRun scan(String... args) {
    List<String> all = new ArrayList<>(List.of("scan", "--rate", "10ms"));
    all.addAll(List.of(args));
    return CliRun.run(Map.of(), all.toArray(String[]::new));
  }

  private static List<String> ids(JsonNode report) {
    List<String> out = new ArrayList<>();
    report.get("findings").forEach(f -> out.add(f.get("id").asText()));
    return out;
  }

  @Test
  void aGatehouseWithTlsAndKeysProtectsEveryEndpointClassAndLeaksNothing(@TempDir Path dir)
      throws Exception {
    // why: what the issue promises an operator who put Gatehouse in front
    SelfSigned.write(
        List.of("localhost", "127.0.0.1"),
        Duration.ofDays(90),
        dir.resolve("cert.pem"),
        dir.resolve("key.pem"));
    try (FakeLlmServer ollama = FakeLlmServer.ollama("0.1.33");
        GatewayFixture gw =
            GatewayFixture.start(
                Map.of(
                    "upstream",
                    ollama.url(),
                    "tls.cert",
                    dir.resolve("cert.pem").toString(),
                    "tls.key",
                    dir.resolve("key.pem").toString()))) {
      gw.newKey();
      CliRun r = scan(gw.baseUrl(), "--json");
      assertThat(r.code()).as(r.out() + r.err()).isZero();
      JsonNode report = JSON.readTree(r.out());
      JsonNode facts = report.get("checked").get(0).get("facts");
      assertThat(facts.get("answered by").asText()).startsWith("gatehouse");
      assertThat(facts.get("APIs").asText()).isEqualTo("not visible without credentials");
      assertThat(facts.get("tls").asText()).startsWith("TLSv1.3");
      assertThat(facts.get("open without credentials").asText()).isEqualTo("none");
      assertThat(facts.get("credentials required").asText())
          .isEqualTo(
              "inference, embeddings, models.read, models.inspect, models.manage, account, cloud");
      assertThat(ids(report))
          .noneMatch(
              id ->
                  id.startsWith("GH-LEAK-")
                      || id.startsWith("GH-UNAUTH-")
                      || id.startsWith("GH-ADVISORY-"));
      assertThat(ids(report))
          .contains("GH-TLS-CERT-SELF-SIGNED")
          .doesNotContain("GH-TLS-CERT-HOSTNAME", "GH-TLS-CERT-EXPIRING");
      assertThat(ollama.requests()).as("nothing got past the gateway without a key").isEmpty();
    }
  }

  @Test
  void anOpenOllamaShowsItsBannerVersionErrorsAndOpenManagement() throws Exception {
    // why: the fingerprints scanners in the wild use, and the dangerous endpoints they look for
    try (FakeLlmServer ollama =
        FakeLlmServer.start(FakeLlmServer.Kind.OLLAMA, "0.1.33", "127.0.0.1", null, true)) {
      CliRun r = scan(ollama.url(), "--json");
      assertThat(r.code()).isEqualTo(1);
      JsonNode report = JSON.readTree(r.out());
      assertThat(ids(report))
          .contains(
              "GH-LEAK-BANNER",
              "GH-LEAK-VERSION",
              "GH-LEAK-ERROR-QUIRK",
              "GH-UNAUTH-MODELS-MANAGE",
              "GH-UNAUTH-INFERENCE",
              "GH-ADVISORY-CVE-2024-37032",
              "GH-CORS-WILDCARD",
              "GH-NO-RATE-LIMIT");
      // loopback is not "the network": no complaint about plain HTTP here
      assertThat(ids(report)).doesNotContain("GH-TLS-NONE");
      assertThat(report.get("checked").get(0).get("facts").get("answered by").asText())
          .isEqualTo("ollama 0.1.33");
      assertThat(report.get("checked").get(0).get("facts").get("APIs").asText())
          .isEqualTo("Ollama native (/api/*), OpenAI-compatible (/v1/*)");
      assertThat(ollama.requests()).hasSizeLessThanOrEqualTo(40);
      assertThat(ollama.stateChanges()).isEmpty();
    }
  }

  @Test
  void aShortCertificateAndTheWrongNameAreReported(@TempDir Path dir) throws Exception {
    // why: an expiring or misnamed certificate breaks every client on the day it matters
    try (GatewayFixture gw =
        GatewayFixture.start(
            GatewayFixture.selfSignedTls(dir, List.of("gpu-box.lan"), Duration.ofDays(5)))) {
      CliRun r = scan(gw.baseUrl(), "--json");
      assertThat(r.code()).isEqualTo(1);
      JsonNode report = JSON.readTree(r.out());
      assertThat(ids(report)).contains("GH-TLS-CERT-EXPIRING", "GH-TLS-CERT-HOSTNAME");
      for (JsonNode f : report.get("findings")) {
        if (f.get("id").asText().equals("GH-TLS-CERT-EXPIRING")) {
          assertThat(f.get("severity").asText()).isEqualTo("medium");
          assertThat(f.get("evidence").toString()).contains("expires in 4 days");
        }
      }
    }
  }

  @Test
  void severalTargetsShowProgressAndAnUnreachableOneIsAnError() throws Exception {
    // why: a long scan must say where it is; a URL that could not be scanned must not pass as clean
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    try (FakeLlmServer vllm =
        FakeLlmServer.start(FakeLlmServer.Kind.VLLM, "0.6.3", "127.0.0.1", "sk-test", false)) {
      CliRun r = scan(vllm.url(), "http://127.0.0.1:" + closed, "--timeout", "2s");
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.err())
          .contains(
              "[1/2] scanning " + vllm.url(),
              "[2/2] scanning http://127.0.0.1:" + closed,
              "not scanned");
      assertThat(r.out())
          .contains(
              "GH-SCAN-UNREACHABLE",
              "Errors",
              "vllm 0.6.3",
              "GH-UNAUTH-MODELS-INSPECT",
              "GH-LEAK-VERSION");
      CliRun one = scan(vllm.url());
      assertThat(one.err()).doesNotContain("[1/1]");
    }
  }

  @Test
  void theRequestBudgetHoldsAndBadOptionsAreUsageErrors() throws Exception {
    // why: the operator must be able to bound what a scan costs the target
    try (FakeLlmServer ollama = FakeLlmServer.ollama("0.6.8")) {
      CliRun r = scan(ollama.url(), "--max-requests", "7");
      assertThat(ollama.requests()).hasSize(7);
      assertThat(r.out()).contains("the budget of 7 requests ran out");
    }
    assertThat(scan("http://127.0.0.1:1", "--max-requests", "41").code()).isEqualTo(2);
    assertThat(scan("http://127.0.0.1:1", "--rate", "1ms").code()).isEqualTo(2);
    CliRun bad = scan("ftp://example.com");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("URL: ftp://example.com (expected: an http:// or https:// URL");
    assertThat(Files.exists(Path.of("gatehouse.yaml"))).as("scan needs no config").isFalse();
  }
}

package dev.gatehouse.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.doctor.Advisories;
import dev.gatehouse.doctor.Finding;
import dev.gatehouse.doctor.JdkHttpProbe;
import dev.gatehouse.doctor.Rule;
import dev.gatehouse.doctor.Severity;
import dev.gatehouse.testing.FakeLlmServer;
import dev.gatehouse.testing.FakeLlmServer.Kind;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The whole path from a server's answer to an advisory finding: a fake of each product reports a
 * version the way the real one does (Ollama's /api/version, llama.cpp's /props build_info, vLLM's
 * and LocalAI's /version), the scan identifies it, reads the version in that product's scheme and
 * matches the built-in advisories. For each advisory, one version just before the fix (a finding)
 * and the fix itself (none).
 */
class AdvisoryMatchingTest {

  static JdkHttpProbe http;
  static Advisories db;

  @BeforeAll
  static void setUp() {
    http = new JdkHttpProbe(Duration.ofSeconds(5), "gatehouse-test");
    db = Advisories.builtIn();
  }

  @AfterAll
  static void tearDown() {
    http.close();
  }

  static List<Finding> scan(Kind kind, String version) {
    try (FakeLlmServer server = FakeLlmServer.start(kind, version, "127.0.0.1", null, false)) {
      Scanner scanner =
          new Scanner(
              http,
              db,
              Clock.systemUTC(),
              new Scanner.Options(40, Duration.ZERO, Duration.ofSeconds(5)));
      Scanner.Result r = scanner.scan(ScanTarget.parse(server.url()));
      assertThat(r.error()).isNull();
      assertThat(server.stateChanges()).as("the scan changed state or ran a model").isEmpty();
      return r.findings();
    }
  }

  @ParameterizedTest(name = "{0} {1}: {2} reported={3}")
  @CsvSource(
      delimiter = '|',
      value = {
        // why: Probllama, the fix release itself is clean
        "OLLAMA    | 0.1.33       | CVE-2024-37032  | true",
        "OLLAMA    | 0.1.34       | CVE-2024-37032  | false",
        // why: a range with a lower bound: 0.34.1 predates the bug, 0.34.2 has it, 0.35.0 fixes it
        "OLLAMA    | 0.34.1       | CVE-2026-103663 | false",
        "OLLAMA    | 0.34.2       | CVE-2026-103663 | true",
        "OLLAMA    | 0.35.0       | CVE-2026-103663 | false",
        // why: Bleeding Llama
        "OLLAMA    | 0.17.0       | CVE-2026-7482   | true",
        "OLLAMA    | 0.17.1       | CVE-2026-7482   | false",
        // why: a range from a pre-release (0.11.5-rc0) to last_affected 0.13.5 inclusive
        "OLLAMA    | 0.11.4       | CVE-2025-15514  | false",
        "OLLAMA    | 0.11.5-rc1   | CVE-2025-15514  | true",
        "OLLAMA    | 0.13.5       | CVE-2025-15514  | true",
        "OLLAMA    | 0.13.6       | CVE-2025-15514  | false",
        // why: the fix was named by commit; b8908 is the first build containing it, a recent build
        // is clean
        "LLAMA_CPP | b8907        | CVE-2026-21869  | true",
        "LLAMA_CPP | b8908        | CVE-2026-21869  | false",
        "LLAMA_CPP | b12800       | CVE-2026-21869  | false",
        // why: introduced b8227, fixed b11393
        "LLAMA_CPP | b8226        | CVE-2026-107183 | false",
        "LLAMA_CPP | b11392       | CVE-2026-107183 | true",
        "LLAMA_CPP | b11393       | CVE-2026-107183 | false",
        "LLAMA_CPP | b5720        | CVE-2025-52566  | true",
        "LLAMA_CPP | b5721        | CVE-2025-52566  | false",
        // why: llama.cpp's semantic tags are their own scheme: 0.7.0-dev is affected, 0.7.1 is not,
        // and no build range applies
        "LLAMA_CPP | v0.7.0-dev   | CVE-2026-134540 | true",
        "LLAMA_CPP | v0.7.1       | CVE-2026-134540 | false",
        "LLAMA_CPP | v0.7.0-dev   | CVE-2026-21869  | false",
        // why: .postN counts: post1 is before the fix in post2
        "VLLM      | 0.5.0.post1  | CVE-2024-8939   | true",
        "VLLM      | 0.5.0.post2  | CVE-2024-8939   | false",
        // why: the --api-key bypass, from 0.3.0 to 0.22.0; a CUDA local build of the fix is fixed
        "VLLM      | 0.21.1+cu128 | CVE-2026-48746  | true",
        "VLLM      | 0.22.0+cu128 | CVE-2026-48746  | false",
        "VLLM      | 0.2.7        | CVE-2026-48746  | false",
        // why: a release candidate of the fix is still affected
        "VLLM      | 0.14.1rc1    | CVE-2026-22778  | true",
        "VLLM      | 0.14.1       | CVE-2026-22778  | false",
        // why: four-part versions
        "VLLM      | 0.10.1       | CVE-2025-48956  | true",
        "VLLM      | 0.10.1.1     | CVE-2025-48956  | false",
        // why: LocalAI's v prefix and "(commit)" suffix
        "LOCALAI   | v2.9.0       | CVE-2024-2029   | true",
        "LOCALAI   | v2.10.0      | CVE-2024-2029   | false",
        "LOCALAI   | v4.5.2       | CVE-2026-59707  | true",
        "LOCALAI   | v4.6.0       | CVE-2026-59707  | false",
        "LOCALAI   | v2.18.0      | CVE-2024-6868   | true",
        "LOCALAI   | v2.18.1      | CVE-2024-6868   | false",
      })
  void aFindingBeforeTheFixAndNoneAfter(
      Kind kind, String version, String advisory, boolean reported) {
    List<Finding> findings = scan(kind, version);
    assertThat(findings.stream().map(Finding::id))
        .as(kind + " " + version)
        .filteredOn(id -> id.equals(Rule.ADVISORY_PREFIX + advisory))
        .hasSize(reported ? 1 : 0);
  }

  @Test
  void anUnreadableLlamaCppBuildGetsAnUnknownVersionNoteNotCriticalAdvisories() {
    List<Finding> findings = scan(Kind.LLAMA_CPP, "unknown");
    assertThat(findings)
        .filteredOn(
            f -> f.id().startsWith(Rule.ADVISORY_PREFIX) && f.severity().atLeast(Severity.HIGH))
        .isEmpty();
    assertThat(findings).filteredOn(f -> f.id().equals("GH-ADVISORY-CVE-2026-21869")).isEmpty();
    Finding note =
        findings.stream()
            .filter(f -> f.id().equals(Rule.VERSION_UNKNOWN.id()))
            .findFirst()
            .orElseThrow();
    assertThat(note.title()).startsWith("unknown version");
    assertThat(note.evidence())
        .anyMatch(e -> e.contains("cannot be read"))
        .anyMatch(e -> e.contains("CVE-2026-21869"));
    assertThat(note.severity()).isEqualTo(Severity.INFO);
  }

  @Test
  void lmStudioSaysPlainlyThatItsVersionCannotBeKnown() {
    List<Finding> findings = scan(Kind.LM_STUDIO, "0.4.22");
    // its one advisory needs a downloaded repository, not the API: nothing to judge over the
    // network
    assertThat(findings).filteredOn(f -> f.id().startsWith(Rule.ADVISORY_PREFIX)).isEmpty();
    assertThat(findings).filteredOn(f -> f.id().equals(Rule.VERSION_UNKNOWN.id())).isEmpty();
    assertThat(
            dev.gatehouse.doctor.ServerCheck.versionUnknown(
                    dev.gatehouse.doctor.Product.LM_STUDIO,
                    null,
                    null,
                    db.forProduct("lmstudio"),
                    "lm-studio",
                    null)
                .evidence()
                .get(0))
        .contains("does not report its version over its API");
  }
}

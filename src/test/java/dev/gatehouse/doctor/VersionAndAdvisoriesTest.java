package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.authorize.Operation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Version ordering and advisory matching: what decides which CVEs a server is reported for. */
class VersionAndAdvisoriesTest {

  @ParameterizedTest(name = "{0} < {1}")
  @CsvSource({
    // why: the last component is numeric, not text ("33" < "34")
    "0.1.33, 0.1.34",
    // why: 0.12.3 is newer than 0.1.34 although "0.12" < "0.1." as text
    "0.1.34, 0.12.3",
    // why: a release candidate comes before its release
    "0.6.8-rc1, 0.6.8",
    // why: rc2 before rc10, by number
    "0.6.8-rc2, 0.6.8-rc10",
    // why: vLLM post-releases come after their release
    "0.6.3, 0.6.3.post1",
    // why: LocalAI's v prefix and llama.cpp's b prefix are not part of the number
    "v2.9.0, v2.10.0",
    "b4500, b4501",
  })
  void versionsOrder(String lower, String higher) {
    assertThat(Version.parse(lower)).isLessThan(Version.parse(higher));
    assertThat(Version.parse(higher)).isGreaterThan(Version.parse(lower));
  }

  @Test
  void missingPartsAreZeroAndGarbageIsNoVersion() {
    assertThat(Version.parse("0.2").compareTo(Version.parse("0.2.0"))).isZero();
    assertThat(Version.parse("v2.20.1 (a1b2c3)").compareTo(Version.parse("2.20.1"))).isZero();
    assertThat(Version.parse("latest")).isNull();
    assertThat(Version.parse("")).isNull();
  }

  @Test
  void builtInDatabaseLoadsAndProbllamaAffectsExactlyTheReleasesBeforeTheFix() {
    Advisories db = Advisories.builtIn();
    assertThat(db.all()).hasSizeGreaterThan(20);
    assertThat(ids(db.affecting("ollama", Version.parse("0.1.33")))).contains("CVE-2024-37032", "CVE-2025-44779", "CVE-2024-39720");
    assertThat(ids(db.affecting("ollama", Version.parse("0.1.34")))).doesNotContain("CVE-2024-37032").contains("CVE-2024-39720");
    // affected_through is inclusive
    assertThat(ids(db.affecting("ollama", Version.parse("0.3.14")))).contains("CVE-2024-39719");
    assertThat(ids(db.affecting("ollama", Version.parse("0.3.15")))).doesNotContain("CVE-2024-39719");
    // fixed: null and no range: every release, even an unknown one
    assertThat(ids(db.affecting("ollama", null))).contains("CVE-2025-63389").doesNotContain("CVE-2024-37032");
    // affected_from bounds the range from below
    assertThat(ids(db.affecting("vllm", Version.parse("0.8.2")))).doesNotContain("CVE-2026-22778");
    assertThat(ids(db.affecting("vllm", Version.parse("0.8.3")))).contains("CVE-2026-22778");
    assertThat(ids(db.affecting("vllm", Version.parse("0.14.1")))).doesNotContain("CVE-2026-22778");
    // a pre-release of the fixed version is still affected
    assertThat(ids(db.affecting("ollama", Version.parse("0.1.34-rc1")))).contains("CVE-2024-37032");
  }

  @Test
  void advisoryEndpointsMapToTheScopesTheGatewayEnforces() {
    Advisories db = Advisories.builtIn();
    Advisory probllama = db.all().stream().filter(a -> a.id().equals("CVE-2024-37032")).findFirst().orElseThrow();
    assertThat(probllama.operations()).containsExactly(Operation.MODELS_MANAGE);
    Advisory blobs = db.all().stream().filter(a -> a.id().equals("CVE-2025-0315")).findFirst().orElseThrow();
    assertThat(blobs.operations()).containsExactly(Operation.MODELS_MANAGE);
    Advisory everything = db.all().stream().filter(a -> a.id().equals("CNVD-2025-04094")).findFirst().orElseThrow();
    assertThat(everything.operations()).isEqualTo(Set.of(Operation.values()));
  }

  @Test
  void anOverrideFileReplacesTheBuiltInAndAMalformedOneIsRefusedWhole(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("advisories.json");
    Files.writeString(file, "{\"advisories\":[{\"id\":\"CVE-2099-0001\",\"product\":\"ollama\",\"fixed\":\"9.0.0\","
        + "\"endpoints\":[\"/api/chat\"],\"severity\":\"high\",\"summary\":\"future bug\"}]}", StandardCharsets.UTF_8);
    Advisories db = Advisories.load(file);
    assertThat(ids(db.affecting("ollama", Version.parse("0.20.0")))).containsExactly("CVE-2099-0001");
    Files.writeString(file, "{\"advisories\":[{\"id\":\"CVE-2099-0001\",\"product\":\"ollama\",\"fixed\":\"soon\",\"severity\":\"bad\"}]}");
    assertThatThrownBy(() -> Advisories.load(file)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--advisories: ");
    assertThatThrownBy(() -> Advisories.load(dir.resolve("missing.json"))).hasMessageStartingWith("--advisories: ");
  }

  @Test
  void anAdvisoryKeepsItsSeverityOnlyWhenItsEndpointsAreOpenToOtherMachines() {
    Advisories db = Advisories.builtIn();
    Version v = Version.parse("0.1.33");
    AdvisoryCheck.Exposure open = new AdvisoryCheck.Exposure(true, Set.of(Operation.MODELS_MANAGE), false, "");
    AdvisoryCheck.Exposure local = new AdvisoryCheck.Exposure(false, Set.of(Operation.MODELS_MANAGE), false, "it listens on loopback only");
    AdvisoryCheck.Exposure guarded = new AdvisoryCheck.Exposure(false, Set.of(Operation.MODELS_MANAGE), true, "behind Gatehouse");
    assertThat(severity(db, v, open, "CVE-2024-37032")).isEqualTo(Severity.CRITICAL);
    assertThat(severity(db, v, local, "CVE-2024-37032")).isEqualTo(Severity.MEDIUM);
    // a fix exists: upgrading is still worth a medium even behind Gatehouse
    assertThat(severity(db, v, guarded, "CVE-2024-37032")).isEqualTo(Severity.MEDIUM);
    // no fix exists and Gatehouse is in front: nothing more to do
    assertThat(severity(db, v, guarded, "CVE-2025-63389")).isEqualTo(Severity.LOW);
    // reachable, but the endpoints it needs ask for credentials
    AdvisoryCheck.Exposure locked = new AdvisoryCheck.Exposure(true, Set.of(), false, "");
    assertThat(severity(db, v, locked, "CVE-2024-37032")).isEqualTo(Severity.MEDIUM);
  }

  private static Severity severity(Advisories db, Version v, AdvisoryCheck.Exposure e, String id) {
    return AdvisoryCheck.findings(db, "ollama", v, e, "s", null).stream()
        .filter(f -> f.id().equals(Rule.ADVISORY_PREFIX + id)).findFirst().orElseThrow().severity();
  }

  private static List<String> ids(List<Advisory> list) {
    return list.stream().map(Advisory::id).toList();
  }
}

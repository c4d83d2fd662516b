package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.doctor.Version.Scheme;
import dev.gatehouse.exchange.Operation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Version ordering per scheme and advisory matching: what decides which CVEs a server is reported
 * for.
 */
class VersionAndAdvisoriesTest {

  @ParameterizedTest(name = "{0}: {1} < {2}")
  @CsvSource({
    // why: the last component is numeric, not text ("33" < "34")
    "SEMVER, 0.1.33, 0.1.34",
    // why: 0.12.3 is newer than 0.1.34 although "0.12" < "0.1." as text
    "SEMVER, 0.1.34, 0.12.3",
    // why: a release candidate comes before its release (Ollama ships -rcN)
    "SEMVER, 0.6.8-rc1, 0.6.8",
    // why: numeric pre-release identifiers compare as numbers: rc2 < rc10 only when split (SemVer
    // compares rc2 and rc10 as text)
    "SEMVER, 0.6.8-rc.2, 0.6.8-rc.10",
    // why: SemVer 11.4.3: numeric identifiers sort before alphanumeric ones
    "SEMVER, 0.11.5-0, 0.11.5-rc0",
    // why: a longer set of pre-release fields is newer when the shared ones are equal
    "SEMVER, 0.4.0-ci, 0.4.0-ci.1",
    // why: LocalAI's v prefix is not part of the number
    "SEMVER, v2.9.0, v2.10.0",
    // why: llama.cpp's semantic tags: a -dev pre-release before its release
    "SEMVER, 0.7.0-dev, 0.7.0",
    // why: vLLM post-releases come after their release, and after each other by number
    "PEP440, 0.5.0.post1, 0.5.0.post2",
    "PEP440, 0.6.3, 0.6.3.post1",
    // why: a dev release comes before every pre-release of the same version
    "PEP440, 0.6.3.dev5, 0.6.3a1",
    "PEP440, 0.6.3rc1, 0.6.3",
    "PEP440, 0.6.3a2, 0.6.3b1",
    "PEP440, 0.6.3b1, 0.6.3rc1",
    // why: the dev release of a post-release sorts before that post-release
    "PEP440, 0.6.3.post1.dev1, 0.6.3.post1",
    // why: a local build (+cu121) of a version is that version plus a label: after it, before the
    // next post
    "PEP440, 0.6.3, 0.6.3+cu121",
    "PEP440, 0.6.3+cu121, 0.6.3.post1",
    // why: vLLM's four-part versions
    "PEP440, 0.10.1, 0.10.1.1",
    "PEP440, 0.5.2.2, 0.5.2.3",
    // why: an epoch outranks every release number
    "PEP440, 9.9.9, 1!0.1",
    // why: llama.cpp builds are integers, not text
    "LLAMA_BUILD, b999, b4500",
    "LLAMA_BUILD, b8895, b8896",
    // why: LM Studio's +N is a build and counts
    "LMSTUDIO, 0.4.22, 0.4.22+1",
    "LMSTUDIO, 0.4.22+1, 0.4.23",
  })
  void versionsOrder(Scheme scheme, String lower, String higher) {
    Version a = Version.parse(scheme, lower);
    Version b = Version.parse(scheme, higher);
    assertThat(a).as(lower).isNotNull();
    assertThat(b).as(higher).isNotNull();
    assertThat(a).isLessThan(b);
    assertThat(b).isGreaterThan(a);
  }

  @ParameterizedTest(name = "{0}: {1} == {2}")
  @CsvSource({
    // why: missing trailing parts are zeros
    "SEMVER, 0.2, 0.2.0",
    // why: build metadata does not count in SemVer
    "SEMVER, 1.0.0+build.7, 1.0.0",
    // why: PEP 440 spellings normalise: alpha = a, c = rc, -1 is post 1
    "PEP440, 1.0alpha1, 1.0a1",
    "PEP440, 1.0c1, 1.0rc1",
    "PEP440, 1.0-1, 1.0.post1",
    "PEP440, V1.0, 1.0",
  })
  void versionsAreEqual(Scheme scheme, String a, String b) {
    assertThat(Version.parse(scheme, a).compareTo(Version.parse(scheme, b))).isZero();
  }

  @Test
  void garbageIsNoVersionAndSchemesNeverMix() {
    assertThat(Version.parse(Scheme.SEMVER, "latest")).isNull();
    assertThat(Version.parse(Scheme.SEMVER, "")).isNull();
    assertThat(Version.parse(Scheme.LLAMA_BUILD, "0.7.0")).isNull();
    assertThat(Version.parse(Scheme.LLAMA_BUILD, "b12x")).isNull();
    assertThat(Version.parse(Scheme.PEP440, "0.6.3-weird-thing")).isNull();
    Version build = Version.parse(Scheme.LLAMA_BUILD, "b12405");
    Version tag = Version.parse(Scheme.SEMVER, "0.7.0");
    assertThatThrownBy(() -> build.compareTo(tag)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void cvssBaseScoresMatchTheSpecification() {
    // why: scores published by NVD/FIRST for these vectors; the Roundup and scope-change branches
    // differ
    assertThat(Cvss31.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")).isEqualTo(9.8);
    assertThat(Cvss31.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H")).isEqualTo(8.8);
    assertThat(Cvss31.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N")).isEqualTo(9.1);
    assertThat(Cvss31.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")).isEqualTo(7.5);
    assertThat(Cvss31.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")).isEqualTo(10.0);
    assertThat(Cvss31.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N")).isEqualTo(6.1);
    assertThat(Cvss31.baseScore("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H")).isEqualTo(7.8);
    assertThat(Cvss31.baseScore("CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N")).isEqualTo(3.1);
    assertThat(Cvss31.baseScore("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N")).isEqualTo(0.0);
    // why: temporal metrics may follow the base ones
    assertThat(Cvss31.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P")).isEqualTo(9.8);
    assertThat(Cvss31.rating(8.8)).isEqualTo(Severity.HIGH);
    assertThat(Cvss31.rating(9.0)).isEqualTo(Severity.CRITICAL);
    assertThatThrownBy(() -> Cvss31.baseScore("CVSS:3.1/AV:N/AC:L"))
        .hasMessageContaining("PR is missing");
    assertThatThrownBy(() -> Cvss31.baseScore("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"))
        .hasMessageContaining("AV");
    assertThatThrownBy(() -> Cvss31.baseScore("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"))
        .hasMessageContaining("CVSS:3.1/");
  }

  @Test
  void builtInDatabaseLoadsAndRangesAreExact() {
    Advisories db = Advisories.builtIn();
    assertThat(db.all()).hasSizeGreaterThan(140);
    assertThat(ids(db.affecting("ollama", semver("0.1.33"))))
        .contains("CVE-2024-37032", "CVE-2025-44779", "CVE-2024-39720");
    assertThat(ids(db.affecting("ollama", semver("0.1.34"))))
        .doesNotContain("CVE-2024-37032")
        .contains("CVE-2024-39720");
    // a pre-release of the fixed version is still affected
    assertThat(ids(db.affecting("ollama", semver("0.1.34-rc1")))).contains("CVE-2024-37032");
    // last_affected is inclusive
    assertThat(ids(db.affecting("ollama", semver("0.12.10")))).contains("CVE-2025-66959");
    assertThat(ids(db.affecting("ollama", semver("0.12.11")))).doesNotContain("CVE-2025-66959");
    // introduced bounds the range from below, fixed from above
    assertThat(ids(db.affecting("ollama", semver("0.34.1")))).doesNotContain("CVE-2026-103663");
    assertThat(ids(db.affecting("ollama", semver("0.34.2")))).contains("CVE-2026-103663");
    assertThat(ids(db.affecting("ollama", semver("0.35.0")))).doesNotContain("CVE-2026-103663");
    // no fixed release and no bounds: every release, even an unknown one
    assertThat(ids(db.affecting("ollama", null)))
        .contains("CVE-2025-63389", "CVE-2024-12055")
        .doesNotContain("CVE-2024-37032");
    // CVE-2024-12055 is no longer cut off at 0.3.14; CVE-2025-51471 claims no fix
    assertThat(ids(db.affecting("ollama", semver("0.20.0"))))
        .contains("CVE-2024-12055", "CVE-2025-51471");
    // vLLM: .postN counts
    assertThat(ids(db.affecting("vllm", pep("0.5.0.post1")))).contains("CVE-2024-8939");
    assertThat(ids(db.affecting("vllm", pep("0.5.0.post2")))).doesNotContain("CVE-2024-8939");
    assertThat(ids(db.affecting("vllm", pep("0.8.2")))).doesNotContain("CVE-2026-22778");
    assertThat(ids(db.affecting("vllm", pep("0.8.3")))).contains("CVE-2026-22778");
    assertThat(ids(db.affecting("vllm", pep("0.14.1rc1")))).contains("CVE-2026-22778");
    assertThat(ids(db.affecting("vllm", pep("0.14.1")))).doesNotContain("CVE-2026-22778");
    assertThat(ids(db.affecting("vllm", pep("0.21.2+cu128")))).contains("CVE-2026-48746");
    assertThat(ids(db.affecting("vllm", pep("0.22.0+cu128")))).doesNotContain("CVE-2026-48746");
  }

  @Test
  void llamaCppBuildsAndTagsAreSeparateSchemesAndAFixByCommitIsABuild() {
    Advisories db = Advisories.builtIn();
    Advisory n = byId(db, "CVE-2026-21869");
    // why: b8908 is the first build of the fix commit; b8896..b8907 (which an earlier mapping
    // called fixed) still lack it
    assertThat(n.judge(build("b8895"))).isEqualTo(Advisory.Verdict.AFFECTED);
    assertThat(n.judge(build("b8907"))).isEqualTo(Advisory.Verdict.AFFECTED);
    assertThat(n.judge(build("b8908"))).isEqualTo(Advisory.Verdict.NOT_AFFECTED);
    assertThat(n.judge(build("b12000"))).isEqualTo(Advisory.Verdict.NOT_AFFECTED);
    assertThat(n.ranges().get(0).translation()).contains("c78fb909b");
    // an unknown build is unknown, never "affected by everything"
    assertThat(n.judge(null)).isEqualTo(Advisory.Verdict.UNKNOWN);
    assertThat(
            ids(db.affecting("llama.cpp", null).stream().filter(Advisory::apiReachable).toList()))
        .isEmpty();
    // a semantic tag is judged only by the advisory's SemVer range
    Advisory g = byId(db, "CVE-2026-134540");
    assertThat(g.judge(semver("0.7.0-dev"))).isEqualTo(Advisory.Verdict.AFFECTED);
    assertThat(g.judge(semver("0.7.0"))).isEqualTo(Advisory.Verdict.NOT_AFFECTED);
    assertThat(g.judge(build("b12404"))).isEqualTo(Advisory.Verdict.AFFECTED);
    assertThat(g.judge(build("b12405"))).isEqualTo(Advisory.Verdict.NOT_AFFECTED);
    // a semantic tag against an advisory that has build ranges only: cannot be judged
    assertThat(n.judge(semver("0.7.0"))).isEqualTo(Advisory.Verdict.UNKNOWN);
    assertThat(byId(db, "CVE-2026-107183").judge(build("b8226")))
        .isEqualTo(Advisory.Verdict.NOT_AFFECTED);
    assertThat(byId(db, "CVE-2026-107183").judge(build("b8227")))
        .isEqualTo(Advisory.Verdict.AFFECTED);
  }

  @Test
  void everyShippedEntryIsConsistentWithTheGatewayAndItsVector() {
    for (Advisory a : Advisories.builtIn().all()) {
      assertThat(a.sources()).as(a.id()).isNotEmpty();
      assertThat(a.summary()).as(a.id()).isNotBlank();
      if (a.cvss() != null) {
        assertThat(a.severity())
            .as(a.id() + " severity follows its vector")
            .isEqualTo(Cvss31.rating(Cvss31.baseScore(a.cvss())));
      }
      if (a.apiReachable()) {
        assertThat(a.endpoints())
            .as(a.id() + ": API-reachable entries name HTTP paths")
            .allMatch(e -> e.equals("*") || e.startsWith("/"));
      } else {
        assertThat(a.endpoints())
            .as(a.id() + ": informational entries name their way in")
            .allMatch(e -> e.startsWith("("));
      }
    }
  }

  @Test
  void advisoryEndpointsMapToTheScopesTheGatewayEnforces() {
    Advisories db = Advisories.builtIn();
    assertThat(byId(db, "CVE-2024-37032").operations()).containsExactly(Operation.MODELS_MANAGE);
    assertThat(byId(db, "CVE-2025-0315").operations()).containsExactly(Operation.MODELS_MANAGE);
    assertThat(byId(db, "CNVD-2025-04094").operations()).isEqualTo(Set.of(Operation.values()));
    assertThat(byId(db, "CVE-2026-21869").operations()).containsExactly(Operation.INFERENCE);
  }

  @Test
  void aBadFileIsRefusedWholeWithEveryProblemNamed(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("osv.json");
    Files.writeString(
        file,
        "[{\"id\":\"CVE-2099-0001\",\"modified\":\"2099-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":\"Go\","
            + "\"name\":\"github.com/ollama/ollama\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"9.0.0\"}]}]}]}]",
        StandardCharsets.UTF_8);
    Advisories db = Advisories.load(file);
    assertThat(ids(db.affecting("ollama", semver("0.20.0")))).containsExactly("CVE-2099-0001");
    Files.writeString(
        file,
        "[{\"id\":\"CVE-2099-0001\",\"modified\":\"yesterday\",\"affected\":[{\"package\":{\"ecosystem\":\"Go\","
            + "\"name\":\"github.com/ollama/ollama\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"fixed\":\"soon\"}]},{\"type\":\"CALVER\",\"events\":[]}]}]}]");
    assertThatThrownBy(() -> Advisories.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--advisories: ")
        .hasMessageContaining("CVE-2099-0001.modified")
        .hasMessageContaining("fixed: \"soon\"")
        .hasMessageContaining("at least one introduced")
        .hasMessageContaining("SEMVER, ECOSYSTEM or GIT");
    assertThatThrownBy(() -> Advisories.load(dir.resolve("missing.json")))
        .hasMessageStartingWith("--advisories: ");
  }

  @Test
  void anAdvisoryKeepsItsSeverityOnlyWhenItsEndpointsAreOpenToOtherMachines() {
    Advisories db = Advisories.builtIn();
    Version v = semver("0.1.33");
    AdvisoryCheck.Exposure open =
        new AdvisoryCheck.Exposure(true, Set.of(Operation.MODELS_MANAGE), false, "");
    AdvisoryCheck.Exposure local =
        new AdvisoryCheck.Exposure(
            false, Set.of(Operation.MODELS_MANAGE), false, "it listens on loopback only");
    AdvisoryCheck.Exposure guarded =
        new AdvisoryCheck.Exposure(
            false, Set.of(Operation.MODELS_MANAGE), true, "behind Gatehouse");
    assertThat(finding(db, "ollama", v, open, "CVE-2024-37032").severity())
        .isEqualTo(Severity.CRITICAL);
    assertThat(finding(db, "ollama", v, local, "CVE-2024-37032").severity())
        .isEqualTo(Severity.MEDIUM);
    // a fix exists: upgrading is still worth a medium even behind Gatehouse
    assertThat(finding(db, "ollama", v, guarded, "CVE-2024-37032").severity())
        .isEqualTo(Severity.MEDIUM);
    // no fix exists and Gatehouse is in front: nothing more to do
    assertThat(finding(db, "ollama", v, guarded, "CVE-2025-63389").severity())
        .isEqualTo(Severity.LOW);
    // reachable, but the endpoints it needs ask for credentials
    AdvisoryCheck.Exposure locked = new AdvisoryCheck.Exposure(true, Set.of(), false, "");
    assertThat(finding(db, "ollama", v, locked, "CVE-2024-37032").severity())
        .isEqualTo(Severity.MEDIUM);
  }

  @Test
  void findingsSayWhetherGatehousesPolicyBlocksTheEndpointAndWhatToDo() {
    Advisories db = Advisories.builtIn();
    AdvisoryCheck.Exposure onlyInference =
        new AdvisoryCheck.Exposure(
            false,
            Set.of(Operation.values()),
            true,
            "behind Gatehouse",
            Set.of(Operation.INFERENCE));
    // why: no key holds models.manage, so Gatehouse refuses every pull
    Finding pull = finding(db, "ollama", semver("0.34.5"), onlyInference, "CVE-2026-103663");
    assertThat(pull.severity()).isEqualTo(Severity.LOW);
    assertThat(pull.evidence())
        .anyMatch(e -> e.contains("policy already blocks it") && e.contains("models.manage"));
    assertThat(pull.fix()).startsWith("Upgrade ollama to 0.35.0 or later");
    // why: a key holds models.manage: the pull is forwarded, the published severity stays
    AdvisoryCheck.Exposure manage =
        new AdvisoryCheck.Exposure(
            false,
            Set.of(Operation.values()),
            true,
            "behind Gatehouse",
            Set.of(Operation.MODELS_MANAGE));
    Finding forwarded = finding(db, "ollama", semver("0.34.5"), manage, "CVE-2026-103663");
    assertThat(forwarded.severity()).isEqualTo(Severity.MEDIUM);
    assertThat(forwarded.evidence()).noneMatch(e -> e.contains("policy already blocks"));
    // why: reachable around Gatehouse: its policy protects nothing, the published severity stays
    AdvisoryCheck.Exposure around =
        new AdvisoryCheck.Exposure(
            true, Set.of(Operation.values()), true, "", Set.of(Operation.INFERENCE));
    assertThat(finding(db, "ollama", semver("0.34.5"), around, "CVE-2026-103663").severity())
        .isEqualTo(Severity.CRITICAL);
    // why: /models/apply is not in Gatehouse's route table: refused whatever the keys
    Finding apply = finding(db, "localai", semver("4.5.0"), manage, "CVE-2026-59707");
    assertThat(apply.evidence()).anyMatch(e -> e.contains("route table has no /models/apply"));
    // why: an --api-key bypass does not help against Gatehouse's own key check
    Finding bypass = finding(db, "vllm", pep("0.21.0"), onlyInference, "CVE-2026-48746");
    assertThat(bypass.severity()).isEqualTo(Severity.LOW);
    assertThat(bypass.evidence()).anyMatch(e -> e.contains("checks its own key"));
    // why: no fix: the finding says so and gives the mitigation
    Finding token =
        finding(
            db,
            "ollama",
            semver("0.20.0"),
            new AdvisoryCheck.Exposure(true, Set.of(Operation.values()), false, ""),
            "CVE-2025-51471");
    assertThat(token.fix())
        .startsWith("No fixed release is recorded.")
        .contains("policy.allowed_registries");
    // why: a fix by commit names the build and how it was found
    Finding discard =
        finding(
            db,
            "llama.cpp",
            build("b8000"),
            new AdvisoryCheck.Exposure(true, Set.of(Operation.INFERENCE), false, ""),
            "CVE-2026-21869");
    assertThat(discard.fix())
        .startsWith("Upgrade llama.cpp to build b8908 or later")
        .contains("c78fb909b");
    assertThat(discard.evidence()).anyMatch(e -> e.startsWith("CVSS 8.8"));
    // why: rpc-server is not the HTTP API: informational
    Finding rpc =
        finding(
            db,
            "llama.cpp",
            build("b3000"),
            new AdvisoryCheck.Exposure(true, Set.of(Operation.values()), false, ""),
            "CVE-2024-42479");
    assertThat(rpc.severity()).isEqualTo(Severity.INFO);
  }

  private static Finding finding(
      Advisories db, String product, Version v, AdvisoryCheck.Exposure e, String id) {
    return AdvisoryCheck.findings(db, product, v, e, "s", null).stream()
        .filter(f -> f.id().equals(Rule.ADVISORY_PREFIX + id))
        .findFirst()
        .orElseThrow(() -> new AssertionError(id + " not reported for " + v));
  }

  static Advisory byId(Advisories db, String id) {
    return db.all().stream().filter(a -> a.id().equals(id)).findFirst().orElseThrow();
  }

  static Version semver(String v) {
    return Version.parse(Scheme.SEMVER, v);
  }

  static Version pep(String v) {
    return Version.parse(Scheme.PEP440, v);
  }

  static Version build(String v) {
    return Version.parse(Scheme.LLAMA_BUILD, v);
  }

  private static List<String> ids(List<Advisory> list) {
    return list.stream().map(Advisory::id).toList();
  }
}

package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.doctor.Advisories;
import dev.gatehouse.testing.FakeLlmServer;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gatehouse advisories update} and {@code list}: an OSV file written here, imported, is what
 * a following {@code doctor} reports; an osv.dev-style zip keeps only the products Gatehouse knows;
 * a newer {@code modified} replaces an older entry; a broken export writes nothing.
 */
class AdvisoriesCommandTest {

  static final ObjectMapper JSON = new ObjectMapper();

  static String osv(String id, String modified, String ecosystem, String name, String fixed) {
    return "{\"schema_version\":\"1.6.0\",\"id\":\""
        + id
        + "\",\"modified\":\""
        + modified
        + "\",\"summary\":\"test advisory "
        + id
        + "\","
        + "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
        + "\"affected\":[{\"package\":{\"ecosystem\":\""
        + ecosystem
        + "\",\"name\":\""
        + name
        + "\"},"
        + "\"ranges\":[{\"type\":\""
        + (ecosystem.equals("PyPI") ? "ECOSYSTEM" : "SEMVER")
        + "\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\""
        + fixed
        + "\"}]}]}],"
        + "\"references\":[{\"type\":\"WEB\",\"url\":\"https://example.invalid/"
        + id
        + "\"}]}";
  }

  private static Map<String, String> env(Path home) {
    return Map.of("GATEHOUSE_HOME", home.resolve("data").toString());
  }

  @Test
  void anImportedEntryOfOurOwnMakingIsReportedByDoctor(@TempDir Path home) throws Exception {
    Path file = home.resolve("GHSA-test-0001.json");
    Files.writeString(
        file,
        osv(
            "GHSA-gate-test-0001",
            "2026-12-01T00:00:00Z",
            "Go",
            "github.com/ollama/ollama",
            "9.0.0"));
    CliRun up = CliRun.run(env(home), "advisories", "update", "--from", file.toString());
    assertThat(up.code()).as(up.out() + up.err()).isZero();
    assertThat(up.out()).contains("kept 1", "Added 1", "GHSA-gate-test-0001");
    assertThat(Advisories.importedFile(home.resolve("data"))).exists();

    CliRun list = CliRun.run(env(home), "advisories", "list", "--product", "ollama", "--json");
    assertThat(list.code()).isZero();
    JsonNode rows = JSON.readTree(list.out());
    assertThat(rows.findValuesAsText("id")).contains("GHSA-gate-test-0001", "CVE-2024-37032");

    try (FakeLlmServer ollama =
        FakeLlmServer.start(FakeLlmServer.Kind.OLLAMA, "0.20.0", "127.0.0.1", null, false)) {
      CliRun r =
          CliRun.run(
              env(home),
              "doctor",
              "--no-default-ports",
              "--systemd-dir",
              home.resolve("no-units").toString(),
              "--port",
              String.valueOf(ollama.port()),
              "--json");
      JsonNode report = JSON.readTree(r.out());
      List<String> ids = new ArrayList<>();
      report.get("findings").forEach(f -> ids.add(f.get("id").asText()));
      assertThat(ids).as(r.out() + r.err()).contains("GH-ADVISORY-GHSA-gate-test-0001");
      assertThat(report.get("notes").toString()).contains("imported.json");
      // a doctor without the import does not know it
      CliRun other =
          CliRun.run(
              Map.of("GATEHOUSE_HOME", home.resolve("elsewhere").toString()),
              "doctor",
              "--no-default-ports",
              "--systemd-dir",
              home.resolve("no-units").toString(),
              "--port",
              String.valueOf(ollama.port()),
              "--json");
      assertThat(other.out()).doesNotContain("GHSA-gate-test-0001");
    }
  }

  @Test
  void anOsvZipKeepsKnownProductsAndTheNewerModifiedWins(@TempDir Path home) throws Exception {
    Path zip = home.resolve("all.zip");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
      entry(
          z,
          "PYSEC-2099-1.json",
          osv("PYSEC-2099-1", "2026-11-01T00:00:00Z", "PyPI", "vllm", "0.99.0"));
      // why: another PyPI package, and a binding of llama.cpp that is not llama-server: both left
      // out
      entry(
          z,
          "PYSEC-2099-2.json",
          osv("PYSEC-2099-2", "2026-11-01T00:00:00Z", "PyPI", "requests", "9.0.0"));
      entry(
          z,
          "PYSEC-2099-3.json",
          osv("PYSEC-2099-3", "2026-11-01T00:00:00Z", "PyPI", "llama-cpp-python", "9.0.0"));
      // why: an entry of another product that does not even parse must not block the import
      entry(
          z,
          "broken.json",
          "{\"id\":\"x\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"flask\"}}]}");
    }
    CliRun up = CliRun.run(env(home), "advisories", "update", "--from", zip.toString());
    assertThat(up.code()).as(up.err()).isZero();
    assertThat(up.out()).contains("Read 4 OSV entries", "kept 1", "{vllm=1}");

    // why: the same id again, older: unchanged; then newer: replaced
    Path dir = home.resolve("folder");
    Files.createDirectories(dir.resolve("sub"));
    Files.writeString(
        dir.resolve("sub/a.json"),
        osv("PYSEC-2099-1", "2026-10-01T00:00:00Z", "PyPI", "vllm", "0.50.0"));
    CliRun older = CliRun.run(env(home), "advisories", "update", "--from", dir.toString());
    assertThat(older.out()).contains("Added 0, replaced 0 older, 1 unchanged");
    Files.writeString(
        dir.resolve("sub/a.json"),
        osv("PYSEC-2099-1", "2026-12-01T00:00:00Z", "PyPI", "vllm", "0.50.0"));
    CliRun newer = CliRun.run(env(home), "advisories", "update", "--from", dir.toString());
    assertThat(newer.out()).contains("replaced 1 older");
    Advisories db = Advisories.forDataDir(home.resolve("data"));
    assertThat(db.all())
        .filteredOn(a -> a.id().equals("PYSEC-2099-1"))
        .singleElement()
        .satisfies(a -> assertThat(a.range()).contains("fixed in 0.50.0"));
  }

  @Test
  void aBrokenEntryOfAKnownProductRefusesTheWholeImport(@TempDir Path home) throws Exception {
    Path dir = home.resolve("folder");
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("good.json"),
        osv(
            "GHSA-gate-test-0002",
            "2026-12-01T00:00:00Z",
            "Go",
            "github.com/ollama/ollama",
            "9.0.0"));
    Files.writeString(
        dir.resolve("bad.json"),
        osv(
            "GHSA-gate-test-0003",
            "2026-12-01T00:00:00Z",
            "Go",
            "github.com/ollama/ollama",
            "not-a-version"));
    CliRun up = CliRun.run(env(home), "advisories", "update", "--from", dir.toString());
    assertThat(up.code()).isEqualTo(2);
    assertThat(up.err()).contains("GHSA-gate-test-0003", "not-a-version", "nothing was imported");
    assertThat(Advisories.importedFile(home.resolve("data"))).doesNotExist();
    CliRun missing =
        CliRun.run(
            env(home), "advisories", "update", "--from", home.resolve("nope.zip").toString());
    assertThat(missing.code()).isEqualTo(2);
    CliRun badProduct = CliRun.run(env(home), "advisories", "list", "--product", "openai");
    assertThat(badProduct.code()).isEqualTo(2);
  }

  private static void entry(ZipOutputStream z, String name, String text) throws Exception {
    z.putNextEntry(new ZipEntry(name));
    OutputStream o = z;
    o.write(text.getBytes(StandardCharsets.UTF_8));
    z.closeEntry();
  }
}

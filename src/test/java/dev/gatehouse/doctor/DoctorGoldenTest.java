package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.store.KeyRecord;
import dev.gatehouse.testing.FakeLlmServer;
import dev.gatehouse.testing.GatewayFixture;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Golden files for what {@code gatehouse doctor} prints, in text, JSON and SARIF, for one fixed
 * machine: a fake proc tree and systemd unit, real fake servers and a real gateway whose random
 * ports are mapped to the fixed ports the proc tree lists, a fixed clock and fixed keys. Run with
 * {@code -Dgatehouse.golden.write=true} to regenerate after a deliberate change, then review the
 * diff.
 *
 * <p>The machine: Ollama 0.1.33 on 0.0.0.0:11434 with OLLAMA_ORIGINS=* (set in a systemd drop-in),
 * which Gatehouse on 127.0.0.1:11435 is configured to protect (so clients can go around it);
 * llama.cpp b4500 on 127.0.0.1:8080 with nothing in front; one key that never expires and may
 * manage models, one that is tidy, one revoked.
 */
class DoctorGoldenTest {

  static final Path DIR = Path.of("src/test/resources/doctor");
  static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");

  static FakeLlmServer ollama;
  static FakeLlmServer llama;
  static GatewayFixture gateway;
  static JdkHttpProbe http;
  static Report report;
  static Path root;

  @BeforeAll
  static void machine(@TempDir Path tmp) throws Exception {
    root = tmp;
    ollama = FakeLlmServer.start(FakeLlmServer.Kind.OLLAMA, "0.1.33", "127.0.0.1", null, true);
    llama = FakeLlmServer.start(FakeLlmServer.Kind.LLAMA_CPP, "b4500", "127.0.0.1", null, false);
    gateway = GatewayFixture.start(Map.of("upstream", ollama.url()));
    http = new JdkHttpProbe(Duration.ofSeconds(5), "gatehouse-test");
    Map<Integer, Integer> ports =
        Map.of(11434, ollama.port(), 8080, llama.port(), 11435, gateway.port());
    HttpProbe mapped =
        (base, r) -> {
          Integer port = ports.get(base.getPort());
          if (port == null) {
            throw new java.net.ConnectException("Connection refused"); // sshd on 22 speaks no HTTP
          }
          return http.send(URI.create("http://" + base.getHost() + ":" + port), r);
        };

    Path proc = tmp.resolve("proc");
    Files.createDirectories(proc.resolve("net"));
    Files.writeString(
        proc.resolve("net/tcp"),
        DiscoveryTest.TCP_HEADER
            + "   0: 00000000:2CAA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 41234 1 0000000000000000 100 0 0 10 0\n"
            + "   1: 0100007F:2CAB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 41235 1 0000000000000000 100 0 0 10 0\n"
            + "   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41236 1 0000000000000000 100 0 0 10 0\n"
            + "   3: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41237 1 0000000000000000 100 0 0 10 0\n");
    process(
        proc,
        4242,
        "ollama",
        "/usr/local/bin/ollama\0serve\0",
        "HOME=/usr/share/ollama\0OLLAMA_HOST=0.0.0.0\0OLLAMA_ORIGINS=*\0",
        41234);
    process(
        proc,
        5151,
        "java",
        "java\0-jar\0/opt/gatehouse/gatehouse.jar\0serve\0",
        "HOME=/var/lib/gatehouse\0",
        41235);
    process(
        proc,
        6161,
        "llama-server",
        "/opt/llama.cpp/llama-server\0-m\0/models/qwen.gguf\0--port\08080\0",
        null,
        41236);

    Path units = tmp.resolve("systemd");
    Files.createDirectories(units.resolve("ollama.service.d"));
    Files.writeString(
        units.resolve("ollama.service"),
        "[Service]\nExecStart=/usr/local/bin/ollama serve\nUser=ollama\n");
    Files.writeString(
        units.resolve("ollama.service.d/override.conf"),
        "[Service]\nEnvironment=\"OLLAMA_HOST=0.0.0.0\" \"OLLAMA_ORIGINS=*\"\nEnvironment=\"OLLAMA_MODELS=/srv/ollama/models\"\n");

    GatehouseConfig config =
        ConfigLoader.load(
            null,
            false,
            Map.of(),
            Map.of(
                "listen",
                "127.0.0.1:11435",
                "upstream",
                "http://127.0.0.1:11434",
                "data_dir",
                "/var/lib/gatehouse"),
            ConfigChecks.ALL);
    Instant created = Instant.parse("2026-06-01T09:00:00Z");
    List<KeyRecord> keys =
        List.of(
            new KeyRecord(
                "abcdefghijkl",
                "ops laptop",
                new byte[32],
                List.of("inference", "models.read", "models.manage"),
                List.of(),
                created,
                null,
                null,
                null),
            new KeyRecord(
                "mnopqrstuvwx",
                "chat app",
                new byte[32],
                List.of("inference", "embeddings", "models.read"),
                List.of("llama3*"),
                created,
                NOW.plus(Duration.ofDays(60)),
                null,
                null),
            new KeyRecord(
                "yz2345672345",
                "old",
                new byte[32],
                List.of("inference"),
                List.of(),
                created,
                null,
                created.plusSeconds(60),
                null));
    ConfigAudit.KeySource keySource =
        new ConfigAudit.KeySource() {
          @Override
          public List<KeyRecord> keys() {
            return keys;
          }

          @Override
          public String describe() {
            return "/var/lib/gatehouse/gatehouse.db";
          }

          @Override
          public boolean exists() {
            return true;
          }
        };
    report =
        Doctor.run(
            new Doctor.Inputs(
                proc,
                List.of(units),
                Map.of("HOME", "/root"),
                List.of(8080, 22),
                config,
                Path.of("/etc/gatehouse/gatehouse.yaml"),
                List.of(),
                keySource,
                Advisories.builtIn(),
                mapped,
                Clock.fixed(NOW, ZoneOffset.UTC),
                "test",
                Severity.HIGH));
  }

  private static void process(
      Path proc, int pid, String comm, String cmdline, String environ, long inode)
      throws Exception {
    Path p = proc.resolve(String.valueOf(pid));
    Files.createDirectories(p.resolve("fd"));
    Files.writeString(p.resolve("comm"), comm + "\n");
    Files.writeString(p.resolve("cmdline"), cmdline);
    if (environ != null) {
      Files.writeString(p.resolve("environ"), environ);
    }
    Files.createSymbolicLink(p.resolve("fd/0"), Path.of("/dev/null"));
    Files.createSymbolicLink(p.resolve("fd/7"), Path.of("socket:[" + inode + "]"));
  }

  @AfterAll
  static void stop() {
    http.close();
    gateway.close();
    ollama.close();
    llama.close();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"txt", "json", "sarif"})
  void doctorOutputMatchesItsGoldenFile(String format) throws Exception {
    String rendered =
        switch (format) {
          case "json" -> JsonReport.render(report);
          case "sarif" -> SarifReport.render(report);
          default -> TextReport.render(report);
        };
    // The temporary proc tree and unit directory stand for the real ones.
    String out =
        rendered
            .replace(root.resolve("proc").toString(), "/proc")
            .replace(root.resolve("systemd").toUri().toString(), "file:///etc/systemd/system/")
            .replace(root.resolve("systemd").toString(), "/etc/systemd/system");
    Path golden = DIR.resolve("doctor." + format);
    if (Boolean.getBoolean("gatehouse.golden.write")) {
      Files.writeString(golden, out);
    }
    assertThat(out).isEqualTo(Files.readString(golden));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "GH-EXPOSED-WILDCARD",
        "GH-GATEWAY-BYPASS",
        "GH-UNAUTH-MODELS-MANAGE",
        "GH-ADVISORY-CVE-2024-37032"
      })
  void theExposedOllamaIsCritical(String id) {
    assertThat(report.findings())
        .filteredOn(f -> f.id().equals(id))
        .extracting(Finding::severity)
        .containsExactly(Severity.CRITICAL);
  }
}

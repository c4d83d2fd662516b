package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading the machine: /proc/net/tcp and tcp6, socket owners, OLLAMA_* settings and systemd units.
 */
class DiscoveryTest {

  static final String TCP_HEADER =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

  @Test
  void listeningSocketsAreDecodedInKernelByteOrder(@TempDir Path proc) throws Exception {
    Files.createDirectories(proc.resolve("net"));
    Files.writeString(
        proc.resolve("net/tcp"),
        TCP_HEADER
            // 0.0.0.0:11434 listening
            + "   0: 00000000:2CAA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 41234 1 0000000000000000 100 0 0 10 0\n"
            // 127.0.0.1:11435 listening
            + "   1: 0100007F:2CAB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41235 1 0000000000000000 100 0 0 10 0\n"
            // an established connection: not a listener
            + "   2: 0100007F:D896 0100007F:2CAA 01 00000000:00000000 00:00000000 00000000  1000        0 0 3 0000000000000000\n"
            // 192.168.1.20:8080
            + "   3: 1401A8C0:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41236 1 0000000000000000 100 0 0 10 0\n");
    Files.writeString(
        proc.resolve("net/tcp6"),
        TCP_HEADER
            // :: (every interface) port 8000
            + "   0: 00000000000000000000000000000000:1F40 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51000 1 0000000000000000 100 0 0 10 0\n"
            // ::ffff:0.0.0.0 (what Java binds for 0.0.0.0 on a dual-stack socket) port 1234
            + "   1: 0000000000000000FFFF000000000000:04D2 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51001 1 0000000000000000 100 0 0 10 0\n"
            // ::1 port 8081
            + "   2: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51002 1 0000000000000000 100 0 0 10 0\n");
    List<Listener> all = ProcNet.listeners(proc);
    assertThat(all)
        .extracting(Listener::hostPort)
        .containsExactly(
            "0.0.0.0:11434",
            "127.0.0.1:11435",
            "192.168.1.20:8080",
            "[::]:8000",
            "0.0.0.0:1234",
            "[::1]:8081");
    assertThat(all)
        .extracting(Listener::reachableFromOthers)
        .containsExactly(true, false, true, true, true, false);
    assertThat(all)
        .extracting(Listener::wildcard)
        .containsExactly(true, false, false, true, true, false);
    assertThat(all.get(0).inode()).isEqualTo(41234);
    assertThat(all.get(0).uid()).isEqualTo(998);
  }

  @Test
  void theProcessHoldingASocketIsFoundThroughItsFdLinks(@TempDir Path proc) throws Exception {
    Path p = proc.resolve("4242");
    Files.createDirectories(p.resolve("fd"));
    Files.writeString(p.resolve("comm"), "ollama\n");
    Files.writeString(p.resolve("cmdline"), "/usr/local/bin/ollama\0serve\0");
    Files.writeString(p.resolve("environ"), "HOME=/usr/share/ollama\0OLLAMA_HOST=0.0.0.0\0");
    Files.createSymbolicLink(p.resolve("fd/3"), Path.of("socket:[41234]"));
    Files.createSymbolicLink(p.resolve("fd/4"), Path.of("/dev/null"));
    Files.createDirectories(proc.resolve("77/fd"));
    Files.writeString(proc.resolve("77/comm"), "other\n");
    Map<Long, Processes.Info> owners = Processes.owners(proc, Set.of(41234L, 99999L));
    assertThat(owners).containsOnlyKeys(41234L);
    Processes.Info info = owners.get(41234L);
    assertThat(info.describe()).isEqualTo("pid 4242 (/usr/local/bin/ollama serve)");
    assertThat(info.environment()).containsEntry("OLLAMA_HOST", "0.0.0.0");
  }

  @Test
  void ollamaHostIsParsedAsOllamaDoes() {
    assertThat(OllamaEnv.parseHost("0.0.0.0"))
        .isEqualTo(new OllamaEnv.Bind("0.0.0.0", 11434, true));
    assertThat(OllamaEnv.parseHost("0.0.0.0:8080"))
        .isEqualTo(new OllamaEnv.Bind("0.0.0.0", 8080, true));
    assertThat(OllamaEnv.parseHost("127.0.0.1:11500"))
        .isEqualTo(new OllamaEnv.Bind("127.0.0.1", 11500, false));
    assertThat(OllamaEnv.parseHost("http://localhost:11434"))
        .isEqualTo(new OllamaEnv.Bind("localhost", 11434, false));
    // an empty host is every interface, as Go's net.Listen(":11434")
    assertThat(OllamaEnv.parseHost(":11434").reachableFromOthers()).isTrue();
    assertThat(OllamaEnv.parseHost("[::]:11434")).isEqualTo(new OllamaEnv.Bind("::", 11434, true));
    assertThat(OllamaEnv.parseHost("[::1]:11434").reachableFromOthers()).isFalse();
    assertThat(OllamaEnv.originsWildcard("app://obsidian.md,*")).isTrue();
    assertThat(OllamaEnv.originsWildcard("http://localhost:3000")).isFalse();
  }

  @Test
  void systemdUnitsAndDropInsAreReadWithQuotesAndEnvironmentFiles(@TempDir Path dir)
      throws Exception {
    Files.writeString(
        dir.resolve("ollama.service"),
        "[Unit]\nDescription=Ollama\n[Service]\nExecStart=/usr/bin/ollama serve\n"
            + "Environment=\"PATH=/usr/bin\"\n");
    Path dropIns = Files.createDirectories(dir.resolve("ollama.service.d"));
    Path envFile = dir.resolve("ollama.env");
    Files.writeString(envFile, "# settings\nOLLAMA_MODELS=/srv/models\n");
    Files.writeString(
        dropIns.resolve("override.conf"),
        "[Service]\nEnvironment=\"OLLAMA_HOST=0.0.0.0\" 'OLLAMA_ORIGINS=*'\n"
            + "EnvironmentFile=-"
            + envFile
            + "\n");
    Files.writeString(dir.resolve("nginx.service"), "[Service]\nEnvironment=OLLAMA_HOST=ignored\n");
    List<OllamaEnv.Source> units = OllamaEnv.systemdUnits(List.of(dir, dir.resolve("missing")));
    assertThat(units).hasSize(1);
    assertThat(units.get(0).origin()).isEqualTo(dropIns.resolve("override.conf").toString());
    assertThat(units.get(0).vars())
        .containsExactly(
            Map.entry("OLLAMA_HOST", "0.0.0.0"),
            Map.entry("OLLAMA_MODELS", "/srv/models"),
            Map.entry("OLLAMA_ORIGINS", "*"));
  }

  @Test
  void aSettingInheritedFromItsUnitIsReportedOnceAtTheUnit() {
    OllamaEnv.Source unit =
        new OllamaEnv.Source(
            OllamaEnv.Kind.UNIT,
            "/etc/systemd/system/ollama.service.d/override.conf",
            Map.of("OLLAMA_HOST", "0.0.0.0"));
    OllamaEnv.Source process =
        new OllamaEnv.Source(
            OllamaEnv.Kind.PROCESS, "the environment of pid 1", Map.of("OLLAMA_HOST", "0.0.0.0"));
    List<Finding> f = EnvCheck.findings(List.of(unit, process), new java.util.ArrayList<>());
    assertThat(f)
        .extracting(Finding::subject)
        .containsExactly(
            "OLLAMA_HOST=0.0.0.0 in /etc/systemd/system/ollama.service.d/override.conf");
    assertThat(f.get(0).severity()).isEqualTo(Severity.HIGH);
    assertThat(f.get(0).fix())
        .contains("Environment=\"OLLAMA_HOST=127.0.0.1:11434\"", "systemctl restart ollama");
  }
}

package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The data plane never imports the control plane (conventions: "admin, cli and doctor may use the
 * data plane; the data plane never imports them"). A source scan rather than a framework, so it
 * needs no dependency.
 */
class LayeringTest {

  static final List<String> DATA_PLANE =
      List.of(
          "listen",
          "identify",
          "authorize",
          "limit",
          "proxy",
          "upstream",
          "account",
          "audit",
          "abuse",
          "metrics",
          "alerts",
          "gateway",
          "exchange");
  static final List<String> CONTROL_PLANE =
      List.of("admin", "cli", "doctor", "scan", "integrity", "keys", "tls");

  @Test
  void dataPlanePackagesImportNoControlPlanePackage() throws Exception {
    List<String> violations = new ArrayList<>();
    for (String pkg : DATA_PLANE) {
      Path dir = Path.of("src/main/java/dev/gatehouse", pkg);
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
          for (String line : Files.readAllLines(f)) {
            for (String cp : CONTROL_PLANE) {
              if (line.startsWith("import dev.gatehouse." + cp + ".")
                  || line.startsWith("import static dev.gatehouse." + cp + ".")) {
                violations.add(f + ": " + line);
              }
            }
          }
        }
      }
    }
    assertThat(violations).isEmpty();
  }

  @Test
  void theLockFileReaderStandsAloneSoTheGatewayCanUseIt() throws Exception {
    // why: the gateway will enforce pins; ModelPins must not drag in doctor, scan or the CLI.
    // ModelName is a shared type now (exchange/), which the lock-file reader alone may import.
    String pins = Files.readString(Path.of("src/main/java/dev/gatehouse/pins/ModelPins.java"));
    assertThat(pins.replace("import dev.gatehouse.exchange.ModelName;", ""))
        .doesNotContain("import dev.gatehouse.");
    assertThat(Files.readString(Path.of("src/main/java/dev/gatehouse/exchange/ModelName.java")))
        .doesNotContain("import dev.gatehouse.");
  }
}

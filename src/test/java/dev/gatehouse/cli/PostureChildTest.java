package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.doctor.Doctor;
import dev.gatehouse.doctor.Finding;
import dev.gatehouse.doctor.JdkHttpProbe;
import dev.gatehouse.doctor.PostureMonitor;
import dev.gatehouse.doctor.Severity;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.testing.FakeLlmServer;
import dev.gatehouse.testing.GatewayProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * serve's posture check in a child JVM ({@link PostureChild}, {@code gatehouse posture-run}): a
 * real child on this machine's real {@code /proc}, in front of a model server listening on every
 * address, reports what doctor reports in this JVM, and the monitor raises from it; a child past
 * its time is killed, and one that fails fails the run.
 */
class PostureChildTest {

  private static final Map<String, String> ENV = Map.of("PATH", System.getenv("PATH"));

  @Test
  void aChildRunReportsWhatDoctorFindsInProcessAndTheMonitorRaisesIt(@TempDir Path tmp)
      throws Exception {
    try (FakeLlmServer ollama =
        FakeLlmServer.start(FakeLlmServer.Kind.OLLAMA, "0.1.30", "0.0.0.0", null, false)) {
      Path file = config(tmp, freePort(), ollama.url());
      PostureChild child =
          new PostureChild(List.of("--config", file.toString()), ENV, PostureChild.GRACE);
      Clock clock = Clock.systemUTC();

      List<Finding> fromChild = child.findings(clock, clock.instant().plus(Duration.ofSeconds(60)));

      GatehouseConfig config = ConfigLoader.load(file, true, ENV, Map.of(), ConfigChecks.ALL);
      List<Finding> inProcess;
      try (JdkHttpProbe http = new JdkHttpProbe(Duration.ofSeconds(3), "gatehouse-posture")) {
        inProcess =
            Doctor.run(
                    PostureMonitor.bounded(
                        PostureMonitor.inputsForServe(config, file, ENV, http, clock, "test"),
                        clock,
                        clock.instant().plus(Duration.ofSeconds(60))))
                .findings();
      }
      // why: the child loads the same configuration and runs the same checks; what crosses the
      // process boundary (JSON) comes back as the same findings, field by field
      assertThat(sorted(fromChild)).isEqualTo(sorted(inProcess));
      assertThat(fromChild)
          .anyMatch(
              f ->
                  f.id().equals("GH-EXPOSED-WILDCARD")
                      && f.subject().contains(":" + ollama.port())
                      && f.severity().atLeast(Severity.HIGH));
      // why: the probes came from the child, and none of them could change the server's state
      assertThat(ollama.requests()).isNotEmpty();
      assertThat(ollama.stateChanges()).isEmpty();

      List<Finding> raised = new ArrayList<>();
      try (PostureMonitor monitor =
          new PostureMonitor(
              child, Duration.ofHours(1), Duration.ofSeconds(60), raised::add, clock)) {
        List<Finding> first = monitor.runOnce();
        assertThat(first).anyMatch(f -> f.id().equals("GH-EXPOSED-WILDCARD"));
        assertThat(raised).isEqualTo(first);
        // why: a second child run sees the same exposure, which is not new
        assertThat(monitor.runOnce()).isEmpty();
      }
    }
  }

  @Test
  void aChildPastItsTimeIsKilledAndTheRunFails(@TempDir Path tmp) throws Exception {
    // A configuration file that is a named pipe no one writes to: the child blocks reading it and
    // would never finish on its own.
    Path fifo = tmp.resolve("gatehouse.yaml");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor())
        .isZero();
    PostureChild child =
        new PostureChild(List.of("--config", fifo.toString()), ENV, Duration.ofMillis(1500));
    Clock clock = Clock.systemUTC();
    assertThatThrownBy(() -> child.findings(clock, clock.instant().plusMillis(1)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("did not finish");
    // why: the hung child was stopped; nothing is left running once the run has failed
    ProcessHandle hung = child.lastChild();
    assertThat(hung).isNotNull();
    assertGoneWithin10s(hung, "the posture run's child is still running 10 s after the run failed");
  }

  @Test
  void aChildDoesNotOutliveAGatewayKilledWithSigkill(@TempDir Path tmp) throws Exception {
    Path file = config(tmp, freePort(), "http://127.0.0.1:" + freePort());
    Map<String, String> env =
        Map.of(
            "GATEHOUSE_POSTURE_INTERVAL", "1s",
            // long enough that neither the child's own deadline nor the gateway's kill past it
            // (run_timeout + GRACE) ends the child within this test
            "GATEHOUSE_POSTURE_RUN_TIMEOUT", "10m");
    try (GatewayProcess gateway =
        GatewayProcess.start(file, Files.createDirectories(tmp.resolve("home")), env)) {
      // serve has read its configuration; from now on the file is a named pipe no one writes to,
      // so each posture child blocks opening it, where no deadline of its own can reach
      Path fifo = tmp.resolve("fifo");
      assertThat(new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor())
          .isZero();
      Files.move(fifo, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

      ProcessHandle child = postureChildOf(gateway, Duration.ofSeconds(30));
      Thread.sleep(1000);
      assertThat(child.isAlive()).as("the child blocks on the named pipe").isTrue();

      gateway.sigkill();
      assertThat(gateway.waitFor(Duration.ofSeconds(10))).isNotNull();
      // why: the kernel closed the pipe the dead gateway held; the child saw end-of-file and left
      assertGoneWithin10s(
          child, "the posture child is still running 10 s after its gateway was killed");
    }
  }

  /** Fails with {@code message} (and kills the process) unless it ends within 10 s. */
  private static void assertGoneWithin10s(ProcessHandle p, String message) throws Exception {
    try {
      p.onExit().get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      p.destroyForcibly(); // do not leave it behind the test
      throw new AssertionError(message);
    }
    assertThat(p.isAlive()).isFalse();
  }

  /** The gateway's posture-run child, once it has started. */
  private static ProcessHandle postureChildOf(GatewayProcess gateway, Duration within)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      var found =
          ProcessHandle.of(gateway.pid()).stream()
              .flatMap(ProcessHandle::children)
              .filter(c -> commandLine(c).contains("posture-run"))
              .findFirst();
      if (found.isPresent()) {
        return found.get();
      }
      Thread.sleep(50);
    }
    throw new AssertionError(
        "no posture-run child of the gateway within "
            + within
            + "; its output:\n"
            + String.join("\n", gateway.output()));
  }

  /**
   * A process's arguments, from {@code /proc} (the JDK's {@code ProcessHandle.Info} gives none for
   * a command line as long as a test JVM's class path).
   */
  private static List<String> commandLine(ProcessHandle p) {
    try {
      return List.of(
          Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).split("\0"));
    } catch (IOException e) {
      return List.of(); // it has exited
    }
  }

  @Test
  void aChildThatFailsFailsTheRunWithItsStatus(@TempDir Path tmp) {
    PostureChild child =
        new PostureChild(
            List.of("--config", tmp.resolve("missing.yaml").toString()), ENV, PostureChild.GRACE);
    Clock clock = Clock.systemUTC();
    // why: a configuration the child cannot load (exit status 2) is a failed run, not "no findings"
    assertThatThrownBy(() -> child.findings(clock, clock.instant().plusSeconds(60)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("exited with status 2");
  }

  @Test
  void serveFlagsReachTheChildsCommandLine() {
    PostureChild child =
        PostureChild.forServe(ENV, Path.of("conf/g.yaml"), "127.0.0.1:9", "http://127.0.0.1:11434");
    List<String> cmd = child.command(1234);
    assertThat(cmd.get(0)).endsWith("/bin/java");
    assertThat(cmd)
        .containsSubsequence("-cp", System.getProperty("java.class.path"))
        .containsSubsequence(Main.class.getName(), "posture-run", "--exit-with-parent")
        .containsSubsequence("--config", Path.of("conf/g.yaml").toAbsolutePath().toString())
        .containsSubsequence("--listen", "127.0.0.1:9")
        .containsSubsequence("--upstream", "http://127.0.0.1:11434")
        .containsSubsequence("--run-timeout-ms", "1234")
        .contains("-Xmx128m");
    assertThat(PostureChild.forServe(ENV, null, null, null).command(5))
        .doesNotContain("--config", "--listen", "--upstream");
  }

  private static List<Finding> sorted(List<Finding> findings) {
    return findings.stream().sorted(Comparator.comparing(f -> f.id() + " " + f.subject())).toList();
  }

  private static Path config(Path dir, int listenPort, String upstream) throws IOException {
    Path data = Files.createDirectories(dir.resolve("data"));
    Path file = dir.resolve("gatehouse.yaml");
    Files.writeString(
        file,
        "listen: 127.0.0.1:"
            + listenPort
            + "\nupstream: "
            + upstream
            + "\ndata_dir: "
            + data
            + "\n");
    return file;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}

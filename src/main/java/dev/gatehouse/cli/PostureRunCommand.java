package dev.gatehouse.cli;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.doctor.Doctor;
import dev.gatehouse.doctor.JdkHttpProbe;
import dev.gatehouse.doctor.JsonReport;
import dev.gatehouse.doctor.PostureMonitor;
import dev.gatehouse.doctor.Report;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code gatehouse posture-run}: one run of the periodic posture check, in the JVM {@code serve}
 * starts for it ({@link PostureChild}). It loads the configuration as that serve did (the same
 * file, environment and flags), runs doctor's checks as the gateway's own periodic check does, and
 * prints the report as JSON ({@link JsonReport}) on standard output; log lines go to standard
 * error, which the gateway shares. Hidden from help: it is the gateway's, not a command to run by
 * hand ({@code gatehouse doctor} is).
 */
@Command(
    name = "posture-run",
    hidden = true,
    mixinStandardHelpOptions = true,
    description = "One run of serve's periodic posture check, as JSON (run by serve).")
final class PostureRunCommand implements Callable<Integer> {

  @Mixin ConfigOptions configOptions;

  @Option(names = "--listen", paramLabel = "HOST:PORT", description = "As serve's --listen.")
  @Nullable String listen;

  @Option(names = "--upstream", paramLabel = "URL", description = "As serve's --upstream.")
  @Nullable String upstream;

  @Option(
      names = "--run-timeout-ms",
      required = true,
      paramLabel = "MS",
      description = "No probe is sent after this many milliseconds (posture.run_timeout).")
  long runTimeoutMillis;

  @Option(
      names = "--exit-with-parent",
      description =
          "Exit at once when standard input closes: serve holds its end open, and the kernel closes"
              + " it when serve dies, even by SIGKILL.")
  boolean exitWithParent;

  /** The exit status of a run whose gateway went away: nobody reads it. */
  static final int PARENT_GONE = 3;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final Map<String, String> env;

  PostureRunCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (runTimeoutMillis <= 0) {
      spec.commandLine().getErr().println("gatehouse posture-run: --run-timeout-ms must be > 0");
      return 2;
    }
    if (exitWithParent) {
      exitWhenStdinCloses();
    }
    GatehouseConfig config =
        configOptions.loadOrReport(
            env, ConfigOptions.flags(listen, upstream), spec.commandLine().getErr());
    if (config == null) {
      return 2;
    }
    Clock clock = Clock.systemUTC();
    Instant deadline = clock.instant().plus(Duration.ofMillis(runTimeoutMillis));
    try (JdkHttpProbe http = new JdkHttpProbe(Duration.ofSeconds(3), "gatehouse-posture")) {
      Doctor.Inputs in =
          PostureMonitor.inputsForServe(
              config, configOptions.source(env).file(), env, http, clock, Main.toolVersion());
      Report report = Doctor.run(PostureMonitor.bounded(in, clock, deadline));
      out.print(JsonReport.render(report));
      out.flush();
    }
    return 0;
  }

  /**
   * Watches standard input, which serve holds open and never writes to, and ends this JVM the
   * moment it reads end-of-file: the gateway is gone (a kill -9, a crash), so no one will read the
   * report. Without it, a child blocked where its own deadline cannot reach (opening a named pipe
   * as its configuration file, say) would outlive the gateway for good.
   */
  private static void exitWhenStdinCloses() {
    Thread.ofPlatform()
        .daemon()
        .name("gatehouse-parent-watch")
        .start(
            () -> {
              try {
                while (System.in.read() >= 0) {
                  // serve writes nothing; any byte is ignored
                }
              } catch (IOException e) {
                // a broken pipe: the gateway is gone just the same
              }
              Runtime.getRuntime().halt(PARENT_GONE);
            });
  }
}

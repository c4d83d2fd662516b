package dev.gatehouse.cli;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.tls.SelfSigned;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gatehouse tls}: certificate helpers. */
@Command(
    name = "tls",
    mixinStandardHelpOptions = true,
    description = "TLS certificate helpers.",
    subcommands = {TlsCommand.SelfSignedCommand.class})
final class TlsCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "self-signed",
      mixinStandardHelpOptions = true,
      description =
          "Write a self-signed certificate and key for LAN use and print its SHA-256 fingerprint.")
  static final class SelfSignedCommand implements Callable<Integer> {
    @Mixin ConfigOptions configOptions;

    @Option(
        names = "--host",
        required = true,
        arity = "1..*",
        paramLabel = "NAME",
        description = "Host names or IP addresses clients use to reach Gatehouse.")
    List<String> hosts;

    @Option(
        names = "--out",
        paramLabel = "DIR",
        description = "Where to write cert.pem and key.pem (default: DATA_DIR/tls).")
    @Nullable Path out;

    @Option(
        names = "--days",
        defaultValue = "397",
        description = "Validity in days (default: ${DEFAULT-VALUE}).")
    int days;

    @Option(names = "--force", description = "Overwrite existing files.")
    boolean force;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;

    SelfSignedCommand(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public Integer call() throws Exception {
      PrintWriter o = spec.commandLine().getOut();
      Path dir = out;
      if (dir == null) {
        GatehouseConfig config;
        try {
          config = configOptions.load(env, Map.of());
        } catch (ConfigException e) {
          spec.commandLine().getErr().print(e.report());
          return 2;
        }
        dir = config.dataDir().resolve("tls");
      }
      if (days < 1 || days > 3650) {
        throw new Main.UsageError("--days: " + days + " (expected: 1-3650)");
      }
      Path cert = dir.resolve("cert.pem").toAbsolutePath();
      Path key = dir.resolve("key.pem").toAbsolutePath();
      if (!force && (Files.exists(cert) || Files.exists(key))) {
        throw new Main.UsageError(
            "--out: " + dir + " (expected: a directory without cert.pem and key.pem, or --force)");
      }
      SelfSigned.Result r;
      try {
        r = SelfSigned.write(hosts, Duration.ofDays(days), cert, key);
      } catch (IllegalArgumentException e) {
        throw new Main.UsageError(e.getMessage());
      }
      o.println("Wrote " + r.cert() + " and " + r.key() + " (valid until " + r.notAfter() + ").");
      o.println("SHA-256 fingerprint: " + r.sha256Fingerprint());
      o.println("Add to gatehouse.yaml:");
      o.println("  tls:");
      o.println("    cert: " + r.cert());
      o.println("    key: " + r.key());
      return 0;
    }
  }
}

package dev.gatehouse.cli;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gateway.ConfigChecks;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** The {@code --config} option every command shares, and the loading it implies. */
final class ConfigOptions {

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "Configuration file (default: gatehouse.yaml in the current directory, if present; env GATEHOUSE_CONFIG).")
  @Nullable Path config;

  /** Which file to read, and whether the user named it (then it must exist). */
  record Source(Path file, boolean explicit) {}

  /** The file --config, GATEHOUSE_CONFIG or the default names. */
  Source source(Map<String, String> env) {
    if (config != null) {
      return new Source(config, true);
    }
    if (env.get("GATEHOUSE_CONFIG") != null) {
      return new Source(Path.of(env.get("GATEHOUSE_CONFIG")), true);
    }
    return new Source(Path.of("gatehouse.yaml"), false);
  }

  /** The overrides {@code --listen} and {@code --upstream} make, each one that was given. */
  static Map<String, String> flags(@Nullable String listen, @Nullable String upstream) {
    Map<String, String> flags = new LinkedHashMap<>();
    if (listen != null) {
      flags.put("listen", listen);
    }
    if (upstream != null) {
      flags.put("upstream", upstream);
    }
    return flags;
  }

  /**
   * Loads configuration with these overrides, or prints every problem to {@code err} and returns
   * null: the command then exits with status 2.
   */
  @Nullable GatehouseConfig loadOrReport(
      Map<String, String> env, Map<String, String> flags, PrintWriter err) {
    try {
      return load(env, flags);
    } catch (ConfigException e) {
      err.print(e.report());
      return null;
    }
  }

  /** Loads configuration with these command-line overrides; exits 2 through UsageError. */
  GatehouseConfig load(Map<String, String> env, Map<String, String> flags) throws ConfigException {
    Source s = source(env);
    return ConfigLoader.load(s.file(), s.explicit(), env, flags, ConfigChecks.ALL);
  }
}

package dev.gatehouse.cli;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gateway.ConfigChecks;
import java.nio.file.Path;
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

  /** Loads configuration with these command-line overrides; exits 2 through UsageError. */
  GatehouseConfig load(Map<String, String> env, Map<String, String> flags) throws ConfigException {
    Source s = source(env);
    return ConfigLoader.load(s.file(), s.explicit(), env, flags, ConfigChecks.ALL);
  }
}

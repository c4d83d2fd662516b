package dev.gatehouse.cli;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** The {@code --config} option every command shares, and the loading it implies. */
final class ConfigOptions {

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Configuration file (default: gatehouse.yaml in the current directory, if present; env GATEHOUSE_CONFIG).")
  Path config;

  /** Loads configuration with these command-line overrides; exits 2 through UsageError. */
  GatehouseConfig load(Map<String, String> env, Map<String, String> flags) throws ConfigException {
    Path file = config;
    boolean explicit = file != null;
    if (file == null && env.get("GATEHOUSE_CONFIG") != null) {
      file = Path.of(env.get("GATEHOUSE_CONFIG"));
      explicit = true;
    }
    if (file == null) {
      file = Path.of("gatehouse.yaml");
    }
    return ConfigLoader.load(file, explicit, env, flags);
  }
}

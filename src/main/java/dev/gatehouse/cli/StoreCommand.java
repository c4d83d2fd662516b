package dev.gatehouse.cli;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.GatehouseConfig;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;

/**
 * The plumbing every command that works on the data directory shares: load the configuration (a bad
 * one prints its report and exits 2), open the store, run, close, and turn argument mistakes into
 * exit status 2.
 */
abstract class StoreCommand implements Callable<Integer> {

  @Mixin ConfigOptions configOptions;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  final Map<String, String> env;

  StoreCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    GatehouseConfig config;
    try {
      config = configOptions.load(env, Map.of());
    } catch (ConfigException e) {
      spec.commandLine().getErr().print(e.report());
      return 2;
    }
    try {
      return run(config);
    } catch (IllegalArgumentException e) {
      throw new Main.UsageError(e.getMessage());
    }
  }

  /** Runs on the store of {@code config}; {@link ApiCommand} may go through the admin API first. */
  int run(GatehouseConfig config) throws Exception {
    try (Context ctx = new Context(config)) {
      return run(ctx, spec.commandLine().getOut());
    }
  }

  abstract int run(Context ctx, PrintWriter out) throws Exception;
}

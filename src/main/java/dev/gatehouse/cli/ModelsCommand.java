package dev.gatehouse.cli;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.doctor.Report;
import dev.gatehouse.doctor.Severity;
import dev.gatehouse.exchange.ModelName;
import dev.gatehouse.integrity.ModelStore;
import dev.gatehouse.integrity.ProgressBar;
import dev.gatehouse.integrity.StoreVerifier;
import java.io.Console;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gatehouse models}: checks on the model server's model store. */
@Command(
    name = "models",
    mixinStandardHelpOptions = true,
    description = "Model store checks.",
    subcommands = {ModelsCommand.Verify.class})
final class ModelsCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code gatehouse models verify}: recompute every blob's SHA-256 and check the manifests. */
  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Walk Ollama's model store (manifests/<registry>/<namespace>/<model>/<tag> and blobs/sha256-<hex>), recompute every"
            + " blob's SHA-256, and report blobs whose content does not match their name, manifests that reference missing"
            + " blobs, blobs no manifest uses, and models from registries that are not allowed. Reads only.",
        "--pin FILE writes a lock file of model name -> manifest digest, but only from a store with no corrupt or missing blob."
      },
      exitCodeListHeading = "%nExit status:%n",
      exitCodeList = {
        "0:no finding at or above --fail-on (default low: any finding)",
        "1:findings at or above --fail-on",
        "2:invalid usage, or no model store at --dir"
      })
  static final class Verify implements Callable<Integer> {

    @Mixin ConfigOptions configOptions;

    @Mixin ReportOptions report;

    @Option(
        names = "--dir",
        paramLabel = "PATH",
        description =
            "The model store (default: OLLAMA_MODELS, else ~/.ollama/models, else /usr/share/ollama/.ollama/models).")
    @Nullable Path dir;

    @Option(
        names = "--allow-registry",
        paramLabel = "HOST",
        description =
            "Also allow models from this registry (repeatable). Always allowed: registry.ollama.ai and policy.allowed_registries.")
    List<String> allowRegistries = new ArrayList<>();

    @Option(
        names = "--pin",
        paramLabel = "FILE",
        description = "Write a lock file of model name -> manifest digest.")
    @Nullable Path pin;

    @Option(
        names = "--progress",
        description = "Show a progress bar on stderr even when it is not a terminal.")
    boolean progress;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;

    Verify(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public Integer call() throws Exception {
      report.validate();
      Severity failOn = report.failOn(Severity.LOW);
      GatehouseConfig config;
      try {
        config = configOptions.load(env, Map.of());
      } catch (ConfigException e) {
        spec.commandLine().getErr().print(e.report());
        return 2;
      }
      Path store = dir != null ? dir : defaultStore();
      if (!ModelStore.looksLikeStore(store)) {
        throw new Main.UsageError(
            "--dir: "
                + store
                + " (expected: an Ollama model store, a directory with manifests/ and blobs/)");
      }
      Set<String> allowed = new TreeSet<>(List.of(ModelName.DEFAULT_REGISTRY));
      config
          .policy()
          .allowedRegistries()
          .forEach(r -> allowed.add(r.toLowerCase(java.util.Locale.ROOT)));
      allowRegistries.forEach(r -> allowed.add(r.toLowerCase(java.util.Locale.ROOT)));
      StoreVerifier.Progress bar =
          progress || interactive()
              ? new ProgressBar(spec.commandLine().getErr(), System::nanoTime)
              : StoreVerifier.Progress.NONE;
      StoreVerifier.Result v = StoreVerifier.verify(store, allowed, bar);
      List<String> notes = new ArrayList<>(v.notes());
      if (pin != null) {
        if (v.clean()) {
          v.pins().write(pin);
          notes.add("pinned " + v.pins().size() + " models to their manifest digests in " + pin);
        } else {
          notes.add(
              "lock file not written: "
                  + pin
                  + " would pin a store with corrupt or missing blobs; fix them and run again");
        }
      }
      Report r =
          new Report(
              "models verify",
              Main.toolVersion(),
              Clock.systemUTC().instant(),
              failOn,
              List.of(v.subject()),
              notes,
              v.findings(),
              List.of());
      spec.commandLine().getOut().print(report.render(r));
      return r.exitStatus();
    }

    private Path defaultStore() {
      List<Path> tried = new ArrayList<>();
      if (env.get("OLLAMA_MODELS") != null) {
        return Path.of(env.get("OLLAMA_MODELS"));
      }
      if (env.get("HOME") != null) {
        tried.add(Path.of(env.get("HOME"), ".ollama", "models"));
      }
      tried.add(Path.of("/usr/share/ollama/.ollama/models"));
      for (Path p : tried) {
        if (ModelStore.looksLikeStore(p)) {
          return p;
        }
      }
      throw new Main.UsageError(
          "--dir: (not given, and no store at "
              + tried
              + ") (expected: the path of Ollama's model store)");
    }

    /**
     * True when stderr is a person's terminal. Since Java 22 {@code System.console()} exists even
     * when redirected and {@code isTerminal()} tells; this build targets 21, so it asks by name.
     */
    @SuppressWarnings(
        "SystemConsoleNull") // null on Java 21 without a terminal; isTerminal() below on 22+
    private static boolean interactive() {
      Console c = System.console();
      if (c == null) {
        return false;
      }
      try {
        return (Boolean) Console.class.getMethod("isTerminal").invoke(c);
      } catch (NoSuchMethodException e) {
        return true; // Java 21: a console exists only for a terminal
      } catch (ReflectiveOperationException e) {
        return false;
      }
    }
  }
}

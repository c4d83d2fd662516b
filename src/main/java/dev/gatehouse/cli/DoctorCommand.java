package dev.gatehouse.cli;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.Values;
import dev.gatehouse.doctor.Advisories;
import dev.gatehouse.doctor.ConfigAudit;
import dev.gatehouse.doctor.Doctor;
import dev.gatehouse.doctor.JdkHttpProbe;
import dev.gatehouse.doctor.OllamaEnv;
import dev.gatehouse.doctor.Report;
import dev.gatehouse.doctor.Severity;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.store.KeyRecord;
import dev.gatehouse.store.Stores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gatehouse doctor}: audit the model servers on this machine and Gatehouse's own setup. */
@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description = {
      "Audit this machine: find LLM servers (Ollama, llama.cpp, vLLM, LM Studio, LocalAI) from listening sockets,"
          + " processes, OLLAMA_* settings and systemd units; check each over loopback for exposure, open endpoints,"
          + " known advisories and CORS; and audit Gatehouse's config, certificate and keys.",
      "Connects only to this machine's own addresses and sends no request that can change anything.",
      "Finding ids, severities and fixes: docs/doctor.md."
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:no finding at or above --fail-on (default high)",
      "1:findings at or above --fail-on",
      "2:invalid usage, or the audit could not run"
    })
final class DoctorCommand implements Callable<Integer> {

  @Mixin ConfigOptions configOptions;

  @Mixin ReportOptions report;

  @Option(
      names = "--advisories",
      paramLabel = "FILE",
      description =
          "An OSV file (one entry, an array, or {\"vulns\": [...]}) to use instead of the built-in and imported advisories.")
  @Nullable Path advisories;

  @Option(names = "--port", paramLabel = "N", description = "Also look at this port (repeatable).")
  List<Integer> ports = new ArrayList<>();

  @Option(
      names = "--no-default-ports",
      description =
          "Look only at --port ports and those Gatehouse's config and OLLAMA_HOST name, not the usual model-server ports.")
  boolean noDefaultPorts;

  @Option(
      names = "--proc",
      paramLabel = "DIR",
      defaultValue = "/proc",
      description =
          "The proc file system to read (default: ${DEFAULT-VALUE}); a host's /proc mounted in a container also works.")
  Path proc;

  @Option(
      names = "--systemd-dir",
      paramLabel = "DIR",
      description =
          "Where to look for ollama*.service units (repeatable; default: /etc/systemd/system, /run/systemd/system, /usr/lib/systemd/system, /lib/systemd/system).")
  @Nullable List<Path> systemdDirs;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "3s",
      description = "Longest wait for one loopback request (default: ${DEFAULT-VALUE}).")
  String timeout;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final Map<String, String> env;

  DoctorCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    report.validate();
    Severity failOn = report.failOn(Severity.HIGH);
    Duration wait = Values.positiveDuration(timeout);
    if (wait == null) {
      throw new Main.UsageError(
          "--timeout: " + timeout + " (expected: a duration above zero such as 3s or 500ms)");
    }
    for (int p : ports) {
      if (p < 1 || p > 65535) {
        throw new Main.UsageError("--port: " + p + " (expected: 1-65535)");
      }
    }
    ConfigOptions.Source source = configOptions.source(env);
    if (source.explicit() && !Files.isReadable(source.file())) {
      throw new Main.UsageError(
          "--config: " + source.file() + " (expected: an existing, readable YAML file)");
    }
    GatehouseConfig config;
    List<String> problems = List.of();
    try {
      // a profile: prod config's gaps are findings with their fixes, not a load failure
      config =
          ConfigLoader.loadForAudit(
              source.file(), source.explicit(), env, Map.of(), ConfigChecks.ALL);
    } catch (ConfigException e) {
      // An invalid configuration is a finding, not the end of the audit: the servers still get
      // checked, against Gatehouse's defaults.
      problems = e.problems();
      config = ConfigLoader.load(null, false, Map.of(), Map.of(), ConfigChecks.ALL);
    }
    Advisories db;
    try {
      db =
          advisories == null
              ? Advisories.forDataDir(config.dataDir())
              : Advisories.load(advisories);
    } catch (IllegalArgumentException e) {
      throw new Main.UsageError(e.getMessage());
    }
    List<Integer> candidates = new ArrayList<>(noDefaultPorts ? List.of() : Doctor.KNOWN_PORTS);
    candidates.addAll(ports);
    Path configFile = Files.exists(source.file()) ? source.file() : null;
    Report r;
    try (JdkHttpProbe http = new JdkHttpProbe(wait, "gatehouse-doctor")) {
      r =
          Doctor.run(
              new Doctor.Inputs(
                  proc,
                  systemdDirs == null ? OllamaEnv.SYSTEMD_DIRS : systemdDirs,
                  env,
                  candidates,
                  config,
                  configFile,
                  problems,
                  new StoreKeys(config.dataDir(), config.store()),
                  db,
                  http,
                  Clock.systemUTC(),
                  Main.toolVersion(),
                  failOn));
    }
    spec.commandLine().getOut().print(report.render(r));
    return r.exitStatus();
  }

  /**
   * The keys in the store, read only if the store exists: doctor must never create a data directory
   * or a database where there was none. A PostgreSQL database is the operator's, made beforehand:
   * it is there when configured.
   */
  private record StoreKeys(Path dataDir, GatehouseConfig.Store store)
      implements ConfigAudit.KeySource {
    @Override
    public boolean exists() {
      return store.kind().equals("postgres") || Files.exists(dataDir.resolve("gatehouse.db"));
    }

    @Override
    public List<KeyRecord> keys() {
      try (Stores stores = Stores.open(store, dataDir)) {
        return stores.keys().list();
      }
    }

    @Override
    public String describe() {
      return store.kind().equals("postgres")
          ? String.valueOf(store.url())
          : dataDir.resolve("gatehouse.db").toString();
    }
  }
}

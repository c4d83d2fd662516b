package dev.gatehouse.cli;

import dev.gatehouse.config.Values;
import dev.gatehouse.doctor.Advisories;
import dev.gatehouse.doctor.Finding;
import dev.gatehouse.doctor.JdkHttpProbe;
import dev.gatehouse.doctor.Report;
import dev.gatehouse.doctor.Severity;
import dev.gatehouse.doctor.Subject;
import dev.gatehouse.scan.ScanTarget;
import dev.gatehouse.scan.Scanner;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gatehouse scan URL...}: what the network sees of the named URLs, and nothing else. */
@Command(
    name = "scan",
    mixinStandardHelpOptions = true,
    description = {
      "Scan the URLs given, and only those: which API answers, whether every endpoint class demands credentials,"
          + " fingerprint leaks, TLS, rate limiting, and advisories for a leaked version.",
      "Sends only requests that cannot change state (a nonexistent model, a malformed body, a method the route refuses),"
          + " at most --max-requests per URL, --rate apart. Never pulls, pushes, creates or deletes anything.",
      "Finding ids, severities and fixes: docs/doctor.md."
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:no finding at or above --fail-on (default high)",
      "1:findings at or above --fail-on",
      "2:invalid usage, or a URL could not be scanned (unreachable, TLS handshake failed)"
    })
final class ScanCommand implements Callable<Integer> {

  @Parameters(
      paramLabel = "URL",
      arity = "1..*",
      description = "http:// or https:// URLs to scan, such as https://gpu-box.lan:11435.")
  List<String> urls;

  @Mixin ReportOptions report;

  @Option(
      names = "--advisories",
      paramLabel = "FILE",
      description =
          "An OSV file (one entry, an array, or {\"vulns\": [...]}) to use instead of the built-in and imported advisories.")
  @Nullable Path advisories;

  @Option(
      names = "--rate",
      paramLabel = "DURATION",
      defaultValue = "100ms",
      description =
          "Least time between two requests to one URL (default: ${DEFAULT-VALUE}; at least 10ms).")
  String rate;

  @Option(
      names = "--max-requests",
      paramLabel = "N",
      defaultValue = "40",
      description = "Most requests per URL (default and ceiling: ${DEFAULT-VALUE}).")
  int maxRequests;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "5s",
      description =
          "Longest wait for a connection, handshake or response (default: ${DEFAULT-VALUE}).")
  String timeout;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final java.util.Map<String, String> env;

  ScanCommand(java.util.Map<String, String> env) {
    this.env = env;
  }

  /**
   * Where imported advisories are: the data directory GATEHOUSE_HOME names, else the default. Scan
   * reads no configuration file; an invalid GATEHOUSE_* variable falls back to the default.
   */
  private Path dataDir() throws dev.gatehouse.config.ConfigException {
    try {
      return dev.gatehouse.config.ConfigLoader.load(
              null, false, env, java.util.Map.of(), dev.gatehouse.gateway.ConfigChecks.ALL)
          .dataDir();
    } catch (dev.gatehouse.config.ConfigException e) {
      return dev.gatehouse.config.ConfigLoader.load(
              null,
              false,
              java.util.Map.of(),
              java.util.Map.of(),
              dev.gatehouse.gateway.ConfigChecks.ALL)
          .dataDir();
    }
  }

  @Override
  public Integer call() throws Exception {
    report.validate();
    Severity failOn = report.failOn(Severity.HIGH);
    Duration interval = Values.duration(rate);
    if (interval == null || interval.toMillis() < 10) {
      throw new Main.UsageError(
          "--rate: " + rate + " (expected: a duration of at least 10ms, such as 100ms or 1s)");
    }
    Duration wait = Values.positiveDuration(timeout);
    if (wait == null) {
      throw new Main.UsageError(
          "--timeout: " + timeout + " (expected: a duration above zero such as 5s)");
    }
    if (maxRequests < 1 || maxRequests > Scanner.MAX_REQUESTS) {
      throw new Main.UsageError(
          "--max-requests: " + maxRequests + " (expected: 1-" + Scanner.MAX_REQUESTS + ")");
    }
    List<ScanTarget> targets = new ArrayList<>();
    for (String u : urls) {
      try {
        targets.add(ScanTarget.parse(u));
      } catch (IllegalArgumentException e) {
        throw new Main.UsageError(e.getMessage());
      }
    }
    Advisories db;
    try {
      db = advisories == null ? Advisories.forDataDir(dataDir()) : Advisories.load(advisories);
    } catch (IllegalArgumentException e) {
      throw new Main.UsageError(e.getMessage());
    }
    PrintWriter err = spec.commandLine().getErr();
    boolean progress = targets.size() > 1;
    List<Subject> checked = new ArrayList<>();
    List<Finding> findings = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    try (JdkHttpProbe http = new JdkHttpProbe(wait, "gatehouse-scan")) {
      Scanner scanner =
          new Scanner(
              http, db, Clock.systemUTC(), new Scanner.Options(maxRequests, interval, wait));
      for (int i = 0; i < targets.size(); i++) {
        ScanTarget t = targets.get(i);
        String step = "[" + (i + 1) + "/" + targets.size() + "] ";
        if (progress) {
          err.println(step + "scanning " + t + " ...");
          err.flush();
        }
        Scanner.Result r = scanner.scan(t);
        checked.add(r.subject());
        findings.addAll(r.findings());
        notes.addAll(r.notes());
        if (r.error() != null) {
          errors.add(r.error());
        }
        if (progress) {
          err.println(
              step
                  + t
                  + ": "
                  + (r.error() != null
                      ? "not scanned"
                      : r.requests() + " requests, " + r.findings().size() + " findings"));
          err.flush();
        }
      }
    }
    findings.addAll(dev.gatehouse.doctor.Doctor.dataAge(db, Clock.systemUTC().instant(), notes));
    Report r =
        new Report(
            "scan",
            Main.toolVersion(),
            Clock.systemUTC().instant(),
            failOn,
            checked,
            notes,
            findings,
            errors);
    spec.commandLine().getOut().print(report.render(r));
    return r.exitStatus();
  }
}

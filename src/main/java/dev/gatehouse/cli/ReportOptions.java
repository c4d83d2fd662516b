package dev.gatehouse.cli;

import dev.gatehouse.doctor.JsonReport;
import dev.gatehouse.doctor.Report;
import dev.gatehouse.doctor.SarifReport;
import dev.gatehouse.doctor.Severity;
import dev.gatehouse.doctor.TextReport;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * The output options doctor, scan and models verify share: format and the exit-status threshold.
 */
final class ReportOptions {

  @Option(names = "--json", description = "Print one JSON object instead of text.")
  boolean json;

  @Option(
      names = "--sarif",
      description = "Print SARIF 2.1.0 (for code-scanning dashboards) instead of text.")
  boolean sarif;

  @Option(
      names = "--fail-on",
      paramLabel = "SEVERITY",
      description =
          "Exit with status 1 when a finding is at or above this severity: info, low, medium, high or critical.")
  @Nullable String failOn;

  /** The --fail-on severity, or this command's default. */
  Severity failOn(Severity defaultSeverity) {
    if (failOn == null) {
      return defaultSeverity;
    }
    Severity s = Severity.parse(failOn);
    if (s == null) {
      throw new Main.UsageError(
          "--fail-on: " + failOn + " (expected: info, low, medium, high or critical)");
    }
    return s;
  }

  /** Checks the format options before any work is done. */
  void validate() {
    if (json && sarif) {
      throw new Main.UsageError(
          "--json, --sarif: both given (expected: at most one output format)");
    }
  }

  String render(Report r) {
    return json ? JsonReport.render(r) : sarif ? SarifReport.render(r) : TextReport.render(r);
  }
}

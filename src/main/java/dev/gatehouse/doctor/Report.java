package dev.gatehouse.doctor;

import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The result of one {@code doctor}, {@code scan} or {@code models verify} run: what was examined,
 * notes on what was skipped and why, the findings (most severe first), and errors that kept part of
 * the run from completing. Rendered by {@link TextReport}, {@link JsonReport} and {@link
 * SarifReport}; all three show the same content.
 *
 * @param command {@code doctor}, {@code scan} or {@code models verify}
 * @param toolVersion Gatehouse's version, for SARIF and JSON
 * @param generatedAt when the run ended
 * @param failOn the lowest severity that makes the exit status 1
 * @param checked what was examined
 * @param notes what was skipped or assumed, and why
 * @param findings the problems found, in {@link Finding#ORDER}
 * @param errors what could not be done at all; any error makes the exit status 2
 */
public record Report(
    String command,
    String toolVersion,
    Instant generatedAt,
    Severity failOn,
    List<Subject> checked,
    List<String> notes,
    List<Finding> findings,
    List<String> errors) {

  /** Exit status when nothing at or above {@code failOn} was found. */
  public static final int CLEAN = 0;

  /** Exit status when something at or above {@code failOn} was found. */
  public static final int FINDINGS = 1;

  /** Exit status when the run could not complete. */
  public static final int ERROR = 2;

  public Report {
    checked = List.copyOf(checked);
    notes = List.copyOf(notes);
    findings = findings.stream().sorted(Finding.ORDER).toList();
    errors = List.copyOf(errors);
  }

  /** How many findings are at or above {@code failOn}. */
  public int failing() {
    return (int) findings.stream().filter(f -> f.severity().atLeast(failOn)).count();
  }

  /** 2 on any error, else 1 when something is at or above {@code failOn}, else 0. */
  public int exitStatus() {
    if (!errors.isEmpty()) {
      return ERROR;
    }
    return failing() > 0 ? FINDINGS : CLEAN;
  }

  /** Finding counts per severity, every severity present (zero when none). */
  public Map<Severity, Integer> counts() {
    Map<Severity, Integer> counts = new EnumMap<>(Severity.class);
    for (Severity s : Severity.values()) {
      counts.put(s, 0);
    }
    findings.forEach(f -> counts.merge(f.severity(), 1, Integer::sum));
    return counts;
  }
}

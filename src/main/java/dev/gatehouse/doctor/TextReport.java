package dev.gatehouse.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The text form of a {@link Report}, for a person at a terminal: what was checked, notes, then each
 * finding with its evidence and fix, and a last line that says what the exit status means. Plain
 * text only (no colour), so it can be pasted into a ticket and compared in golden files.
 */
public final class TextReport {

  private TextReport() {}

  public static String render(Report r) {
    StringBuilder b = new StringBuilder();
    b.append("gatehouse ").append(r.command()).append(" (").append(r.generatedAt()).append(")\n");
    if (!r.checked().isEmpty()) {
      b.append("\nChecked\n");
      for (Subject s : r.checked()) {
        b.append("  ").append(s.kind()).append(": ").append(s.name()).append('\n');
        for (Subject.Fact f : s.facts()) {
          b.append("      ").append(f.label()).append(": ").append(f.value()).append('\n');
        }
      }
    }
    list(b, "Notes", r.notes());
    list(b, "Errors", r.errors());
    b.append('\n');
    if (r.findings().isEmpty()) {
      b.append("No findings.\n");
    } else {
      b.append("Findings: ")
          .append(r.findings().size())
          .append(" (")
          .append(summary(r.counts()))
          .append(")\n");
      for (Finding f : r.findings()) {
        b.append('\n');
        b.append(f.severity().name())
            .append(' ')
            .append(f.id())
            .append(": ")
            .append(f.subject())
            .append('\n');
        b.append("  ").append(f.title()).append('\n');
        if (!f.evidence().isEmpty()) {
          b.append("  evidence:\n");
          for (String e : f.evidence()) {
            b.append("    - ").append(e).append('\n');
          }
        }
        if (!f.fix().isEmpty()) {
          b.append("  fix:\n");
          for (String line : f.fix().split("\n", -1)) {
            b.append(line.isEmpty() ? "" : "    " + line).append('\n');
          }
        }
      }
    }
    b.append('\n').append(result(r)).append('\n');
    return b.toString();
  }

  /** The closing line: how many findings count against --fail-on and what the exit status is. */
  static String result(Report r) {
    String failOn = r.failOn().label();
    int n = r.failing();
    String findings = n == 0 ? "no findings" : n == 1 ? "1 finding" : n + " findings";
    String line = "Result: " + findings + " at or above " + failOn + " (--fail-on " + failOn + ")";
    if (!r.errors().isEmpty()) {
      line += "; " + r.errors().size() + (r.errors().size() == 1 ? " error" : " errors");
    }
    return line + ": exit status " + r.exitStatus() + ".";
  }

  private static void list(StringBuilder b, String heading, List<String> items) {
    if (items.isEmpty()) {
      return;
    }
    b.append('\n').append(heading).append('\n');
    for (String n : items) {
      b.append("  - ").append(n).append('\n');
    }
  }

  private static String summary(Map<Severity, Integer> counts) {
    List<String> parts = new ArrayList<>();
    for (Severity s :
        List.of(Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)) {
      int n = counts.getOrDefault(s, 0);
      if (n > 0) {
        parts.add(n + " " + s.name().toLowerCase(Locale.ROOT));
      }
    }
    return String.join(", ", parts);
  }
}

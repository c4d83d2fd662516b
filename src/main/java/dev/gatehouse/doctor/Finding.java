package dev.gatehouse.doctor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One problem found by {@code doctor}, {@code scan} or {@code models verify}: a stable id (see
 * {@code docs/doctor.md}), a severity, what it is about, the evidence that shows it, and the exact
 * fix. Immutable; the {@code with*} methods return copies.
 *
 * @param id stable rule id such as {@code GH-EXPOSED-WILDCARD}; alert rules match on it
 * @param severity how bad it is here (the same rule can be worse in one place than another)
 * @param subject what the finding is about: a server, a key, a file, a model
 * @param title one line saying what is wrong
 * @param evidence what was observed, one fact per entry, each checkable by the operator
 * @param fix what to do, as exact as the facts allow (commands, settings, file names)
 * @param location a file path or URL for SARIF and editors, or null
 */
public record Finding(
    String id,
    Severity severity,
    String subject,
    String title,
    List<String> evidence,
    String fix,
    @Nullable String location) {

  /** Most severe first, then by id and subject, so output is stable from run to run. */
  public static final Comparator<Finding> ORDER =
      Comparator.comparing(Finding::severity)
          .reversed()
          .thenComparing(Finding::id)
          .thenComparing(Finding::subject);

  public Finding {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(title, "title");
    evidence = List.copyOf(evidence);
    fix = fix == null ? "" : fix;
  }

  /** A finding of this rule with no evidence or fix yet. */
  public static Finding of(Rule rule, Severity severity, String subject) {
    return new Finding(rule.id(), severity, subject, rule.title(), List.of(), "", null);
  }

  public Finding withEvidence(String... more) {
    return withEvidence(Arrays.asList(more));
  }

  public Finding withEvidence(List<String> more) {
    List<String> all = new ArrayList<>(evidence);
    all.addAll(more);
    return new Finding(id, severity, subject, title, all, fix, location);
  }

  public Finding withFix(String newFix) {
    return new Finding(id, severity, subject, title, evidence, newFix, location);
  }

  public Finding withTitle(String newTitle) {
    return new Finding(id, severity, subject, newTitle, evidence, fix, location);
  }

  public Finding withLocation(@Nullable String newLocation) {
    return new Finding(id, severity, subject, title, evidence, fix, newLocation);
  }
}

package dev.gatehouse.alerts;

import dev.gatehouse.config.Values;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One alert rule, written in one line:
 *
 * <pre>NAME: (count | sum tokens | sum bytes) EVENT [where COND [and COND]...] [by FIELD]
 *       (&gt; | &gt;=) NUMBER [in DURATION] [cooldown DURATION] [severity info|warning|critical]
 * </pre>
 *
 * <p>For example {@code auth_failures_per_ip: count requests where reason=auth.* by ip >= 5 in 1m}.
 * A condition is {@code FIELD=V1|V2} or {@code FIELD!=V1|V2}; a value ending in {@code *} matches
 * by prefix. The window defaults to 1m and the cooldown to 10m. Immutable.
 *
 * @param measure what is added up per event: {@code count} (1), {@code tokens} (in + out) or {@code
 *     bytes} (in + out)
 * @param groupBy the field events are grouped by, or null for one group
 */
public record AlertRule(
    String name,
    String measure,
    String event,
    List<Condition> where,
    @Nullable String groupBy,
    boolean strictlyAbove,
    long threshold,
    Duration window,
    Duration cooldown,
    String severity,
    String text) {

  /** Events a rule can watch. */
  public static final Set<String> EVENTS =
      Set.of(
          "requests",
          "key_new_network",
          "upstream_down",
          "upstream_up",
          "dependency_down",
          "dependency_up",
          "posture_finding");

  /** Fields events carry (not every event carries every field). */
  public static final Set<String> FIELDS =
      Set.of(
          "ip",
          "key",
          "key_name",
          "op",
          "model",
          "status",
          "decision",
          "reason",
          "path",
          "method",
          "off_hours",
          "network",
          "upstream",
          "dependency",
          "finding",
          "finding_severity",
          "subject");

  private static final Set<String> SEVERITIES = Set.of("info", "warning", "critical");

  /** One condition on a field. */
  public record Condition(String field, boolean negated, List<String> values) {

    boolean test(Event e) {
      return test(e.field(field));
    }

    /**
     * True when the field's value (null: the event has none) meets the condition. Allocates
     * nothing: a prefix is compared in place rather than cut out of the pattern.
     */
    boolean test(@Nullable String v) {
      boolean any = false;
      if (v != null) {
        for (int i = 0; i < values.size(); i++) { // by index: no iterator per request
          String want = values.get(i);
          if (want.endsWith("*")
              ? v.regionMatches(0, want, 0, want.length() - 1) // starts with want less its *
              : v.equals(want)) {
            any = true;
            break;
          }
        }
      }
      return any != negated;
    }
  }

  /** True when the event is one this rule watches and it meets every condition. */
  public boolean matches(Event e) {
    if (!event.equals(e.type())) {
      return false;
    }
    for (int i = 0; i < where.size(); i++) {
      if (!where.get(i).test(e)) {
        return false;
      }
    }
    return true;
  }

  /** What an event with these tokens and bytes adds to its group's total. */
  long amount(long tokens, long bytes) {
    return switch (measure) {
      case "tokens" -> Math.max(0, tokens);
      case "bytes" -> Math.max(0, bytes);
      default -> 1;
    };
  }

  /** True when a group's total over the window fires the rule. */
  boolean crossed(long total) {
    return strictlyAbove ? total > threshold : total >= threshold;
  }

  /**
   * Parses one rule.
   *
   * @throws IllegalArgumentException saying what is wrong and what was expected
   */
  public static AlertRule parse(String line) {
    String text = line.strip();
    int colon = text.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("expected NAME: followed by the rule");
    }
    String name = text.substring(0, colon).strip();
    if (!name.matches("[a-z0-9_]{1,64}")) {
      throw new IllegalArgumentException("the name '" + name + "' must be 1-64 of a-z, 0-9 and _");
    }
    List<String> w = new ArrayList<>(List.of(text.substring(colon + 1).strip().split("\\s+")));
    Tokens t = new Tokens(w);

    String measure = "count";
    String first = t.next("count, sum tokens or sum bytes");
    if (first.equals("sum")) {
      measure = t.next("tokens or bytes");
      if (!measure.equals("tokens") && !measure.equals("bytes")) {
        throw new IllegalArgumentException("sum takes tokens or bytes, not '" + measure + "'");
      }
    } else if (!first.equals("count")) {
      throw new IllegalArgumentException(
          "expected count, sum tokens or sum bytes, not '" + first + "'");
    }
    String event = t.next("an event: " + String.join(", ", sorted(EVENTS)));
    if (!EVENTS.contains(event)) {
      throw new IllegalArgumentException(
          "unknown event '"
              + event
              + "' (expected one of "
              + String.join(", ", sorted(EVENTS))
              + ")");
    }
    List<Condition> where = new ArrayList<>();
    if (t.peekIs("where")) {
      t.next("");
      where.add(condition(t.next("a condition FIELD=VALUE")));
      while (t.peekIs("and")) {
        t.next("");
        where.add(condition(t.next("a condition FIELD=VALUE")));
      }
    }
    String groupBy = null;
    if (t.peekIs("by")) {
      t.next("");
      groupBy = field(t.next("a field to group by"));
    }
    String op = t.next("> or >= and a threshold");
    if (!op.equals(">") && !op.equals(">=")) {
      throw new IllegalArgumentException("expected > or >= before the threshold, not '" + op + "'");
    }
    String n = t.next("a threshold");
    if (!n.matches("[0-9]{1,15}")) {
      throw new IllegalArgumentException("the threshold must be a whole number, not '" + n + "'");
    }
    long threshold = Long.parseLong(n);
    Duration window = Duration.ofMinutes(1);
    Duration cooldown = Duration.ofMinutes(10);
    String severity = "warning";
    while (t.hasNext()) {
      String word = t.next("");
      switch (word) {
        case "in" -> window = duration(t.next("a window such as 1m"), "window");
        case "cooldown" -> cooldown = duration(t.next("a cooldown such as 10m"), "cooldown");
        case "severity" -> {
          severity = t.next("info, warning or critical");
          if (!SEVERITIES.contains(severity)) {
            throw new IllegalArgumentException(
                "severity must be info, warning or critical, not '" + severity + "'");
          }
        }
        default ->
            throw new IllegalArgumentException(
                "unexpected '" + word + "' (expected in, cooldown or severity)");
      }
    }
    if (window.isZero() || window.compareTo(Duration.ofDays(1)) > 0) {
      throw new IllegalArgumentException("the window must be between 1s and 1d");
    }
    if (!op.equals(">") && threshold == 0) {
      throw new IllegalArgumentException("a threshold of >= 0 would fire on nothing; use >= 1");
    }
    return new AlertRule(
        name,
        measure,
        event,
        List.copyOf(where),
        groupBy,
        op.equals(">"),
        threshold,
        window,
        cooldown,
        severity,
        text.substring(colon + 1).strip());
  }

  private static Condition condition(String c) {
    boolean negated = c.contains("!=");
    int eq = c.indexOf(negated ? "!=" : "=");
    if (eq <= 0 || eq == c.length() - (negated ? 2 : 1)) {
      throw new IllegalArgumentException(
          "expected a condition FIELD=VALUE or FIELD!=VALUE, not '" + c + "'");
    }
    String field = field(c.substring(0, eq));
    List<String> values = List.of(c.substring(eq + (negated ? 2 : 1)).split("\\|"));
    if (values.stream().anyMatch(String::isEmpty)) {
      throw new IllegalArgumentException("empty value in '" + c + "'");
    }
    return new Condition(field, negated, values);
  }

  private static String field(String f) {
    String name = f.toLowerCase(Locale.ROOT);
    if (!FIELDS.contains(name)) {
      throw new IllegalArgumentException(
          "unknown field '" + f + "' (expected one of " + String.join(", ", sorted(FIELDS)) + ")");
    }
    return name;
  }

  private static Duration duration(String text, String what) {
    Duration d = Values.duration(text);
    if (d == null) {
      throw new IllegalArgumentException(
          "the " + what + " '" + text + "' is not a duration such as 30s, 1m or 1h");
    }
    return d;
  }

  private static List<String> sorted(Set<String> s) {
    return s.stream().sorted().toList();
  }

  /** The words of a rule, read left to right. */
  private static final class Tokens {
    private final List<String> words;
    private int i;

    Tokens(List<String> words) {
      this.words = words;
    }

    boolean hasNext() {
      return i < words.size() && !words.get(i).isEmpty();
    }

    boolean peekIs(String w) {
      return hasNext() && words.get(i).equals(w);
    }

    String next(String expected) {
      if (!hasNext()) {
        throw new IllegalArgumentException("the rule ends too soon (expected " + expected + ")");
      }
      return words.get(i++);
    }
  }
}

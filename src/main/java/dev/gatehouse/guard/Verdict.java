package dev.gatehouse.guard;

import java.util.EnumSet;
import java.util.Set;
import java.util.StringJoiner;

/**
 * What the detector made of a request's inspected text: the scorer's score (0 to 1), the rule
 * families that fired, and whether it counts as an attack at the model's threshold. Immutable.
 *
 * @param flagged true when the score reached the threshold or a template token was found
 */
public record Verdict(double score, Set<Family> families, boolean flagged) {

  /** Nothing inspected, or nothing found. */
  public static final Verdict CLEAN = new Verdict(0, Set.of(), false);

  public Verdict {
    families =
        families.isEmpty()
            ? Set.of()
            : java.util.Collections.unmodifiableSet(EnumSet.copyOf(families));
  }

  /** True when user content carries chat-template control tokens. */
  public boolean templateTokens() {
    return families.contains(Family.TEMPLATE_TOKENS);
  }

  /** The families' codes joined by commas, in a fixed order; empty for none. */
  public String familyCodes() {
    StringJoiner j = new StringJoiner(",");
    for (Family f : Family.values()) {
      if (families.contains(f)) {
        j.add(f.code);
      }
    }
    return j.toString();
  }

  /** The worse of two verdicts, families of both. */
  Verdict merge(Verdict o) {
    EnumSet<Family> all = EnumSet.noneOf(Family.class);
    all.addAll(families);
    all.addAll(o.families);
    return new Verdict(Math.max(score, o.score), all, flagged || o.flagged);
  }
}

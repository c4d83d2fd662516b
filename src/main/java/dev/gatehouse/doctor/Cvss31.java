package dev.gatehouse.doctor;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CVSS v3.1 base score of a vector such as {@code CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H}
 * (9.8), computed with the formulas and the Roundup function of the FIRST specification, section
 * 7.1 and Appendix A. Only the eight base metrics are read; temporal and environmental metrics,
 * when present, are accepted and ignored. {@code CVSS:3.0} vectors use the same base formulas.
 */
public final class Cvss31 {

  private static final List<String> BASE = List.of("AV", "AC", "PR", "UI", "S", "C", "I", "A");

  private Cvss31() {}

  /**
   * The base score, 0.0 to 10.0.
   *
   * @throws IllegalArgumentException saying which metric is missing or has an unknown value
   */
  public static double baseScore(String vector) {
    if (vector == null || !(vector.startsWith("CVSS:3.1/") || vector.startsWith("CVSS:3.0/"))) {
      throw new IllegalArgumentException(vector + " (expected: a CVSS:3.1/ or CVSS:3.0/ vector)");
    }
    Map<String, String> m = new HashMap<>();
    for (String part : vector.substring(9).split("/")) {
      String[] kv = part.split(":", 2);
      if (kv.length != 2 || m.put(kv[0], kv[1]) != null) {
        throw new IllegalArgumentException(
            vector + ": '" + part + "' (expected: METRIC:VALUE, each metric once)");
      }
    }
    for (String b : BASE) {
      if (!m.containsKey(b)) {
        throw new IllegalArgumentException(vector + ": base metric " + b + " is missing");
      }
    }
    boolean changed =
        switch (java.util.Objects.requireNonNull(
            m.get("S"))) { // every base metric is present (checked above)
          case "U" -> false;
          case "C" -> true;
          default -> throw bad(vector, "S");
        };
    double av = pick(vector, "AV", m, "N", 0.85, "A", 0.62, "L", 0.55, "P", 0.2);
    double ac = pick(vector, "AC", m, "L", 0.77, "H", 0.44);
    double pr =
        changed
            ? pick(vector, "PR", m, "N", 0.85, "L", 0.68, "H", 0.5)
            : pick(vector, "PR", m, "N", 0.85, "L", 0.62, "H", 0.27);
    double ui = pick(vector, "UI", m, "N", 0.85, "R", 0.62);
    double c = pick(vector, "C", m, "H", 0.56, "L", 0.22, "N", 0.0);
    double i = pick(vector, "I", m, "H", 0.56, "L", 0.22, "N", 0.0);
    double a = pick(vector, "A", m, "H", 0.56, "L", 0.22, "N", 0.0);
    double iss = 1 - (1 - c) * (1 - i) * (1 - a);
    double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
    double exploitability = 8.22 * av * ac * pr * ui;
    if (impact <= 0) {
      return 0.0;
    }
    return changed
        ? roundup(Math.min(1.08 * (impact + exploitability), 10))
        : roundup(Math.min(impact + exploitability, 10));
  }

  /** The qualitative rating of a score: none (0), low, medium, high, critical (9.0 and up). */
  public static Severity rating(double score) {
    if (score >= 9.0) {
      return Severity.CRITICAL;
    }
    if (score >= 7.0) {
      return Severity.HIGH;
    }
    if (score >= 4.0) {
      return Severity.MEDIUM;
    }
    return score > 0 ? Severity.LOW : Severity.INFO;
  }

  /**
   * Appendix A: the smallest number with one decimal that is at least the input, free of float
   * error.
   */
  static double roundup(double d) {
    long i = Math.round(d * 100000);
    if (i % 10000 == 0) {
      return i / 100000.0;
    }
    return (Math.floor(i / 10000.0) + 1) / 10.0;
  }

  private static double pick(String vector, String metric, Map<String, String> m, Object... table) {
    String v = m.get(metric);
    for (int k = 0; k < table.length; k += 2) {
      if (table[k].equals(v)) {
        return (Double) table[k + 1];
      }
    }
    throw bad(vector, metric);
  }

  private static IllegalArgumentException bad(String vector, String metric) {
    return new IllegalArgumentException(vector + ": " + metric + " has an unknown value");
  }

  /** One decimal as text, as scores are printed ({@code 9.8}). */
  public static String format(double score) {
    return BigDecimal.valueOf(score).setScale(1, RoundingMode.HALF_UP).toPlainString();
  }
}

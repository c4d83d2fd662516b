package dev.gatehouse.doctor;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * How bad a finding is, from {@code info} to {@code critical}. The order of the constants is the
 * order of severity; {@code --fail-on} compares against it.
 */
public enum Severity {
  INFO("note", "0.0"),
  LOW("note", "3.0"),
  MEDIUM("warning", "5.5"),
  HIGH("error", "8.0"),
  CRITICAL("error", "9.5");

  /** The SARIF {@code level} this maps to. */
  public final String sarifLevel;

  /**
   * The {@code security-severity} property GitHub code scanning reads (a CVSS-like score as text):
   * 9.0 and above shows as critical, 7.0 as high, 4.0 as medium, above 0 as low.
   */
  public final String securitySeverity;

  Severity(String sarifLevel, String securitySeverity) {
    this.sarifLevel = sarifLevel;
    this.securitySeverity = securitySeverity;
  }

  /** The lower-case name used in output and on the command line. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code info|low|medium|high|critical} in any case; null when it is none of them. */
  public static @Nullable Severity parse(String text) {
    if (text == null) {
      return null;
    }
    for (Severity s : values()) {
      if (s.label().equalsIgnoreCase(text.trim())) {
        return s;
      }
    }
    return null;
  }

  public boolean atLeast(Severity other) {
    return compareTo(other) >= 0;
  }

  /** This severity, lowered to {@code cap} if it is above it. */
  public Severity atMost(Severity cap) {
    return compareTo(cap) > 0 ? cap : this;
  }

  /** The higher of the two. */
  public static Severity max(Severity a, Severity b) {
    return a.compareTo(b) >= 0 ? a : b;
  }
}

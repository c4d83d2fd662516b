package dev.gatehouse.audit;

import java.time.Instant;

/**
 * The formatter of audit record times ({@link AuditRecord#TIME}) that remembers the last time it
 * formatted: requests that start in the same millisecond share one string, and within one second
 * only the milliseconds are written, so that the formatter runs once a second rather than once a
 * request. The text is the formatter's, character for character. Thread-safe and lock-free: every
 * event loop may call it; the cache is one immutable value behind a volatile field.
 */
public final class AuditTimes {

  /** The last time formatted: its second's 20-character prefix and its own text. */
  private record Last(long second, String prefix, long millis, String text) {}

  /** Written by whichever thread formats a new millisecond; read by all. */
  private volatile Last last = new Last(Long.MIN_VALUE, "", Long.MIN_VALUE, "");

  /** {@code epochMillis} as {@code yyyy-MM-dd'T'HH:mm:ss.SSS'Z'} in UTC. */
  public String format(long epochMillis) {
    Last l = last;
    if (l.millis == epochMillis) {
      return l.text;
    }
    long second = Math.floorDiv(epochMillis, 1000);
    String prefix;
    if (l.second == second) {
      prefix = l.prefix;
    } else {
      String whole = AuditRecord.TIME.format(Instant.ofEpochMilli(epochMillis));
      // A year of more than four digits would not be fixed width: not cached.
      if (whole.length() != 24) {
        return whole;
      }
      prefix = whole.substring(0, 20); // "yyyy-MM-ddTHH:mm:ss."
    }
    int ms = Math.floorMod(epochMillis, 1000);
    String text =
        prefix
            + (char) ('0' + ms / 100)
            + (char) ('0' + ms / 10 % 10)
            + (char) ('0' + ms % 10)
            + 'Z';
    last = new Last(second, prefix, epochMillis, text);
    return text;
  }
}

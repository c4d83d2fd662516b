package dev.gatehouse.config;

/** Durations in the short form the settings use (90s, 5m, 2h), for log reasons. */
public final class DurationText {

  private DurationText() {}

  public static String duration(long millis) {
    if (millis % 3_600_000 == 0) {
      return millis / 3_600_000 + "h";
    }
    if (millis % 60_000 == 0) {
      return millis / 60_000 + "m";
    }
    if (millis % 1000 == 0) {
      return millis / 1000 + "s";
    }
    return millis + "ms";
  }
}

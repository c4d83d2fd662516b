package dev.gatehouse.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Parsers for the human forms of durations and sizes; each returns null when malformed. */
public final class Values {

  private Values() {}

  private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})(ms|s|m|h|d)?");
  private static final Pattern SIZE =
      Pattern.compile("([0-9]{1,12})\\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)?");

  public static @Nullable Duration duration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  public static @Nullable Long size(String text) {
    Matcher m = SIZE.matcher(text.trim());
    if (!m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "B" : m.group(2);
    long factor =
        switch (unit) {
          case "KiB" -> 1L << 10;
          case "MiB" -> 1L << 20;
          case "GiB" -> 1L << 30;
          case "TiB" -> 1L << 40;
          case "KB" -> 1_000L;
          case "MB" -> 1_000_000L;
          case "GB" -> 1_000_000_000L;
          case "TB" -> 1_000_000_000_000L;
          default -> 1L;
        };
    try {
      return Math.multiplyExact(n, factor);
    } catch (ArithmeticException e) {
      return null;
    }
  }

  /** Parses the {@code --expires} form of the CLI: a duration such as 30d or 12h. */
  public static @Nullable Duration positiveDuration(String text) {
    Duration d = duration(text);
    return d == null || d.isZero() ? null : d;
  }
}

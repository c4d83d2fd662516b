package dev.gatehouse.alerts;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The hours in which model management is expected, such as {@code Mon-Fri 08:00-18:00} in a time
 * zone; rules see {@code off_hours=true} outside them. Immutable.
 */
public record ManageHours(Set<DayOfWeek> days, LocalTime from, LocalTime to, ZoneId zone) {

  /** The form, for error messages. */
  public static final String FORM = "[DAY[-DAY]] HH:MM-HH:MM, such as Mon-Fri 08:00-18:00";

  /** True when the instant falls outside the hours. */
  public boolean outside(long epochMillis) {
    ZonedDateTime t = Instant.ofEpochMilli(epochMillis).atZone(zone);
    LocalTime time = t.toLocalTime();
    boolean inHours =
        from.isBefore(to)
            ? !time.isBefore(from) && time.isBefore(to)
            : !time.isBefore(from) || time.isBefore(to); // overnight, such as 22:00-06:00
    return !(days.contains(t.getDayOfWeek()) && inHours);
  }

  /**
   * Parses {@code [DAY[-DAY]] HH:MM-HH:MM}; days default to every day.
   *
   * @throws IllegalArgumentException when malformed
   */
  public static ManageHours parse(String text, ZoneId zone) {
    String[] parts = text.strip().split("\\s+");
    if (parts.length < 1 || parts.length > 2 || parts[0].isEmpty()) {
      throw new IllegalArgumentException("expected " + FORM);
    }
    Set<DayOfWeek> days = EnumSet.allOf(DayOfWeek.class);
    if (parts.length == 2) {
      // -1 keeps empty pieces, so "mon-" and "-" are refused rather than read as "mon" or crash
      String[] d = parts[0].split("-", -1);
      if (d.length > 2) {
        throw new IllegalArgumentException("expected " + FORM);
      }
      DayOfWeek a = day(d[0]);
      DayOfWeek b = d.length == 2 ? day(d[1]) : a;
      days = EnumSet.noneOf(DayOfWeek.class);
      for (DayOfWeek x = a; ; x = x.plus(1)) {
        days.add(x);
        if (x == b) {
          break;
        }
      }
    }
    String[] hm = parts[parts.length - 1].split("-", -1);
    if (hm.length != 2) {
      throw new IllegalArgumentException("expected " + FORM);
    }
    LocalTime from = time(hm[0]);
    LocalTime to = time(hm[1]);
    if (from.equals(to)) {
      throw new IllegalArgumentException("the hours start and end at the same time");
    }
    return new ManageHours(days, from, to, zone);
  }

  private static DayOfWeek day(String s) {
    for (DayOfWeek d : DayOfWeek.values()) {
      if (d.name().substring(0, 3).equalsIgnoreCase(s)) {
        return d;
      }
    }
    throw new IllegalArgumentException(
        "unknown day '" + s + "': days are Mon, Tue, Wed, Thu, Fri, Sat and Sun");
  }

  private static LocalTime time(String s) {
    if (!s.matches("[0-2][0-9]:[0-5][0-9]") || Integer.parseInt(s.substring(0, 2)) > 23) {
      throw new IllegalArgumentException(
          "'" + s.toLowerCase(Locale.ROOT) + "' is not a time HH:MM (00:00-23:59)");
    }
    return LocalTime.parse(s);
  }
}

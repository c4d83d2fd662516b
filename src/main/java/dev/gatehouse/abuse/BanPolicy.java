package dev.gatehouse.abuse;

import dev.gatehouse.store.BanRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * How a ban changes an address's record: escalation (each repeat doubles the last length, up to a
 * cap; a clean spell as long as the cap starts over), and merging of reasons and evidence. Pure
 * functions, shared by automatic bans and {@code gatehouse bans add}.
 */
public final class BanPolicy {

  private BanPolicy() {}

  /** What was seen of a client before it was banned. */
  public record Evidence(Instant firstSeen, long requests, List<String> paths) {
    public static Evidence none(Instant now) {
      return new Evidence(now, 0, List.of());
    }
  }

  /**
   * The ordinal of the next ban of an address: 1 for a first ban, or for one whose last ban ended
   * more than {@code maxDuration} ago; otherwise one more than before.
   */
  public static int nextTimes(@Nullable BanRecord old, Instant now, Duration maxDuration) {
    if (old == null) {
      return 1;
    }
    if (old.bannedUntil() != null && old.bannedUntil().plus(maxDuration).isBefore(now)) {
      return 1;
    }
    return old.times() + 1;
  }

  /**
   * The length of ban number {@code times}: {@code base} doubled per repeat, at most {@code max}.
   */
  public static Duration length(int times, Duration base, Duration max) {
    int doublings = Math.min(Math.max(0, times - 1), 40);
    Duration d = base;
    for (int i = 0; i < doublings && d.compareTo(max) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(max) > 0 ? max : d;
  }

  /**
   * The record after a new ban.
   *
   * @param until the new ban's end, or null for until removed by hand
   * @param times the new ban's ordinal (see {@link #nextTimes})
   */
  public static BanRecord apply(
      @Nullable BanRecord old,
      String ip,
      Instant now,
      @Nullable Instant until,
      int times,
      String source,
      String reason,
      Evidence ev) {
    if (old != null
        && old.activeAt(now)
        && (old.bannedUntil() == null || (until != null && old.bannedUntil().isAfter(until)))) {
      until = old.bannedUntil(); // never shorten a ban that is still in force
    }
    List<String> reasons = new ArrayList<>(old == null ? List.of() : old.reasons());
    reasons.remove(reason);
    reasons.add(reason);
    while (reasons.size() > BanRecord.MAX_SAMPLES) {
      reasons.remove(0); // keep the latest
    }
    List<String> paths = new ArrayList<>(old == null ? List.of() : old.samplePaths());
    for (String p : ev.paths()) {
      if (paths.size() < BanRecord.MAX_SAMPLES && !paths.contains(p)) {
        paths.add(p);
      }
    }
    Instant first =
        old == null || ev.firstSeen().isBefore(old.firstSeen()) ? ev.firstSeen() : old.firstSeen();
    Instant last = old == null || now.isAfter(old.lastSeen()) ? now : old.lastSeen();
    return new BanRecord(
        ip,
        now,
        until,
        times,
        source,
        List.copyOf(reasons),
        first,
        last,
        (old == null ? 0 : old.requests()) + ev.requests(),
        List.copyOf(paths));
  }

  /** A request path fit for a sample: printable ASCII without spaces, at most 200 characters. */
  public static String samplePath(String path) {
    if (path == null || path.isEmpty()) {
      return "-";
    }
    if (path.length() <= 200 && printable(path)) {
      return path; // nothing to replace or cut: the common case, scored per request, copies nothing
    }
    StringBuilder b = new StringBuilder(Math.min(path.length(), 200));
    for (int i = 0; i < path.length() && b.length() < 200; i++) {
      char c = path.charAt(i);
      b.append(c > 0x20 && c < 0x7f ? c : '?');
    }
    return b.toString();
  }

  private static boolean printable(String path) {
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }
}

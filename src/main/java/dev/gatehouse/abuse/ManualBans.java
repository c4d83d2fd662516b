package dev.gatehouse.abuse;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.config.Values;
import dev.gatehouse.store.BanRecord;
import dev.gatehouse.store.BanStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Bans an operator adds or lifts by hand, from {@code gatehouse bans} or the admin API: the input
 * checks and the store change, in one place. The change lands in the {@link BanStore}, which every
 * running gateway reloads from at once. Blocking (store calls): never call it on an event loop.
 */
public final class ManualBans {

  private final BanStore store;
  private final GatehouseConfig.Bans config;
  private final Clock clock;

  public ManualBans(BanStore store, GatehouseConfig.Bans config, Clock clock) {
    this.store = store;
    this.config = config;
    this.clock = clock;
  }

  /**
   * The canonical form of one address given by an operator.
   *
   * @throws IllegalArgumentException with a {@code what: value (expected: ...)} message
   */
  public static IpAddress address(@Nullable String text) {
    IpAddress a = IpAddress.parse(text == null ? null : text.trim());
    if (a == null) {
      throw new IllegalArgumentException(
          "IP: " + text + " (expected: one IPv4 or IPv6 address; ranges belong in network.deny)");
    }
    return a;
  }

  /**
   * Bans {@code ip} for {@code length} (null: until removed). A manual ban replaces the end of one
   * in force: the operator's word is the latest.
   *
   * @param names how the caller names the length and the reason in its messages ({@code --for} and
   *     {@code --reason} on the command line)
   * @throws IllegalArgumentException for an address in {@code bans.never}, a bad length or reason
   */
  public BanRecord add(
      String ip, @Nullable String length, @Nullable String reason, List<String> names) {
    IpAddress a = address(ip);
    if (config.never().contains(a)) {
      throw new IllegalArgumentException(
          "IP: " + a + " (expected: an address outside bans.never, which is never banned)");
    }
    Duration d = checkLengthAndReason(length, reason, names);
    String why = "manual" + (reason == null ? "" : ": " + reason.strip());
    Duration span = d;
    return store.updateBan(
        a.text(),
        old -> {
          Instant now = clock.instant();
          int times = BanPolicy.nextTimes(old, now, config.maxDuration());
          BanRecord base =
              old == null
                  ? null
                  : new BanRecord(
                      old.ip(),
                      old.bannedAt(),
                      now,
                      old.times(),
                      old.source(),
                      old.reasons(),
                      old.firstSeen(),
                      old.lastSeen(),
                      old.requests(),
                      old.samplePaths());
          return BanPolicy.apply(
              base,
              a.text(),
              now,
              span == null ? null : now.plus(span),
              times,
              "manual",
              why,
              BanPolicy.Evidence.none(now));
        });
  }

  /**
   * Checks a ban's length and reason as {@link #add} does, for a caller that hands them on (the CLI
   * to the admin API) and wants the same messages. Returns the length, null for until removed.
   *
   * @param names how the caller names the length and the reason in its messages
   * @throws IllegalArgumentException for a bad length or reason
   */
  public static @Nullable Duration checkLengthAndReason(
      @Nullable String length, @Nullable String reason, List<String> names) {
    Duration d = null;
    if (length != null) {
      d = Values.positiveDuration(length);
      if (d == null) {
        throw new IllegalArgumentException(
            names.get(0) + ": " + length + " (expected: a duration above zero such as 1h or 7d)");
      }
    }
    if (reason != null
        && (reason.isBlank() || reason.length() > 200 || !reason.matches("[\\x20-\\x7e]+"))) {
      throw new IllegalArgumentException(
          names.get(1) + ": " + reason + " (expected: 1-200 printable ASCII characters)");
    }
    return d;
  }

  /**
   * Lifts the ban on {@code ip} and forgets the address's history, so its next ban starts short
   * again. False when there was none.
   */
  public boolean remove(String ip) {
    return store.removeBan(address(ip).text());
  }
}

package dev.gatehouse.admin.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The limit on failed admin logins per client address: after 10 wrong tokens in a minute (a bearer
 * token or the dashboard's login form), the address is refused any token until the minute is over.
 * Admin tokens are far too long to guess; the limit keeps a guessing loop from filling the log and
 * the store's read load. Thread-safe; memory bounded.
 */
public final class LoginLimiter {

  static final int LIMIT = 10;
  static final Duration WINDOW = Duration.ofMinutes(1);

  /** At most this many addresses are tracked. */
  static final int MAX_ADDRESSES = 10_000;

  private record Window(Instant start, int failures) {}

  private final Map<String, Window> byAddress = new ConcurrentHashMap<>();
  private final Clock clock;

  public LoginLimiter(Clock clock) {
    this.clock = clock;
  }

  /** How long this address must wait before presenting a token again; empty when it may now. */
  public Optional<Duration> retryAfter(String address) {
    Instant now = clock.instant();
    Window w = byAddress.get(address);
    if (w == null) {
      // Fail closed: a table full of live failures may be a spray from many addresses; a new
      // address waits for it to drain rather than getting unlimited tries.
      return byAddress.size() >= MAX_ADDRESSES && !purge(now)
          ? Optional.of(WINDOW)
          : Optional.empty();
    }
    Instant end = w.start().plus(WINDOW);
    if (w.failures() < LIMIT || !now.isBefore(end)) {
      return Optional.empty();
    }
    Duration left = Duration.between(now, end);
    return Optional.of(left.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : left);
  }

  /** Counts one wrong token from this address. */
  public void failed(String address) {
    Instant now = clock.instant();
    if (byAddress.size() >= MAX_ADDRESSES && !byAddress.containsKey(address)) {
      purge(now);
    }
    byAddress.compute(
        address,
        (a, w) ->
            w == null || !now.isBefore(w.start().plus(WINDOW))
                ? new Window(now, 1)
                : new Window(w.start(), w.failures() + 1));
  }

  /** Drops windows that are over; true when that made room. */
  private boolean purge(Instant now) {
    byAddress.values().removeIf(w -> !now.isBefore(w.start().plus(WINDOW)));
    return byAddress.size() < MAX_ADDRESSES;
  }
}

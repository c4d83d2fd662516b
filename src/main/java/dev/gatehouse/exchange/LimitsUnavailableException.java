package dev.gatehouse.exchange;

/**
 * A failure of the shared limits (Redis, {@code limits.kind: redis}): an error, a timeout, or a
 * server that cannot be reached. Whatever waits on it refuses with {@link
 * Problem#LIMITS_UNAVAILABLE}, never with a per-gateway fallback. The message names the failure,
 * never a password.
 */
public final class LimitsUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public LimitsUnavailableException(String message) {
    super(message, null, false, false); // no stack: an outage fails every request alike
  }
}

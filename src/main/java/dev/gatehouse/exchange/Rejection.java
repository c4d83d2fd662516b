package dev.gatehouse.exchange;

import org.jspecify.annotations.Nullable;

/**
 * A stage's refusal: the problem, the message shown to the client, and a finer reason kept for the
 * log only (for example why a key was invalid), which the client never sees, and for refusals that
 * pass, when to retry.
 *
 * <p>Most refusals are answered at once. A refusal of a banned client may instead close the
 * connection without an answer ({@code close}), and a tarpitted client's refusal is held back for
 * {@code delayMillis} first.
 */
public record Rejection(
    Problem problem,
    String message,
    @Nullable String logReason,
    long retryAfterSeconds,
    boolean close,
    long delayMillis) {

  public Rejection(Problem problem, String message, @Nullable String logReason) {
    this(problem, message, logReason, 0, false, 0);
  }

  public static Rejection of(Problem problem) {
    return new Rejection(problem, problem.message, null, 0, false, 0);
  }

  public static Rejection of(Problem problem, String message) {
    return new Rejection(problem, message, null, 0, false, 0);
  }

  /** A rejection whose detail goes to the log but never to the client. */
  public static Rejection logged(Problem problem, @Nullable String logReason) {
    return new Rejection(problem, problem.message, logReason, 0, false, 0);
  }

  /** A refusal the client may retry after this many seconds (sent as {@code Retry-After}). */
  public static Rejection retryAfter(Problem problem, String message, long seconds) {
    return new Rejection(problem, message, null, Math.max(1, seconds), false, 0);
  }

  /** The same refusal, delivered by closing the connection instead of answering. */
  public Rejection closing() {
    return new Rejection(problem, message, logReason, retryAfterSeconds, true, delayMillis);
  }

  /** The same refusal, delivered after {@code millis}. */
  public Rejection delayed(long millis) {
    return new Rejection(problem, message, logReason, retryAfterSeconds, close, millis);
  }
}

package dev.gatehouse.pipeline;

/**
 * A stage's refusal: the problem, the message shown to the client, and a finer reason kept for the
 * log only (for example why a key was invalid), which the client never sees, and for refusals
 * that pass, when to retry.
 */
public record Rejection(Problem problem, String message, String logReason, long retryAfterSeconds) {

  public static Rejection of(Problem problem) {
    return new Rejection(problem, problem.message, null, 0);
  }

  public static Rejection of(Problem problem, String message) {
    return new Rejection(problem, message, null, 0);
  }

  /** A rejection whose detail goes to the log but never to the client. */
  public static Rejection logged(Problem problem, String logReason) {
    return new Rejection(problem, problem.message, logReason, 0);
  }

  /** A refusal the client may retry after this many seconds (sent as {@code Retry-After}). */
  public static Rejection retryAfter(Problem problem, String message, long seconds) {
    return new Rejection(problem, message, null, Math.max(1, seconds));
  }
}

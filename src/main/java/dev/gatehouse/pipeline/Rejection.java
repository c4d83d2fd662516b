package dev.gatehouse.pipeline;

/**
 * A stage's refusal: the problem, the message shown to the client, and a finer reason kept for the
 * log only (for example why a key was invalid), which the client never sees.
 */
public record Rejection(Problem problem, String message, String logReason) {

  public static Rejection of(Problem problem) {
    return new Rejection(problem, problem.message, null);
  }

  public static Rejection of(Problem problem, String message) {
    return new Rejection(problem, message, null);
  }

  /** A rejection whose detail goes to the log but never to the client. */
  public static Rejection logged(Problem problem, String logReason) {
    return new Rejection(problem, problem.message, logReason);
  }
}

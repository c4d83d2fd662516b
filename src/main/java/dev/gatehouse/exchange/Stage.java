package dev.gatehouse.exchange;

import io.vertx.core.Future;
import org.jspecify.annotations.Nullable;

/**
 * One step of the request path. A stage does one thing to an {@link Exchange} and answers with a
 * future of:
 *
 * <ul>
 *   <li>{@code null}: go on to the next stage;
 *   <li>a {@link Rejection}: refuse the request with it (the pipeline answers; nothing later runs);
 *   <li>{@link #ANSWERED}: the stage answered the request itself (a CORS preflight, a health
 *       probe); nothing later runs.
 * </ul>
 *
 * <p>A stage that decides at once returns an already completed future ({@link #next()} or {@link
 * #refuse}), and the pipeline then goes on without a callback. A failed future, or an exception out
 * of {@code apply}, refuses the request with the stage's own failure problem (fail closed). Stages
 * never call each other: the order lives in one list ({@code gateway/Pipeline}). Called on the
 * request's event loop; a stage that waits on something remote returns a pending future and never
 * blocks.
 */
@FunctionalInterface
public interface Stage {

  /** The stage answered the request itself; compared by identity. */
  Rejection ANSWERED = new Rejection(Problem.INTERNAL, "answered by the stage", null);

  Future<Rejection> apply(Exchange x);

  /** The answer "go on", already complete. */
  static Future<Rejection> next() {
    return Future.succeededFuture();
  }

  /** Go on when {@code r} is null, else refuse with it; already complete. */
  static Future<Rejection> refuse(@Nullable Rejection r) {
    return r == null ? Future.succeededFuture() : Future.succeededFuture(r);
  }

  /**
   * When a stage runs: before the request body is read, or after it (the body is on the exchange).
   */
  enum Phase {
    HEAD,
    BODY
  }

  /**
   * A stage in its place: its name (for the log and the docs), its phase, and the problem that a
   * failure inside it is answered with, so that a failure is never read as another stage's.
   */
  record Step(String name, Phase phase, Problem onFailure, Stage stage) {

    public static Step head(String name, Stage stage) {
      return new Step(name, Phase.HEAD, Problem.INTERNAL, stage);
    }

    public static Step body(String name, Stage stage) {
      return new Step(name, Phase.BODY, Problem.INTERNAL, stage);
    }

    /** The same step, whose failures are answered with {@code problem}. */
    public Step failingAs(Problem problem) {
      return new Step(name, phase, problem, stage);
    }
  }
}

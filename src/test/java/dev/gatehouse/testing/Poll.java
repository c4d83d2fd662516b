package dev.gatehouse.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waiting in a test for what another thread or process does: a generous bound, not a timing
 * assertion.
 */
public final class Poll {

  private Poll() {}

  /** Returns once {@code done} holds; fails the test when it does not within {@code within}. */
  public static void until(String what, Duration within, BooleanSupplier done)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(what + ": not within " + within.toMillis() + " ms");
      }
      Thread.sleep(10);
    }
  }
}

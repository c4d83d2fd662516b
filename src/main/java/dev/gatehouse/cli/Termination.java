package dev.gatehouse.cli;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * SIGTERM and SIGINT for {@code serve}: drain the running server ({@link Main.Running#drain}: stop
 * accepting, let requests in flight finish within {@code shutdown.grace}, write their audit
 * records, flush usage), then exit 0. Without a handler the JVM would run the shutdown hook at
 * once, which closes every connection mid-stream, and exit 143.
 */
final class Termination {

  private static final Logger LOG = Logger.getLogger("gatehouse");

  private Termination() {}

  /**
   * Installs the handlers for {@code running}. Where signals are not available (another platform,
   * {@code -Xrs}), the shutdown hook still closes the server, without a drain.
   */
  static void install(Main.Running running) {
    AtomicBoolean begun = new AtomicBoolean();
    Runnable onSignal =
        () -> {
          if (!begun.compareAndSet(false, true)) {
            LOG.info("already draining; the process exits when the drain ends");
            return;
          }
          // Off the signal's own thread: the drain blocks for up to the grace.
          Thread.ofPlatform().name("gatehouse-drain").start(() -> System.exit(drain(running)));
        };
    try {
      Hangup.handle("TERM", onSignal);
      Hangup.handle("INT", onSignal);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.warning("SIGTERM cannot drain here (" + e + "); a stop closes connections at once");
    }
  }

  /** Drains and closes {@code running}; the exit status: 0, or 1 when the close failed. */
  static int drain(Main.Running running) {
    try {
      running.drain();
      return 0;
    } catch (RuntimeException e) {
      LOG.severe("shutdown failed: " + e);
      return 1;
    }
  }
}

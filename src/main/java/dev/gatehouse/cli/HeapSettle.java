package dev.gatehouse.cli;

import io.vertx.core.Vertx;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.Set;

/**
 * One full collection a moment after a serve's listeners are up, when the JVM runs Serial, so that
 * the load that follows meets a young generation sized for it rather than for start-up.
 *
 * <p>Serial sizes its young generation only at a full collection, from the old generation's size
 * then (with the launcher's {@code -XX:NewRatio=1}, as large as it). From the launcher's 16 MiB
 * initial heap a start leaves it at a few MiB, whose survivor spaces cannot hold what 64 requests
 * in flight keep between two young collections: under load that overflowed into the old generation,
 * which grew to some 260 MiB of garbage before Serial first collected it, about a minute in, with
 * 30-50% more CPU per request until then and the RSS of that garbage kept afterwards. One
 * collection at idle, after start-up's garbage is dead, sizes both generations from the gateway's
 * own live set instead (with the launcher's {@code -XX:MinHeapFreeRatio=70}, a young generation of
 * about 34 MiB here); its pages are touched only as requests allocate ({@code
 * docs/configuration.md}, "The first minute of load").
 *
 * <p>A pause of 16-27 ms here, once. Parallel and G1 size their young generation as they go, so
 * they get none. {@code -XX:+DisableExplicitGC} in {@code GATEHOUSE_JAVA_OPTS} turns it off.
 */
final class HeapSettle {

  /** After the listeners are up: a start's own first requests and checks go first. */
  static final Duration DELAY = Duration.ofSeconds(1);

  /** Serial's two collectors, as the JVM names them: young ("Copy") and full. */
  private static final Set<String> SERIAL = Set.of("Copy", "MarkSweepCompact");

  private HeapSettle() {}

  /** True for Serial, the collector that sizes its young generation only when it collects fully. */
  static boolean sizesYoungOnlyWhenFull(Collection<String> collectors) {
    return !collectors.isEmpty() && SERIAL.containsAll(collectors);
  }

  /** Schedules the collection on a worker of {@code vertx}, if this JVM runs Serial. */
  static void schedule(Vertx vertx) {
    if (!sizesYoungOnlyWhenFull(
        ManagementFactory.getGarbageCollectorMXBeans().stream()
            .map(GarbageCollectorMXBean::getName)
            .toList())) {
      return;
    }
    vertx.setTimer(
        DELAY.toMillis(),
        id ->
            vertx.executeBlocking(
                () -> {
                  System.gc();
                  return Boolean.TRUE;
                },
                false));
  }
}

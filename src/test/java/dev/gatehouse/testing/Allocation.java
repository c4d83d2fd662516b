package dev.gatehouse.testing;

import java.lang.management.ManagementFactory;

/**
 * What a piece of work allocates on the calling thread, counted by the JVM: exact, and independent
 * of the machine's load, so a test may bound it where it may never bound time.
 */
public final class Allocation {

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private Allocation() {}

  /** The bytes {@code work} allocates per run over {@code runs} runs, after {@code warmup} more. */
  public static double bytesPer(Runnable work, int warmup, int runs) {
    for (int i = 0; i < warmup; i++) {
      work.run();
    }
    long before = THREADS.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < runs; i++) {
      work.run();
    }
    return (THREADS.getCurrentThreadAllocatedBytes() - before) / (double) runs;
  }
}

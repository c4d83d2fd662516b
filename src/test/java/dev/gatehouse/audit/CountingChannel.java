package dev.gatehouse.audit;

import dev.gatehouse.testing.ForwardingFileChannel;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test seam for the audit file (through {@link AuditWriter#useFileOpener}): a file channel that
 * counts its writes and fsyncs ({@link #force}), and can hold fsyncs until the test opens a gate or
 * fail them as a disk with a write-back error would. The counters and switches are a {@link
 * Seam}'s, shared by every channel it opens.
 */
final class CountingChannel extends ForwardingFileChannel {

  /** What the test sees and sets, for every channel opened through {@link #opener}. */
  static final class Seam {
    final AtomicInteger forces = new AtomicInteger();
    final AtomicInteger writes = new AtomicInteger();

    /** Counted down when an fsync starts. */
    final CountDownLatch forceStarted = new CountDownLatch(1);

    /** Fsyncs wait for it: closed (count 1) when made with {@code holdFsyncs}. */
    final CountDownLatch gate;

    /** While set, fsyncs fail as after a write-back error. */
    final AtomicBoolean failForce = new AtomicBoolean();

    Seam(boolean holdFsyncs) {
      gate = new CountDownLatch(holdFsyncs ? 1 : 0);
    }

    AuditWriter.FileOpener opener() {
      return path ->
          new CountingChannel(
              FileChannel.open(
                  path,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.WRITE,
                  StandardOpenOption.APPEND),
              this);
    }
  }

  private final Seam seam;

  private CountingChannel(FileChannel d, Seam seam) {
    super(d);
    this.seam = seam;
  }

  @Override
  protected void beforeWrite() {
    seam.writes.incrementAndGet();
  }

  @Override
  public void force(boolean metaData) throws IOException {
    seam.forceStarted.countDown();
    try {
      if (!seam.gate.await(30, TimeUnit.SECONDS)) {
        throw new IOException("test gate never opened");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    if (seam.failForce.get()) {
      throw new IOException("Input/output error");
    }
    delegate.force(metaData);
    seam.forces.incrementAndGet();
  }
}

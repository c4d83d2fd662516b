package dev.gatehouse.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
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
final class CountingChannel extends FileChannel {

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

  private final FileChannel d;
  private final Seam seam;

  private CountingChannel(FileChannel d, Seam seam) {
    this.d = d;
    this.seam = seam;
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
    d.force(metaData);
    seam.forces.incrementAndGet();
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    seam.writes.incrementAndGet();
    return d.write(src);
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    seam.writes.incrementAndGet();
    return d.write(srcs, offset, length);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return d.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return d.read(dsts, offset, length);
  }

  @Override
  public long position() throws IOException {
    return d.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    d.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return d.size();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    d.truncate(size);
    return this;
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    return d.transferTo(position, count, target);
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
    return d.transferFrom(src, position, count);
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return d.read(dst, position);
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    seam.writes.incrementAndGet();
    return d.write(src, position);
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    return d.map(mode, position, size);
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return d.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return d.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    d.close();
  }
}

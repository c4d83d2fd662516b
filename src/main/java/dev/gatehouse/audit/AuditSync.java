package dev.gatehouse.audit;

import dev.gatehouse.store.AuditStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The audit file's fsync, and the end of the file that is written but not yet fsynced (the unsynced
 * tail). With {@code audit.durability: written} or {@code batch} the writer acknowledges a batch
 * once it is written and leaves it here; the background fsync is due once the oldest unsynced write
 * is {@link #FSYNC_AFTER_NANOS} old, so that it ends within {@link AuditWriter#MAX_FSYNC_LAG}. With
 * {@code fsync} every batch is fsynced as it is written and passes through at once.
 *
 * <p>The tail keeps its rows, which go to the database copy only once fsynced: after a power loss
 * the database must never hold a record the file lost, or the next start would fork the chain. Each
 * row holds its line exactly as written, so after a failed fsync the tail's bytes are made again
 * from them (a rare path) rather than every batch's bytes being copied and kept.
 *
 * <p>The background fsync runs on a thread of its own, so that the writer goes on writing the
 * records queued meanwhile (an fsync takes a few ms, and every response waiting for its record
 * waited with it). It covers the records written when it started; those written during it stay in
 * the tail for the next. The writer waits for it before anything that needs the file durable or
 * changes it otherwise: an fsync of its own (a checkpoint, sealing, closing, a forced write), a
 * rewrite after a failure, another opener. The writer thread's, but for the counters and {@link
 * #onFsync}, which any thread may read or set, and the fsync itself.
 */
final class AuditSync implements AutoCloseable {

  /**
   * The background fsync starts once the oldest unsynced write is this old: half the bound, leaving
   * the other half for the fsync itself (a few ms; tens under load on a slow disk).
   */
  static final long FSYNC_AFTER_NANOS = AuditWriter.MAX_FSYNC_LAG.toNanos() / 2;

  private static final Logger LOG = Logger.getLogger("gatehouse.audit");

  private final AuditFiles files;
  private final AuditDbCopy db;
  private final List<AuditStore.AuditRow> rows = new ArrayList<>();
  private long bytes;
  private long sinceNanos; // when the oldest unsynced write was done; meaningful while not empty

  /**
   * A background fsync failed: the tail must be written again, and fsynced, before anything else
   * (see {@link AuditFiles#rewriteUnsynced}).
   */
  private boolean failed;

  /** How often the writer looks whether the background fsync has ended. */
  private static final long POLL_NANOS = 1_000_000;

  /**
   * The background fsync under way: of the first {@code rows} rows of the tail ({@code bytes} of
   * it), the file then {@code size} long, started at {@code startNanos} for a tail whose oldest
   * write was at {@code sinceNanos}.
   */
  private record Background(
      Future<?> done, int rows, long bytes, long size, long sinceNanos, long startNanos) {}

  private @Nullable Background background;
  private @Nullable ExecutorService fsyncThread;

  private final AtomicLong fsyncs = new AtomicLong();
  private final AtomicLong maxLagNanos = new AtomicLong();
  private volatile LongConsumer listener = lag -> {};

  AuditSync(AuditFiles files, AuditDbCopy db) {
    this.files = files;
    this.db = db;
  }

  /**
   * Adds a batch just written (not fsynced) of {@code length} bytes, the lines of {@code batchRows}
   * (which are copied), its oldest write done at {@code nanos}.
   */
  void written(int length, List<AuditStore.AuditRow> batchRows, long nanos) {
    if (batchRows.isEmpty()) {
      return;
    }
    if (rows.isEmpty()) {
      sinceNanos = nanos;
    }
    rows.addAll(batchRows);
    bytes += length;
  }

  /** Whether records wait for their fsync. */
  boolean pending() {
    return !rows.isEmpty();
  }

  /** Whether a background fsync failed and the tail waits to be written again. */
  boolean failed() {
    return failed;
  }

  /** Records written and not yet fsynced. */
  int records() {
    return rows.size();
  }

  /**
   * How long the writer may wait before the background fsync is due, or before it looks again
   * whether the one under way has ended.
   */
  long nanosUntilDue() {
    if (background != null) {
      return POLL_NANOS;
    }
    if (rows.isEmpty() || failed) {
      return Long.MAX_VALUE;
    }
    return Math.max(0, FSYNC_AFTER_NANOS - (System.nanoTime() - sinceNanos));
  }

  /**
   * Appends {@code batch} to the file, fsynced when {@code force}; after a failed fsync, the tail
   * is first written again over itself, and the append fsynced. See {@link AuditFiles#append}. A
   * forced append waits for the background fsync first: its own fsync covers the whole tail.
   */
  void append(byte[] batch, int length, boolean force) throws IOException {
    if (force || failed) {
      awaitBackground();
    }
    if (failed) {
      files.rewriteUnsynced(tail());
    }
    files.append(batch, length, force || failed);
  }

  /**
   * The unsynced tail's bytes, made again from its rows' lines: the same bytes, as each line was
   * decoded from what was written (valid UTF-8: the JSON generator escapes what it cannot encode).
   * A tail that does not come to the length written is refused rather than written over the file.
   */
  private byte[] tail() throws IOException {
    ByteArrayOutputStream tail = new ByteArrayOutputStream((int) Math.min(bytes, 1 << 30));
    for (AuditStore.AuditRow r : rows) {
      tail.writeBytes(r.line().getBytes(StandardCharsets.UTF_8));
      tail.write('\n');
    }
    if (tail.size() != bytes) {
      throw new IOException("the unsynced audit tail cannot be made again from its rows");
    }
    return tail.toByteArray();
  }

  /**
   * The background fsync: takes the end of the one under way, and starts one when it is due; or,
   * when {@code now}, fsyncs at once. False if an fsync failed.
   */
  boolean syncIfDue(boolean now) {
    if (now) {
      return sync();
    }
    Background b = background;
    if (b != null && b.done().isDone() && !awaitBackground()) {
      return false;
    }
    return background != null || nanosUntilDue() != 0 || startBackground();
  }

  /**
   * Starts the background fsync of the tail as written so far, on the fsync thread. False if it had
   * to be done here, and failed.
   */
  private boolean startBackground() {
    FileChannel channel = files.channel();
    long size;
    try {
      size = channel == null ? -1 : files.writtenSize();
    } catch (IOException e) {
      size = -1;
    }
    if (channel == null || size < 0) {
      return sync(); // a file a failed rotation closed: opened and fsynced here
    }
    if (fsyncThread == null) {
      fsyncThread =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "gatehouse-audit-fsync");
                t.setDaemon(true);
                return t;
              });
    }
    Future<?> done =
        fsyncThread.submit(
            () -> {
              channel.force(false);
              return null;
            });
    background = new Background(done, rows.size(), bytes, size, sinceNanos, System.nanoTime());
    return true;
  }

  /**
   * Waits for the background fsync under way, if any, and takes its end: its records are durable,
   * or, if it failed, the writer fails closed as after any failed fsync. False if it failed.
   */
  boolean awaitBackground() {
    Background b = background;
    if (b == null) {
      return true;
    }
    background = null;
    try {
      b.done().get();
    } catch (ExecutionException | CancellationException e) {
      failedFsync(e.getCause() != null ? e.getCause() : e);
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failedFsync(e);
      return false;
    }
    files.forced(b.size());
    synced(b.rows(), b.bytes(), b.sinceNanos(), b.startNanos());
    return true;
  }

  /**
   * Fsyncs the tail now (after the background fsync under way, if any). False if the fsync failed:
   * the records already acknowledged may not survive a power loss, so the writer fails closed until
   * the tail has been written again and fsynced.
   */
  boolean sync() {
    if (!awaitBackground()) {
      return false;
    }
    if (rows.isEmpty() || failed) {
      return !failed; // nothing to do, or the writer's retry does it
    }
    try {
      files.force();
    } catch (IOException | RuntimeException e) {
      failedFsync(e);
      return false;
    }
    synced();
    return true;
  }

  private void failedFsync(Throwable e) {
    LOG.log(
        Level.SEVERE,
        "audit fsync failed: "
            + rows.size()
            + " record(s) already written may not survive a power loss; new requests are"
            + " refused (audit.unavailable) and the records are written again and fsynced every "
            + AuditWriter.RETRY_MILLIS
            + " ms",
        e);
    failed = true;
  }

  /**
   * The tail is fsynced (by {@link #sync}, or by a write that fsynced): counts the fsync, and hands
   * its rows to the database copy. The copy is not waited for: a crash before it lands is repaired
   * from the file on the next start (catchUp).
   */
  void synced() {
    failed = false;
    synced(rows.size(), bytes, sinceNanos, System.nanoTime());
  }

  /**
   * The first {@code n} rows of the tail ({@code nBytes} of it) are fsynced; the rest, written
   * after {@code restSinceNanos}, still wait.
   */
  private void synced(int n, long nBytes, long oldestNanos, long restSinceNanos) {
    if (n == 0) {
      return;
    }
    long lag = System.nanoTime() - oldestNanos;
    fsyncs.incrementAndGet();
    maxLagNanos.accumulateAndGet(lag, Math::max);
    listener.accept(lag);
    List<AuditStore.AuditRow> done = rows.subList(0, n);
    db.add(done); // copied into its backlog
    done.clear();
    bytes -= nBytes;
    sinceNanos = restSinceNanos;
  }

  /** Stops the fsync thread; the writer has fsynced (or given up on) the tail before. */
  @Override
  public void close() {
    awaitBackground();
    if (fsyncThread != null) {
      fsyncThread.shutdown();
    }
  }

  long fsyncs() {
    return fsyncs.get();
  }

  long maxLagNanos() {
    return maxLagNanos.get();
  }

  void onFsync(LongConsumer l) {
    listener = l;
  }
}

package dev.gatehouse.audit;

import dev.gatehouse.store.AuditStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

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
 * from them (a rare path) rather than every batch's bytes being copied and kept. The writer
 * thread's, but for the counters and {@link #onFsync}, which any thread may read or set.
 */
final class AuditSync {

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

  /** How long the writer may wait before the background fsync is due. */
  long nanosUntilDue() {
    if (rows.isEmpty() || failed) {
      return Long.MAX_VALUE;
    }
    return Math.max(0, FSYNC_AFTER_NANOS - (System.nanoTime() - sinceNanos));
  }

  /**
   * Appends {@code batch} to the file, fsynced when {@code force}; after a failed fsync, the tail
   * is first written again over itself, and the append fsynced. See {@link AuditFiles#append}.
   */
  void append(byte[] batch, int length, boolean force) throws IOException {
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

  /** The background fsync: when it is due, or at once when {@code now}. False if it failed. */
  boolean syncIfDue(boolean now) {
    return !(now || nanosUntilDue() == 0) || sync();
  }

  /**
   * Fsyncs the tail now. False if the fsync failed: the records already acknowledged may not
   * survive a power loss, so the writer fails closed until the tail has been written again and
   * fsynced.
   */
  boolean sync() {
    if (rows.isEmpty() || failed) {
      return !failed; // nothing to do, or the writer's retry does it
    }
    try {
      files.force();
    } catch (IOException | RuntimeException e) {
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
      return false;
    }
    synced();
    return true;
  }

  /**
   * The tail is fsynced (by {@link #sync}, or by a write that fsynced): counts the fsync, and hands
   * its rows to the database copy. The copy is not waited for: a crash before it lands is repaired
   * from the file on the next start (catchUp).
   */
  void synced() {
    failed = false;
    if (rows.isEmpty()) {
      return;
    }
    long lag = System.nanoTime() - sinceNanos;
    fsyncs.incrementAndGet();
    maxLagNanos.accumulateAndGet(lag, Math::max);
    listener.accept(lag);
    db.add(rows); // copied into its backlog
    rows.clear();
    bytes = 0;
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

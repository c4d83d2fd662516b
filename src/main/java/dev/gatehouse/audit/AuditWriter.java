package dev.gatehouse.audit;

import dev.gatehouse.config.GatehouseConfig.AuditDurability;
import dev.gatehouse.config.GatehouseConfig.AuditRetention;
import dev.gatehouse.store.AuditLineFiles;
import dev.gatehouse.store.AuditStore;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Writes audit records on a thread of its own, in batches (group commit): each batch is chained and
 * appended to {@code audit.jsonl}; then the batch's futures are completed. The pipeline holds each
 * response's last byte until its record's future completes, so a response a client received in full
 * has its record in the file. When a future completes depends on {@link AuditDurability}:
 *
 * <ul>
 *   <li>{@code WRITTEN} (and {@code BATCH}, whose responses do not wait): once the batch is written
 *       to the file (write(2) done, in the OS page cache, which a kill -9 of the gateway does not
 *       touch). The fsync follows in the background, group-committed, on a thread of its own while
 *       the writer goes on writing: once the oldest unsynced write is half of {@link
 *       #MAX_FSYNC_LAG} old, so that it completes within that bound, or before anything that must
 *       only cover durable records (a checkpoint, sealing, closing).
 *   <li>{@code FSYNC}: once the batch is written and fsynced, so that it survives an OS crash or a
 *       power loss too.
 * </ul>
 *
 * <p>Rows go to the database copy only once fsynced. Thread-safe: {@link #append} may be called
 * from any thread.
 *
 * <p>The writer thread also does, between batches, the work of the classes it is made of:
 * checkpoints ({@link AuditCheckpoints}), sealing the active file into segments ({@link
 * AuditFiles}) and retention under a signed anchor ({@link AuditPruner}). Those are the writer
 * thread's alone, so none of them locks anything. The database copy ({@link AuditDbCopy}; the JSONL
 * file is the durable copy) runs on a thread of its own, to which the writer hands the rows once
 * fsynced.
 */
public final class AuditWriter implements AutoCloseable {

  /** The audit log file in the data directory. */
  public static final String FILE = AuditLineFiles.ACTIVE;

  /** The checkpoint file in the data directory. */
  public static final String CHECKPOINTS = "audit-checkpoints.jsonl";

  private static final Logger LOG = Logger.getLogger("gatehouse.audit");
  private static final int MAX_BATCH = 1024;

  /** While the file cannot be written, the held records are tried again this often. */
  static final long RETRY_MILLIS = 250;

  /**
   * Records kept for a later write while the file cannot be written; past it the oldest are dropped
   * (and counted).
   */
  private static final int MAX_HELD = 100_000;

  /**
   * How far the fsync may trail a write with {@code audit.durability: written} or {@code batch}:
   * what an OS crash or a power loss can lose.
   */
  public static final Duration MAX_FSYNC_LAG = Duration.ofMillis(100);

  /** How far the database copy may trail the file by default before requests are refused. */
  public static final Duration DEFAULT_DB_MAX_LAG = Duration.ofSeconds(30);

  /**
   * Opens the audit file for appending. The default is {@link FileChannel#open}; tests replace it
   * (see {@link #useFileOpener}) to inject write faults where no small file system can be mounted.
   */
  @FunctionalInterface
  public interface FileOpener {
    FileChannel open(Path path) throws IOException;
  }

  /** Records queued together (one, or an event loop's turn of them), and when they are written. */
  private record Pending(List<AuditRecord> records, CompletableFuture<Void> done) {}

  @SuppressWarnings("NullAway") // a sentinel: run() takes it out of every batch before one is read
  private static final Pending STOP = new Pending(List.of(), null);

  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong writeNanos = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AuditDurability durability;

  // Health, written by the writer thread and read by every event loop (see healthy()).
  /**
   * True from a failed write or fsync of the file until a write (and its fsync) succeeds again. A
   * failed background fsync counts: records already acknowledged may not be durable.
   */
  private volatile boolean fileFailing;

  /** A replacement opener, taken up by the writer thread before its next write. */
  private volatile @Nullable FileOpener newOpener;

  // The writer thread's (and the constructor's, before it starts).
  private final ChainHead head = new ChainHead();
  private final AuditFiles files;
  private final AuditDbCopy db;
  private final AuditSync sync;
  private final AuditCheckpoints checkpoints;
  private final AuditPruner pruner;
  private final AuditLines lines = new AuditLines();

  /**
   * Whether the database copy reads lines from these files ({@link AuditStore#readsLinesFrom}): its
   * rows then keep where each line is, not a copy of it.
   */
  private final boolean rowsPointAtLines;

  /** The records and rows of the batch being written; reused from batch to batch. */
  private final List<AuditRecord> records = new ArrayList<>();

  private final List<AuditStore.AuditRow> rows = new ArrayList<>();

  /**
   * Records whose write failed (their responses were aborted or refused), written first once the
   * file works again.
   */
  private final List<AuditRecord> held = new ArrayList<>();

  private long lastAttemptNanos;
  private volatile boolean closed;

  /**
   * Recovers from a crash, in this order: a torn final line is cut off the log and the checkpoint
   * file; the head of the chain is found (in the active file; if that is empty or missing, in the
   * newest sealed segment; if every segment was pruned, in the newest signed pruning anchor); a
   * pruning that was cut short is finished; and rows missing from the database are copied from the
   * files.
   */
  private AuditWriter(
      Path dataDir,
      AuditStore store,
      byte[] hmacKey,
      int checkpointEvery,
      Duration checkpointInterval,
      AuditRetention retention,
      Clock clock,
      Duration dbMaxLag,
      AuditDurability durability,
      AuditDbCopy.Bounds dbBounds)
      throws IOException {
    this.durability = durability;
    Path cp = dataDir.resolve(CHECKPOINTS);
    this.files = new AuditFiles(dataDir, retention.segmentBytes());
    this.rowsPointAtLines = store.readsLinesFrom(dataDir);
    AuditFiles.recoverTornTail(dataDir.resolve(FILE));
    AuditFiles.recoverTornTail(cp);
    long prunedThrough = AuditCheckpoints.newestAnchor(cp, hmacKey, head);
    files.load(head);
    this.db = new AuditDbCopy(store, files, head, dbMaxLag, cp, dbBounds);
    AuditPruner.finish(files, db, prunedThrough);
    // fsync what a killed predecessor wrote before any of it goes to the database: after a power
    // loss the database must not hold a record the file lost
    files.open();
    try {
      db.catchUp(head.seq);
      this.checkpoints =
          AuditCheckpoints.open(
              cp, db, hmacKey, checkpointEvery, checkpointInterval, clock, head.seq);
    } catch (IOException | RuntimeException e) {
      try {
        files.close(); // a log that did not open keeps no file open
      } catch (IOException c) {
        e.addSuppressed(c);
      }
      throw e;
    }
    this.sync = new AuditSync(files, db);
    this.pruner = new AuditPruner(retention, clock, files, checkpoints, db, prunedThrough);
    this.thread = new Thread(this::run, "gatehouse-audit");
    thread.setDaemon(true);
  }

  /**
   * Opens the audit log in {@code dataDir} without retention: one file that grows for ever. See
   * {@link #open(Path, AuditStore, Path, int, Duration, AuditRetention, Clock)}.
   */
  public static AuditWriter open(
      Path dataDir,
      AuditStore db,
      Path hmacKeyFile,
      int checkpointEvery,
      Duration checkpointInterval)
      throws IOException {
    return open(
        dataDir,
        db,
        hmacKeyFile,
        checkpointEvery,
        checkpointInterval,
        AuditRetention.KEEP_ALL,
        Clock.systemUTC());
  }

  /**
   * Opens the audit log in {@code dataDir} (recovering from a crash: a torn final line is cut off,
   * a pruning that was cut short is finished, and rows missing from the database are copied from
   * the files) and starts the writer thread. {@code clock} tells retention how old records are.
   */
  public static AuditWriter open(
      Path dataDir,
      AuditStore db,
      Path hmacKeyFile,
      int checkpointEvery,
      Duration checkpointInterval,
      AuditRetention retention,
      Clock clock)
      throws IOException {
    return open(
        dataDir,
        db,
        hmacKeyFile,
        checkpointEvery,
        checkpointInterval,
        retention,
        clock,
        DEFAULT_DB_MAX_LAG,
        AuditDurability.WRITTEN);
  }

  /**
   * As above; {@code dbMaxLag} is how long the database copy may trail the file before {@link
   * #healthy()} says no ({@code audit.db_max_lag}), and {@code durability} says when a record's
   * future completes ({@code audit.durability}).
   */
  public static AuditWriter open(
      Path dataDir,
      AuditStore db,
      Path hmacKeyFile,
      int checkpointEvery,
      Duration checkpointInterval,
      AuditRetention retention,
      Clock clock,
      Duration dbMaxLag,
      AuditDurability durability)
      throws IOException {
    return open(
        dataDir,
        db,
        hmacKeyFile,
        checkpointEvery,
        checkpointInterval,
        retention,
        clock,
        dbMaxLag,
        durability,
        AuditDbCopy.Bounds.PRODUCTION);
  }

  /**
   * As above, with the database copy's bounds other than production's (its backlog dropped past a
   * million rows, a catch-up from the files waited for a minute at a time): a test's way to a
   * catch-up, or a long one.
   */
  static AuditWriter open(
      Path dataDir,
      AuditStore db,
      Path hmacKeyFile,
      int checkpointEvery,
      Duration checkpointInterval,
      AuditRetention retention,
      Clock clock,
      Duration dbMaxLag,
      AuditDurability durability,
      AuditDbCopy.Bounds dbBounds)
      throws IOException {
    Files.createDirectories(dataDir);
    AuditWriter w =
        new AuditWriter(
            dataDir,
            db,
            AuditKey.loadOrCreate(hmacKeyFile),
            checkpointEvery,
            checkpointInterval,
            retention,
            clock,
            dbMaxLag,
            durability,
            dbBounds);
    w.db.start();
    w.thread.start();
    return w;
  }

  /**
   * Queues a record; the future completes once it is written to the JSONL file (with {@code fsync}
   * durability: written and fsynced), or fails if it could not be written (or the writer is
   * closed).
   */
  public CompletableFuture<Void> append(AuditRecord record) {
    return appendAll(List.of(record));
  }

  /**
   * Queues records in this order, as one hand-off: one lock and at most one wake-up of the writer
   * for all of them ({@code account.AuditTurn} hands over an event loop's records this way). The
   * future completes once all of them are written as {@link #append} says, or fails if they could
   * not be.
   */
  public CompletableFuture<Void> appendAll(List<AuditRecord> records) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new IllegalStateException("audit writer closed"));
      return done;
    }
    queue.add(new Pending(records, done));
    return done;
  }

  /**
   * Whether new requests may be served: false while the audit file cannot be written (from a failed
   * write or fsync, the background fsync included, until a retry succeeds), or while the database
   * copy has trailed the file for longer than {@code audit.db_max_lag} (locked by another process,
   * its disk full, ...). Non-blocking (two volatile reads); any thread.
   */
  public boolean healthy() {
    return !fileFailing && db.withinLag();
  }

  /** Why {@link #healthy()} says no, for the log; null when healthy. */
  public @Nullable String unhealthyReason() {
    if (fileFailing) {
      return "the audit file cannot be written or fsynced";
    }
    return db.lagReason();
  }

  /**
   * Records dropped since start because the file could not be written for too long (past the hold
   * limit).
   */
  public long dropped() {
    return dropped.get();
  }

  /**
   * Replaces how the audit file is opened: the writer thread closes the file and reopens it through
   * {@code o} before its next write. A test seam for write faults (a full disk); the production
   * opener is {@link FileChannel#open}.
   */
  public void useFileOpener(FileOpener o) {
    newOpener = o;
  }

  /** Whether the database copy dropped its backlog and waits for a catch-up from the files. */
  boolean dbCatchUpWanted() {
    return db.catchUpWanted();
  }

  /** Records written since start. */
  public long written() {
    return written.get();
  }

  /** Records queued and not yet written (counted when asked: the health API's figure). */
  public int queued() {
    int n = 0;
    for (Pending p : queue) {
      n += p.records().size();
    }
    return n;
  }

  /** Batches written since start. */
  public long batches() {
    return batches.get();
  }

  /** Fsyncs of the audit file since start (one per batch with {@code fsync} durability). */
  public long fsyncs() {
    return sync.fsyncs();
  }

  /**
   * The longest an fsync has trailed the oldest write it covered since start, in microseconds: with
   * {@code written} durability, what a power loss could have lost at worst.
   */
  public long maxFsyncLagMicros() {
    return sync.maxLagNanos() / 1000;
  }

  /** The durability this writer keeps ({@code audit.durability}). */
  public AuditDurability durability() {
    return durability;
  }

  /**
   * Tells {@code listener} the lag of every fsync from now on, in nanoseconds from the oldest write
   * it made durable; called on the writer thread, so it must not block.
   */
  public void onFsync(LongConsumer listener) {
    sync.onFsync(listener);
  }

  /** Mean time one batch took to chain and write (and fsync, with {@code fsync}), in µs. */
  public long meanBatchMicros() {
    long b = batches.get();
    return b == 0 ? 0 : writeNanos.get() / b / 1000;
  }

  private void run() {
    List<Pending> batch = new ArrayList<>();
    boolean stop = false;
    while (!stop) {
      Pending first;
      try {
        long wait = checkpoints.intervalNanos();
        if (fileFailing) {
          wait = Math.min(wait, RETRY_MILLIS * 1_000_000);
        }
        wait = Math.min(wait, sync.nanosUntilDue());
        first = queue.poll(wait, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      if (first != null) {
        batch.add(first);
        int n = first.records().size();
        for (Pending p; n < MAX_BATCH && (p = queue.poll()) != null; n += p.records().size()) {
          batch.add(p);
        }
        if (batch.remove(STOP)) {
          stop = true;
          queue.drainTo(batch); // nothing can be added after close()
        }
        if (!batch.isEmpty()) {
          write(batch);
        }
        batch.clear();
      } else if (fileFailing && System.nanoTime() - lastAttemptNanos >= RETRY_MILLIS * 1_000_000) {
        write(batch); // the retry: the held records alone
      }
      syncOrFail(sync.syncIfDue(stop));
      // A checkpoint signs, and a sealed segment keeps, only records already on disk: after a
      // power loss, a signature over records the file lost would read as tampering.
      if (checkpoints.due(head, stop) && syncOrFail(sync.sync())) {
        checkpoints.signIfDue(head, stop);
      }
      if (db.catchUpPending() && syncOrFail(sync.sync())) {
        // the catch-up copies the files to their end: all of it fsynced first, as every batch's
        // rows are before they are handed over
        db.catchUpIfWanted(head.seq);
      }
      // a catch-up that outlasted the wait still reads the files: none is sealed or pruned
      // meanwhile
      if (!db.catchUpUnderWay()) {
        if (files.full(head) && syncOrFail(sync.sync())) {
          files.sealIfFull(head);
        }
        pruner.prune();
      }
    }
    sync.close();
    db.close(Duration.ofSeconds(20)); // what the writer handed over last, and its thread
    if (!held.isEmpty()) {
      LOG.severe("audit writer stopped with " + held.size() + " record(s) it could not write");
    }
    if (sync.pending()) {
      LOG.severe(
          "audit writer stopped with "
              + sync.records()
              + " record(s) written but not fsynced: they survive unless the machine crashes"
              + " before the OS writes them back");
    }
  }

  /**
   * After an fsync: false if it failed, which fails closed like a failed write (the records already
   * acknowledged may not survive a power loss) until the writer's retry has written them again and
   * fsynced them.
   */
  private boolean syncOrFail(boolean ok) {
    if (!ok && !fileFailing) {
      fileFailing = true;
      lastAttemptNanos = System.nanoTime();
    }
    return ok;
  }

  /**
   * Writes the held records (if any) and then {@code batch} in one append, fsynced at once with
   * {@code fsync} durability, and always while the file is failing (a retry proves the disk works
   * before serving resumes); after a failed background fsync, the unsynced tail is written again
   * first, in the same append. While the file is failing, a batch that arrives before the next
   * retry is due is held at once without touching the disk: its futures fail (the responses waiting
   * on them are aborted; a refusal is sent anyway) and its records wait for the retry. Nothing is
   * dropped unless more than {@value #MAX_HELD} records are held.
   */
  private void write(List<Pending> batch) {
    FileOpener o = newOpener;
    if (o != null) {
      newOpener = null;
      sync.awaitBackground(); // its fsync runs on the channel the new opener replaces
      files.reopenWith(o);
    }
    if (fileFailing && System.nanoTime() - lastAttemptNanos < RETRY_MILLIS * 1_000_000) {
      IOException e =
          new IOException("audit file unavailable; the record is held for the next retry");
      hold(batch, e);
      return;
    }
    lastAttemptNanos = System.nanoTime();
    records.clear();
    rows.clear();
    records.addAll(held);
    for (Pending p : batch) {
      records.addAll(p.records());
    }
    long t0 = lastAttemptNanos;
    boolean force = durability == AuditDurability.FSYNC || fileFailing || sync.failed();
    long seq0 = head.seq;
    String hash0 = head.hash;
    try {
      lines.chain(records, head, rows, rowsPointAtLines ? files.appendsAt() : -1);
      sync.append(
          lines.bytes(), lines.length(), force); // a failed append leaves the file as it was
      sync.written(lines.length(), rows, t0);
    } catch (IOException | RuntimeException e) {
      if (!fileFailing) {
        LOG.log(
            Level.SEVERE,
            "audit write failed; the responses waiting on it are aborted, new requests are refused"
                + " (audit.unavailable) and the records are retried every "
                + RETRY_MILLIS
                + " ms",
            e);
      }
      fileFailing = true;
      head.seq = seq0;
      head.hash = hash0;
      // Every record of this attempt, the held ones first, waits for the next one. The retry
      // rewrites them from the old end of the file rather than trusting a second fsync, since
      // after a failed fsync the kernel may already have dropped the unwritten pages.
      held.clear();
      held.addAll(records);
      for (Pending p : batch) {
        p.done().completeExceptionally(e);
      }
      trimHeld();
      return;
    }
    if (fileFailing) {
      fileFailing = false;
      LOG.warning(
          "audit writes succeed again: "
              + held.size()
              + " held record(s) written; serving resumes");
    }
    held.clear();
    // Written (and with fsync durability, fsynced): count it and, once fsynced, hand the rows to
    // the database copy; then release the responses, so that what they see is already counted.
    if (!rows.isEmpty()) {
      head.time = rows.getLast().time();
      batches.incrementAndGet();
      written.addAndGet(rows.size());
      writeNanos.addAndGet(System.nanoTime() - t0);
    }
    if (force) {
      sync.synced();
    }
    records.clear(); // nothing kept alive until the next batch
    rows.clear();
    for (Pending p : batch) {
      p.done().complete(null);
    }
  }

  /** Fails the batch's futures and keeps its records for the next retry. */
  private void hold(List<Pending> batch, Exception e) {
    for (Pending p : batch) {
      held.addAll(p.records());
      p.done().completeExceptionally(e);
    }
    trimHeld();
  }

  private void trimHeld() {
    if (held.size() > MAX_HELD) {
      int n = held.size() - MAX_HELD;
      held.subList(0, n).clear();
      dropped.addAndGet(n);
      LOG.severe(
          "audit file unwritable for too long: "
              + n
              + " held record(s) dropped ("
              + dropped.get()
              + " in all)");
    }
  }

  /** Writes what is queued, a final checkpoint, and stops. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    queue.add(STOP);
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      files.close();
      checkpoints.close();
    } catch (IOException e) {
      LOG.warning("closing the audit log: " + e.getMessage());
    }
    LOG.fine(
        "audit: "
            + written.get()
            + " records in "
            + batches.get()
            + " batches, mean "
            + meanBatchMicros()
            + " us per batch");
  }
}

package dev.gatehouse.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig.AuditRetention;
import dev.gatehouse.store.AuditStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Writes audit records on a thread of its own, in batches (group commit): each batch is chained,
 * appended to {@code audit.jsonl} and fsynced; then the batch's futures are completed and the rows
 * inserted into the {@link AuditStore}. The pipeline holds each response's last byte until its
 * record's future completes, so a response a client received in full has a record on disk.
 *
 * <p>The JSONL file is the durable copy; the database is a queryable copy, inserted in
 * transactions of up to {@value #DB_BATCH} rows at most {@value #DB_FLUSH_MILLIS} ms after their
 * fsync, and caught up from the file on the next start if a crash falls between the two. Checkpoints (HMAC of seq and hash)
 * go to {@code audit-checkpoints.jsonl} every {@code checkpointEvery} records, after
 * {@code checkpointInterval} without one, and on close. Thread-safe: {@link #append} may be
 * called from any thread.
 *
 * <p>Retention ({@link AuditRetention}), also on the writer thread, between batches: when the
 * file passes {@code segmentBytes} it is sealed (renamed to a segment named by its first record,
 * see {@link AuditSegments}) and a new one started; the oldest sealed segments are deleted when
 * their newest record is older than {@code maxAge} or while the log is over {@code maxBytes}.
 * Before anything is deleted, a signed anchor ({@code pruned_through}, the hash of the last
 * pruned record, HMAC) is appended to the checkpoint file and fsynced; then the files go, then
 * the database rows. A crash between those steps is finished on the next start.
 */
public final class AuditWriter implements AutoCloseable {

  /** The audit log file in the data directory. */
  public static final String FILE = "audit.jsonl";
  /** The checkpoint file in the data directory. */
  public static final String CHECKPOINTS = "audit-checkpoints.jsonl";

  private static final Logger LOG = Logger.getLogger("gatehouse.audit");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BATCH = 1024;
  /** Rows inserted into the database in one transaction, at most this long after their fsync. */
  private static final int DB_BATCH = 1000;
  private static final long DB_FLUSH_MILLIS = 250;
  private static final int MAX_DB_BACKLOG = 1_000_000;
  /** While the file cannot be written, the held records are tried again this often. */
  static final long RETRY_MILLIS = 250;
  /** Records kept for a later write while the file cannot be written; past it the oldest are dropped (and counted). */
  private static final int MAX_HELD = 100_000;
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

  private static final FileOpener DEFAULT_OPENER =
      path -> FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);

  private record Pending(AuditRecord record, CompletableFuture<Void> done) {}

  private static final Pending STOP = new Pending(null, null);

  /** A sealed segment: its file, size, and its last record's seq, hash and time (null: unreadable). */
  private record Segment(Path path, long size, long lastSeq, String lastHash, Instant lastTime) {}

  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Path dataDir;
  private final Path activePath;
  private final FileChannel checkpoints;
  private final AuditStore db;
  private final byte[] hmacKey;
  private final int checkpointEvery;
  private final long checkpointIntervalNanos;
  private final AuditRetention retention;
  private final Clock clock;
  private final Thread thread;
  private final List<AuditStore.AuditRow> dbBacklog = new ArrayList<>();
  private long dbCopiedNanos = System.nanoTime();
  private final ArrayDeque<Segment> sealed = new ArrayDeque<>(); // oldest first; the writer thread's
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong writeNanos = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final long dbMaxLagNanos;

  // Health, written by the writer thread and read by every event loop (see healthy()).
  /** True from a failed write of the file until a write succeeds again. */
  private volatile boolean fileFailing;
  /** nanoTime since when the database copy has rows it lacks; 0 when it is caught up. */
  private volatile long dbBehindSinceNanos;
  /** A replacement opener, taken up by the writer thread before its next write. */
  private volatile FileOpener newOpener;

  // The writer thread's.
  private FileOpener opener = DEFAULT_OPENER;
  /** Records whose write failed (their responses were aborted or refused), written first once the file works again. */
  private final List<AuditRecord> held = new ArrayList<>();
  private long lastAttemptNanos;
  /** The backlog was dropped: the database is refilled from the files (catchUp) before anything else. */
  private boolean dbGap;
  /** The last database insert failed: the next one first drops rows the database already has. */
  private boolean dbInsertFailed;

  // Written only by the writer thread (and by open, before it starts).
  private FileChannel file; // null after a failed rotation: the next write opens it again
  private long lastSeq;
  private String lastHash = AuditChain.GENESIS;
  private String lastTime;
  private long activeFirstSeq; // the seq of the active file's first record (lastSeq + 1 while it is empty)
  private long prunedThrough; // the newest anchor's seq: records up to it were pruned
  private long dbPrunedThrough; // rows up to this seq are gone from the database too
  private long checkpointedSeq;
  private long lastCheckpointNanos = System.nanoTime();
  private volatile boolean closed;

  private AuditWriter(Path dataDir, AuditStore db, byte[] hmacKey, int checkpointEvery, Duration checkpointInterval,
      AuditRetention retention, Clock clock, Duration dbMaxLag) throws IOException {
    this.dataDir = dataDir;
    this.dbMaxLagNanos = Math.max(1, dbMaxLag.toNanos());
    this.activePath = dataDir.resolve(FILE);
    this.db = db;
    this.hmacKey = hmacKey;
    this.checkpointEvery = Math.max(1, checkpointEvery);
    this.checkpointIntervalNanos = Math.max(1, checkpointInterval.toNanos());
    this.retention = retention;
    this.clock = clock;
    recoverTornTail(activePath);
    Path cp = dataDir.resolve(CHECKPOINTS);
    recoverTornTail(cp);
    findHead(cp);
    finishPruning();
    catchUp();
    this.file = openActive();
    this.checkpoints = FileChannel.open(cp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    this.thread = new Thread(this::run, "gatehouse-audit");
    thread.setDaemon(true);
  }

  /**
   * Opens the audit log in {@code dataDir} without retention: one file that grows for ever. See
   * {@link #open(Path, AuditStore, Path, int, Duration, AuditRetention, Clock)}.
   */
  public static AuditWriter open(Path dataDir, AuditStore db, Path hmacKeyFile, int checkpointEvery, Duration checkpointInterval)
      throws IOException {
    return open(dataDir, db, hmacKeyFile, checkpointEvery, checkpointInterval, AuditRetention.KEEP_ALL, Clock.systemUTC());
  }

  /**
   * Opens the audit log in {@code dataDir} (recovering from a crash: a torn final line is cut off,
   * a pruning that was cut short is finished, and rows missing from the database are copied from
   * the files) and starts the writer thread. {@code clock} tells retention how old records are.
   */
  public static AuditWriter open(Path dataDir, AuditStore db, Path hmacKeyFile, int checkpointEvery, Duration checkpointInterval,
      AuditRetention retention, Clock clock) throws IOException {
    return open(dataDir, db, hmacKeyFile, checkpointEvery, checkpointInterval, retention, clock, DEFAULT_DB_MAX_LAG);
  }

  /**
   * As above; {@code dbMaxLag} is how long the database copy may trail the file before
   * {@link #healthy()} says no ({@code audit.db_max_lag}).
   */
  public static AuditWriter open(Path dataDir, AuditStore db, Path hmacKeyFile, int checkpointEvery, Duration checkpointInterval,
      AuditRetention retention, Clock clock, Duration dbMaxLag) throws IOException {
    Files.createDirectories(dataDir);
    AuditWriter w = new AuditWriter(dataDir, db, AuditKey.loadOrCreate(hmacKeyFile), checkpointEvery, checkpointInterval,
        retention, clock, dbMaxLag);
    w.thread.start();
    return w;
  }

  /**
   * Queues a record; the future completes once it is fsynced to the JSONL file, or fails if it
   * could not be written (or the writer is closed).
   */
  public CompletableFuture<Void> append(AuditRecord record) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new IllegalStateException("audit writer closed"));
      return done;
    }
    queue.add(new Pending(record, done));
    return done;
  }

  /**
   * Whether new requests may be served: false while the audit file cannot be written (from a
   * failed write or fsync until a retry succeeds), or while the database copy has trailed the
   * file for longer than {@code audit.db_max_lag} (locked by another process, its disk full, ...).
   * Non-blocking (two volatile reads); any thread.
   */
  public boolean healthy() {
    long behind = dbBehindSinceNanos;
    return !fileFailing && (behind == 0 || System.nanoTime() - behind <= dbMaxLagNanos);
  }

  /** Why {@link #healthy()} says no, for the log; null when healthy. */
  public String unhealthyReason() {
    if (fileFailing) {
      return "the audit file cannot be written";
    }
    long behind = dbBehindSinceNanos;
    if (behind != 0 && System.nanoTime() - behind > dbMaxLagNanos) {
      return "the audit database has trailed the file for " + (System.nanoTime() - behind) / 1_000_000 + " ms";
    }
    return null;
  }

  /** Records dropped since start because the file could not be written for too long (past the hold limit). */
  public long dropped() {
    return dropped.get();
  }

  /**
   * Replaces how the audit file is opened: the writer thread closes the file and reopens it
   * through {@code o} before its next write. A test seam for write faults (a full disk); the
   * production opener is {@link FileChannel#open}.
   */
  public void useFileOpener(FileOpener o) {
    newOpener = o;
  }

  /** Records written since start. */
  public long written() {
    return written.get();
  }

  /** Records queued and not yet written. */
  public int queued() {
    return queue.size();
  }

  /** Batches (fsyncs) since start. */
  public long batches() {
    return batches.get();
  }

  /** Mean time one batch took to chain, write and fsync, in microseconds. */
  public long meanBatchMicros() {
    long b = batches.get();
    return b == 0 ? 0 : writeNanos.get() / b / 1000;
  }

  /**
   * A crash can leave half a line at the end of the file. That record's future never completed
   * (completion waits for the fsync of the whole batch), so no response waiting on it was sent in
   * full: cutting it off loses nothing that was promised. The cut is logged.
   */
  static void recoverTornTail(Path path) throws IOException {
    if (!Files.exists(path) || Files.size(path) == 0) {
      return;
    }
    try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
      long len = f.length();
      long pos = len;
      while (pos > 0) {
        f.seek(pos - 1);
        if (f.read() == '\n') {
          break;
        }
        pos--;
      }
      if (pos < len) {
        f.setLength(pos);
        f.getFD().sync();
        LOG.warning(path.getFileName() + ": cut off " + (len - pos)
            + " bytes of a torn final record left by a crash (it was never acknowledged)");
      }
    }
  }

  /**
   * Finds the head of the chain (the last record's seq and hash): in the active file; if that is
   * empty or missing (a crash between sealing it and starting the next), in the newest sealed
   * segment; if every segment was pruned, in the newest pruning anchor. Also lists the sealed
   * segments and reads how far the log was pruned.
   */
  private void findHead(Path checkpointFile) throws IOException {
    if (Files.exists(checkpointFile)) {
      try (BufferedReader r = Files.newBufferedReader(checkpointFile, StandardCharsets.UTF_8)) {
        String line;
        while ((line = r.readLine()) != null) {
          if (!line.contains("\"pruned_through\"")) {
            continue;
          }
          JsonNode a;
          try {
            a = JSON.readTree(line);
          } catch (JsonProcessingException e) {
            continue; // not an anchor the writer made; verify reports it
          }
          long seq = a.path("pruned_through").asLong();
          String hash = a.path("hash").asText();
          // Only a signed anchor may make us delete anything: a forged one is left to verify to report.
          if (!AuditChain.anchorMac(hmacKey, seq, hash).equals(a.path("hmac").asText())) {
            LOG.warning(checkpointFile.getFileName() + ": a pruning anchor at seq " + seq
                + " has no valid signature; ignored (gatehouse audit verify reports it)");
          } else if (seq >= prunedThrough) {
            prunedThrough = seq;
            lastSeq = seq;
            lastHash = hash;
          }
        }
      }
    }
    for (Path p : AuditSegments.sealed(dataDir)) {
      Segment s = segment(p);
      if (s == null) {
        continue;
      }
      sealed.add(s);
      if (s.lastSeq() >= lastSeq) { // segments an anchor covers (a pruning cut short) are not the head
        lastSeq = s.lastSeq();
        lastHash = s.lastHash();
        lastTime = s.lastTime() == null ? null : s.lastTime().toString();
      }
    }
    String last = AuditSegments.lastLine(activePath);
    if (last != null) {
      JsonNode n = JSON.readTree(last);
      lastSeq = n.path("seq").asLong();
      lastHash = n.path("hash").asText();
      lastTime = n.path("time").asText();
      activeFirstSeq = JSON.readTree(AuditSegments.firstLine(activePath)).path("seq").asLong();
    } else {
      activeFirstSeq = lastSeq + 1;
    }
    checkpointedSeq = lastSeq; // what an earlier run left unsigned stays so: we sign only what we wrote
  }

  /** Reads a sealed segment's last record; null (and a warning) when it has none. */
  private static Segment segment(Path p) throws IOException {
    String last = AuditSegments.lastLine(p);
    if (last == null) {
      LOG.warning(p.getFileName() + ": an empty audit segment, left alone");
      return null;
    }
    JsonNode n = JSON.readTree(last);
    return new Segment(p, Files.size(p), n.path("seq").asLong(), n.path("hash").asText(), instant(n.path("time").asText()));
  }

  private static Instant instant(String time) {
    try {
      return time == null ? null : Instant.parse(time);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /**
   * A crash after a pruning anchor was written can leave files or rows it covers: delete them now.
   * (Anchors are written before anything is deleted, so the anchor is never missing.)
   */
  private void finishPruning() throws IOException {
    if (prunedThrough == 0) {
      return;
    }
    boolean deleted = false;
    while (!sealed.isEmpty() && sealed.peekFirst().lastSeq() <= prunedThrough) {
      Files.deleteIfExists(sealed.removeFirst().path());
      deleted = true;
    }
    if (deleted) {
      syncDir();
    }
    pruneDb();
  }

  /** Copies the records the database lacks into it, from the sealed segments and the active file. */
  private void catchUp() throws IOException {
    long inDb = db.lastAuditSeq();
    if (inDb >= lastSeq) {
      return;
    }
    List<AuditStore.AuditRow> missing = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    for (Segment s : sealed) {
      if (s.lastSeq() > inDb) {
        files.add(s.path());
      }
    }
    files.add(activePath);
    for (Path path : files) {
      if (!Files.exists(path)) {
        continue;
      }
      try (BufferedReader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
        String line;
        while ((line = r.readLine()) != null) {
          if (line.isEmpty()) {
            continue;
          }
          JsonNode n = JSON.readTree(line);
          if (n.path("seq").asLong() > inDb) {
            missing.add(row(n, line));
            if (missing.size() >= MAX_BATCH) {
              db.appendAudit(missing);
              missing.clear();
            }
          }
        }
      }
    }
    db.appendAudit(missing);
  }

  private FileChannel openActive() throws IOException {
    boolean created = !Files.exists(activePath);
    FileChannel f = opener.open(activePath);
    if (created) {
      syncDir(); // the new name must survive a crash as surely as the records fsynced into it
    }
    return f;
  }

  /** Makes renames, creations and deletions in the data directory durable. */
  private void syncDir() throws IOException {
    try (FileChannel d = FileChannel.open(dataDir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  private static AuditStore.AuditRow row(JsonNode n, String line) {
    return new AuditStore.AuditRow(
        n.path("seq").asLong(),
        n.path("time").asText(),
        n.path("request_id").asText(),
        n.path("ip").asText(),
        n.path("key_id").isNull() ? null : n.path("key_id").asText(),
        n.path("status").asInt(),
        n.path("reason").asText(),
        line);
  }

  private void run() {
    List<Pending> batch = new ArrayList<>();
    boolean stop = false;
    while (!stop) {
      Pending first;
      try {
        long wait = Math.min(dbBacklog.isEmpty() && !dbGap ? 1_000_000_000L : DB_FLUSH_MILLIS * 1_000_000, checkpointIntervalNanos);
        if (fileFailing) {
          wait = Math.min(wait, RETRY_MILLIS * 1_000_000);
        }
        first = queue.poll(wait, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      if (first != null) {
        batch.add(first);
        queue.drainTo(batch, MAX_BATCH - 1);
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
      if (lastSeq > checkpointedSeq
          && (stop || lastSeq - checkpointedSeq >= checkpointEvery
              || System.nanoTime() - lastCheckpointNanos >= checkpointIntervalNanos)) {
        checkpoint();
      }
      copyToDb(stop);
      maybeSeal();
      prune();
    }
    if (!held.isEmpty()) {
      LOG.severe("audit writer stopped with " + held.size() + " record(s) it could not write");
    }
  }

  /**
   * Writes the held records (if any) and then {@code batch}, in one append and one fsync. While
   * the file is failing, a batch that arrives before the next retry is due is held at once
   * without touching the disk: its futures fail (the responses waiting on them are aborted; a
   * refusal is sent anyway) and its records wait for the retry. Nothing is dropped unless more
   * than {@value #MAX_HELD} records are held.
   */
  private void write(List<Pending> batch) {
    FileOpener o = newOpener;
    if (o != null) {
      newOpener = null;
      opener = o;
      try {
        if (file != null) {
          file.close();
        }
      } catch (IOException e) {
        LOG.warning("closing the audit file to reopen it: " + e.getMessage());
      }
      file = null;
    }
    if (fileFailing && System.nanoTime() - lastAttemptNanos < RETRY_MILLIS * 1_000_000) {
      IOException e = new IOException("audit file unavailable; the record is held for the next retry");
      hold(batch, e);
      return;
    }
    lastAttemptNanos = System.nanoTime();
    List<AuditRecord> records = new ArrayList<>(held.size() + batch.size());
    records.addAll(held);
    for (Pending p : batch) {
      records.add(p.record());
    }
    long t0 = System.nanoTime();
    long seq0 = lastSeq;
    String hash0 = lastHash;
    long size0 = -1;
    List<AuditStore.AuditRow> rows = new ArrayList<>(records.size());
    try {
      if (file == null) {
        file = openActive();
      }
      size0 = file.size();
      StringBuilder b = new StringBuilder(records.size() * 400);
      for (AuditRecord r : records) {
        long seq = lastSeq + 1;
        byte[] canonical = r.canonicalJson(seq, lastHash); // serialised once
        String h = AuditChain.hash(lastHash, canonical);
        String line = AuditChain.line(canonical, h);
        lastSeq = seq;
        lastHash = h;
        b.append(line).append('\n');
        rows.add(new AuditStore.AuditRow(seq, r.time(), r.requestId(), r.ip(), r.keyId(), r.status(), r.reason(), line));
      }
      ByteBuffer buf = ByteBuffer.wrap(b.toString().getBytes(StandardCharsets.UTF_8));
      while (buf.hasRemaining()) {
        file.write(buf);
      }
      file.force(false);
    } catch (IOException | RuntimeException e) {
      if (!fileFailing) {
        LOG.log(Level.SEVERE, "audit write failed; the responses waiting on it are aborted, new requests are refused"
            + " (audit.unavailable) and the records are retried every " + RETRY_MILLIS + " ms", e);
      }
      fileFailing = true;
      lastSeq = seq0;
      lastHash = hash0;
      try {
        if (size0 >= 0 && file != null) {
          file.truncate(size0);
        }
      } catch (IOException again) {
        LOG.log(Level.SEVERE, "cannot undo a partial audit write", again);
      }
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
      LOG.warning("audit writes succeed again: " + held.size() + " held record(s) written; serving resumes");
    }
    held.clear();
    // Durable now: release the responses, then copy to the database. The copy is not waited
    // for: a crash before it lands is repaired from the file on the next start (catchUp).
    if (rows.isEmpty()) {
      return;
    }
    lastTime = rows.getLast().time();
    batches.incrementAndGet();
    written.addAndGet(rows.size());
    writeNanos.addAndGet(System.nanoTime() - t0);
    for (Pending p : batch) {
      p.done().complete(null);
    }
    if (dbBacklog.isEmpty()) {
      dbBehindSinceNanos = System.nanoTime();
    }
    dbBacklog.addAll(rows);
    copyToDb(false);
  }

  /** Fails the batch's futures and keeps its records for the next retry. */
  private void hold(List<Pending> batch, Exception e) {
    for (Pending p : batch) {
      held.add(p.record());
      p.done().completeExceptionally(e);
    }
    trimHeld();
  }

  private void trimHeld() {
    if (held.size() > MAX_HELD) {
      int n = held.size() - MAX_HELD;
      held.subList(0, n).clear();
      dropped.addAndGet(n);
      LOG.severe("audit file unwritable for too long: " + n + " held record(s) dropped (" + dropped.get() + " in all)");
    }
  }

  /**
   * Inserts the backlog into the database once it holds {@value #DB_BATCH} rows or is
   * {@value #DB_FLUSH_MILLIS} ms old (or when {@code now}): large transactions touch each index
   * page once for many rows, which costs a fraction of a commit per fsync batch. A failed insert
   * is retried with the next; past {@value #MAX_DB_BACKLOG} rows the backlog is dropped, as the
   * file holds them and the next start copies them over (catchUp).
   */
  private void copyToDb(boolean now) {
    if (dbGap) {
      try {
        dbBacklog.clear(); // all of it is in the files, which catchUp copies in order
        catchUp();
        dbGap = false;
        dbBehindSinceNanos = 0;
        LOG.warning("audit database caught up from the files");
      } catch (IOException | RuntimeException e) {
        LOG.warning("audit database catch-up failed, will retry: " + e.getMessage());
      }
      return;
    }
    if (dbBacklog.isEmpty()
        || !now && dbBacklog.size() < DB_BATCH && System.nanoTime() - dbCopiedNanos < DB_FLUSH_MILLIS * 1_000_000) {
      return;
    }
    try {
      if (dbInsertFailed) {
        // A failed batch may have left some of its rows behind (a lock that broke the batch
        // part-way, a commit reported as failed that held): never insert a row twice.
        long have = db.lastAuditSeq();
        dbBacklog.removeIf(r -> r.seq() <= have);
      }
      db.appendAudit(dbBacklog);
      dbBacklog.clear();
      dbBehindSinceNanos = 0;
      dbInsertFailed = false;
    } catch (RuntimeException e) {
      dbInsertFailed = true;
      LOG.warning("audit database insert failed, will retry: " + e.getMessage());
      if (dbBacklog.size() > MAX_DB_BACKLOG) {
        LOG.severe("audit database behind by " + dbBacklog.size() + " rows; they stay in the file and are copied from it once"
            + " the database answers");
        dbBacklog.clear();
        dbGap = true;
      }
    }
    dbCopiedNanos = System.nanoTime();
  }

  private void checkpoint() {
    ObjectNode o = JSON.createObjectNode();
    o.put("seq", lastSeq);
    o.put("hash", lastHash);
    o.put("time", clock.instant().toString());
    o.put("hmac", AuditChain.checkpointMac(hmacKey, lastSeq, lastHash));
    try {
      appendCheckpointLine(o);
      checkpointedSeq = lastSeq;
      lastCheckpointNanos = System.nanoTime();
    } catch (IOException e) {
      LOG.log(Level.SEVERE, "audit checkpoint failed", e);
    }
  }

  private void appendCheckpointLine(ObjectNode o) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap((JSON.writeValueAsString(o) + "\n").getBytes(StandardCharsets.UTF_8));
    while (buf.hasRemaining()) {
      checkpoints.write(buf);
    }
    checkpoints.force(false);
  }

  /**
   * Seals the active file once it has reached {@code segmentBytes}: its records were fsynced with
   * their batch, so it is closed, renamed atomically to its segment name, and a new active file
   * is started; the directory is fsynced so that both names survive a crash. If the rename fails,
   * writing goes on in the same file and sealing is tried again after the next batch.
   */
  private void maybeSeal() {
    try {
      if (retention.segmentBytes() <= 0 || file == null || lastSeq < activeFirstSeq
          || file.size() < retention.segmentBytes()) {
        return;
      }
    } catch (IOException e) {
      return; // the next write reports a broken file
    }
    Path segment = dataDir.resolve(AuditSegments.name(activeFirstSeq));
    try {
      long size = file.size();
      file.close();
      file = null;
      Files.move(activePath, segment, StandardCopyOption.ATOMIC_MOVE);
      sealed.add(new Segment(segment, size, lastSeq, lastHash, instant(lastTime)));
      activeFirstSeq = lastSeq + 1;
      file = openActive(); // fsyncs the directory: the rename and the new file together
    } catch (IOException e) {
      LOG.log(Level.SEVERE, "sealing the audit file as " + segment.getFileName() + " failed; writing on", e);
      try {
        if (file == null) {
          file = openActive();
        }
      } catch (IOException again) {
        LOG.log(Level.SEVERE, "cannot open " + activePath + " again; the next write will retry", again);
      }
    }
  }

  /**
   * Deletes the oldest sealed segments whose newest record is older than {@code maxAge}, or
   * while the log is over {@code maxBytes}; never the active file. A signed anchor naming the
   * last pruned record goes to the checkpoint file, fsynced, before anything is deleted.
   */
  private void prune() {
    pruneDb(); // retried here if it failed before
    if (sealed.isEmpty()) {
      return;
    }
    long total;
    try {
      total = file == null ? 0 : file.size();
    } catch (IOException e) {
      return;
    }
    for (Segment s : sealed) {
      total += s.size();
    }
    Instant oldest = retention.maxAge().isZero() ? null : clock.instant().minus(retention.maxAge());
    List<Segment> drop = new ArrayList<>();
    for (Segment s : sealed) {
      boolean old = oldest != null && s.lastTime() != null && s.lastTime().isBefore(oldest);
      boolean over = retention.maxBytes() > 0 && total > retention.maxBytes();
      if (!old && !over) {
        break;
      }
      drop.add(s);
      total -= s.size();
    }
    if (drop.isEmpty()) {
      return;
    }
    Segment last = drop.getLast();
    ObjectNode o = JSON.createObjectNode();
    o.put("pruned_through", last.lastSeq());
    o.put("hash", last.lastHash());
    o.put("time", clock.instant().toString());
    o.put("hmac", AuditChain.anchorMac(hmacKey, last.lastSeq(), last.lastHash()));
    try {
      appendCheckpointLine(o);
    } catch (IOException e) {
      LOG.log(Level.SEVERE, "audit pruning anchor failed; nothing pruned", e);
      return;
    }
    prunedThrough = last.lastSeq();
    try {
      for (Segment s : drop) {
        Files.deleteIfExists(s.path());
        sealed.removeFirst();
      }
      syncDir();
    } catch (IOException e) {
      LOG.log(Level.WARNING, "deleting pruned audit segments failed; the next start finishes it", e);
    }
    LOG.info("audit retention: pruned " + drop.size() + " segment(s), records through seq " + prunedThrough);
    pruneDb();
  }

  /** Deletes the database rows the newest anchor covers, unless that is done already. */
  private void pruneDb() {
    if (dbPrunedThrough >= prunedThrough) {
      return;
    }
    copyToDb(true); // rows still queued for the database must not land after the delete
    try {
      db.pruneAudit(prunedThrough);
      dbPrunedThrough = prunedThrough;
    } catch (RuntimeException e) {
      LOG.warning("pruning the audit database failed, will retry: " + e.getMessage());
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
      if (file != null) {
        file.close();
      }
      checkpoints.close();
    } catch (IOException e) {
      LOG.warning("closing the audit log: " + e.getMessage());
    }
    LOG.fine("audit: " + written.get() + " records in " + batches.get() + " batches, mean " + meanBatchMicros() + " us per batch");
  }
}

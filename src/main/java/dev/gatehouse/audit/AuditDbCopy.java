package dev.gatehouse.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.store.AuditStore;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The audit log's database copy: the rows of records already fsynced to the JSONL file, inserted
 * into the {@link AuditStore} in transactions of up to {@value #DB_BATCH} rows at most {@value
 * #DB_FLUSH_MILLIS} ms after their fsync. The file is the durable copy; rows a crash kept from the
 * database are copied from the files on the next start ({@link #catchUp}).
 *
 * <p>In a store that several gateways share, the signed checkpoints and pruning anchors go there
 * too ({@link AuditStore#appendCheckpoint}), each once the rows it covers are stored (else a verify
 * run meanwhile would read records cut off the end), and an anchor before the rows it prunes are
 * deleted; the ones a crash or an outage kept from the database are copied from the checkpoint file
 * the next time.
 *
 * <p>Once {@link #start}ed, the copy runs on a thread of its own ({@code gatehouse-audit-db}): the
 * writer hands it rows, checkpoint lines and prunes ({@link #add}, {@link #addCheckpoint}, {@link
 * #pruneThrough}) in order and goes on writing. On the writer's thread, a slice of SQLite inserts
 * (about a millisecond) or the checkpoint of SQLite's WAL that a commit now and then runs (several,
 * with its fsyncs) held every response waiting for its record to be written: at one connection, the
 * p90 and p99 latency. All the copy's state is that thread's alone; before {@link #start} (opening
 * the log, and tests) the same methods run on the caller's thread. {@link #withinLag} and {@link
 * #lagReason} may be read from any thread. A catch-up from the files (after the backlog was
 * dropped) runs while the writer waits for it ({@link #catchUpIfWanted}), since it reads the files
 * the writer seals and prunes: the writer neither seals nor prunes a file until it has ended.
 */
final class AuditDbCopy {

  private static final Logger LOG = Logger.getLogger("gatehouse.audit");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Rows inserted in one transaction while catching up from the files. */
  private static final int CATCH_UP_BATCH = 1024;

  /** Rows that start a copy into the database; it starts at most this long after their fsync. */
  private static final int DB_BATCH = 1000;

  /**
   * Rows inserted in one transaction. A commit writes every page the transaction touched to the
   * WAL, and the newest page of each index a row goes into is touched by every row, so a larger
   * transaction writes them less often: 1,024 rows a transaction took 18-21 % less CPU a row than
   * 128 (9.1 against 11.5 us, a bench of this table's inserts with 700-byte lines; 4,096 no less
   * than 1,024). A transaction this size holds SQLite's write lock for about 10 ms, which the
   * store's other writers (keys, bans, usage) wait out. A backlog larger than this goes in slices,
   * one a call of {@link #copy}, and the copy thread takes the rows handed to it in between. (When
   * the copy ran on the writer's thread, the slices were 128 rows: each response waited for them.)
   */
  private static final int DB_SLICE = 1024;

  private static final long DB_FLUSH_MILLIS = 250;

  static final int MAX_DB_BACKLOG = 1_000_000;

  /**
   * @param maxBacklog rows past which the backlog is dropped
   * @param catchUpWait the longest the writer waits for a catch-up from the files at a time before
   *     it goes on writing (and waits again)
   */
  record Bounds(int maxBacklog, Duration catchUpWait) {
    static final Bounds PRODUCTION = new Bounds(MAX_DB_BACKLOG, Duration.ofSeconds(60));
  }

  /** Production's bounds; smaller in tests, the way to a dropped backlog and a long catch-up. */
  private final Bounds bounds;

  private final AuditStore db;
  private final AuditFiles files;
  private final Path checkpointFile;

  /**
   * Whether the store keeps the checkpoints (a shared one), rather than the file beside it alone.
   */
  private final boolean keepsCheckpoints;

  /** A checkpoint line waiting for the database; {@code seq} the last record it covers. */
  private record Mark(long seq, boolean anchor, String line) {}

  private final List<Mark> marks = new ArrayList<>();

  /** Whether the checkpoint lines missing from the database were looked for since the start. */
  private boolean marksLoaded;

  /** Rows through this seq are in the database (as far as this writer knows). */
  private long copiedThrough;

  /**
   * The newest row handed over (or found in the files): the copy thread's view of the file's end,
   * where the writer's {@link ChainHead} moves under it.
   */
  private long handedThrough;

  private final ChainHead head;
  private final long maxLagNanos;
  private final List<AuditStore.AuditRow> backlog = new ArrayList<>();
  private long copiedNanos = System.nanoTime();

  /** A copy started and has slices left: each call of {@link #copy} inserts the next. */
  private boolean copying;

  /**
   * The backlog was dropped: the database is refilled from the files (catchUp) before anything
   * else.
   */
  private boolean gap;

  /** The last database insert failed: the next one first drops rows the database already has. */
  private boolean insertFailed;

  private long prunedThrough; // rows up to this seq are gone from the database

  /**
   * nanoTime since when the database copy has rows it lacks (handed over, or in the backlog); 0
   * when it is caught up. Read by every event loop.
   */
  private final AtomicLong behindSinceNanos = new AtomicLong();

  /** Batches of rows handed to the copy thread and not yet in its backlog. */
  private final AtomicInteger handedOver = new AtomicInteger();

  /** Work for the copy thread, in the order the writer handed it over. */
  private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();

  /** {@link #close} asked the copy thread to stop (after the work handed over before). */
  private boolean stopAsked;

  /** The copy thread, once started; until then every method runs on its caller's thread. */
  private @Nullable Thread thread;

  /** The copy thread found the backlog dropped: the writer runs a catch-up (see above). */
  private volatile boolean catchUpWanted;

  /**
   * The catch-up the writer handed over, until it has seen it end: the writer's alone. A catch-up
   * outlasting the writer's wait still reads the files.
   */
  private @Nullable CompletableFuture<Void> catchUpUnderWay;

  /**
   * @param maxLag how long the copy may trail the file before {@link #withinLag} says no
   */
  AuditDbCopy(
      AuditStore db, AuditFiles files, ChainHead head, Duration maxLag, Path checkpointFile) {
    this(db, files, head, maxLag, checkpointFile, Bounds.PRODUCTION);
  }

  /** With other bounds than production's: a test's way to a catch-up, or a long one. */
  AuditDbCopy(
      AuditStore db,
      AuditFiles files,
      ChainHead head,
      Duration maxLag,
      Path checkpointFile,
      Bounds bounds) {
    this.bounds = bounds;
    this.db = db;
    this.files = files;
    this.checkpointFile = checkpointFile;
    this.keepsCheckpoints = !db.auditInstance().equals(AuditStore.LOCAL);
    this.head = head;
    this.maxLagNanos = Math.max(1, maxLag.toNanos());
  }

  /**
   * Whether the copy trails the file by no more than {@code audit.db_max_lag}. Non-blocking (a
   * volatile read); any thread.
   */
  boolean withinLag() {
    long behind = behindSinceNanos.get();
    return behind == 0 || System.nanoTime() - behind <= maxLagNanos;
  }

  /** Why {@link #withinLag} says no, for the log; null when it says yes. Any thread. */
  @Nullable String lagReason() {
    long behind = behindSinceNanos.get();
    if (behind != 0 && System.nanoTime() - behind > maxLagNanos) {
      return "the audit database has trailed the file for "
          + (System.nanoTime() - behind) / 1_000_000
          + " ms";
    }
    return null;
  }

  /** Starts the copy thread; from now on the writer's calls hand work over to it. */
  void start() {
    Thread t = new Thread(this::run, "gatehouse-audit-db");
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  /**
   * Copies what is handed over and not yet copied, and stops the copy thread (waiting for it at
   * most {@code timeout}); what it could not copy, the next start copies from the files.
   */
  void close(Duration timeout) {
    Thread t = thread;
    if (t == null) {
      copy(true);
      return;
    }
    tasks.add(() -> stopAsked = true);
    try {
      t.join(timeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (t.isAlive()) {
      LOG.warning("the audit database copy did not finish in " + timeout + "; the next start does");
    }
  }

  /** The copy thread: the work handed over, in order, and the copies it makes due. */
  private void run() {
    while (true) {
      Runnable task;
      try {
        task = tasks.poll(pollNanos(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        return;
      }
      try {
        for (; task != null; task = tasks.poll()) {
          task.run();
        }
        if (stopAsked) {
          copy(true);
          return;
        }
        copy(false);
      } catch (RuntimeException e) {
        // each step logs and retries its own failures; anything else must not end the thread,
        // or the rows would wait for ever (the lag bound then refuses requests)
        LOG.log(Level.SEVERE, "audit database copy: unexpected failure, will retry", e);
      }
    }
  }

  /** Runs {@code work} on the copy thread, after what was handed over before; here if none. */
  private void handOver(Runnable work) {
    if (thread == null) {
      work.run();
    } else {
      tasks.add(work);
    }
  }

  /** Whether the copy thread dropped its backlog and waits for a catch-up from the files. */
  boolean catchUpWanted() {
    return catchUpWanted;
  }

  /**
   * Whether the writer has a catch-up to start or to wait for ({@link #catchUpIfWanted}). Writer
   * thread.
   */
  boolean catchUpPending() {
    return catchUpWanted || catchUpUnderWay != null;
  }

  /**
   * Whether a catch-up the writer handed over may still be reading the files: it outlasted the
   * writer's wait, and the writer has not yet seen it end. The writer seals and prunes no file
   * meanwhile (a file sealed between the catch-up's listing and its reading would be missed, and
   * its rows never copied). Writer thread.
   */
  boolean catchUpUnderWay() {
    return catchUpUnderWay != null;
  }

  /**
   * If the copy thread dropped its backlog and waits for a catch-up from the files, runs it there,
   * through record {@code through}, while the caller (the writer, which alone seals and prunes the
   * files) waits, at most {@code catchUpWait} at a time. The writer fsyncs the files first and
   * gives their end: rows reach the database only once fsynced, or a power loss could leave it
   * holding a record the file lost. The rows after it are handed over with their fsync, as every
   * batch's are ({@link #add}). A catch-up that outlasts the wait goes on ({@link
   * #catchUpUnderWay}); the next call waits for it again (to its own end, not {@code through}).
   * Writer thread.
   */
  void catchUpIfWanted(long through) {
    CompletableFuture<Void> done = catchUpUnderWay;
    if (done == null) {
      if (!catchUpWanted) {
        return;
      }
      CompletableFuture<Void> started = new CompletableFuture<>();
      catchUpUnderWay = started;
      handOver(
          () -> {
            try {
              catchUpNow(through);
            } finally {
              started.complete(null);
            }
          });
      done = started;
    }
    try {
      done.get(bounds.catchUpWait().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (TimeoutException e) {
      LOG.warning(
          "audit database catch-up from the files still under way; the writer goes on, and seals"
              + " and prunes no file until it has ended");
      return;
    } catch (ExecutionException e) {
      // cannot happen (the task completes it normally, its failures logged): ended all the same
      LOG.warning("audit database catch-up failed, will retry: " + e.getCause());
    }
    catchUpUnderWay = null;
  }

  /**
   * The longest the copy thread may wait before {@link #copy} has work: none while a copy is under
   * way, soon while rows wait.
   */
  long pollNanos() {
    if (copying && !backlog.isEmpty()) {
      return 0;
    }
    return backlog.isEmpty() && !gap && marks.isEmpty()
        ? 1_000_000_000L
        : DB_FLUSH_MILLIS * 1_000_000;
  }

  /**
   * Queues a checkpoint or anchor line just fsynced to the checkpoint file, for a store that keeps
   * them; copied by {@link #copy} once the rows it covers are stored.
   */
  void addCheckpoint(long seq, boolean anchor, String line) {
    if (keepsCheckpoints) {
      handOver(() -> marks.add(new Mark(seq, anchor, line)));
    }
  }

  /**
   * Copies the queued checkpoint lines whose records are stored, and with {@code anchors} every
   * anchor (its rows are about to be pruned). On the first call, queues first the lines of the
   * checkpoint file that the database lacks. Returns false while an anchor waits: nothing may be
   * pruned then, or a verify run elsewhere would find the oldest rows deleted without one.
   */
  private boolean copyCheckpoints(boolean anchors) {
    if (!keepsCheckpoints) {
      return true;
    }
    try {
      if (!marksLoaded) {
        loadMissingMarks();
        marksLoaded = true;
      }
      for (var it = marks.iterator(); it.hasNext(); ) {
        Mark m = it.next();
        if (m.seq() <= copiedThrough || m.anchor() && anchors) {
          db.appendCheckpoint(m.seq(), m.anchor(), m.line());
          it.remove();
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.warning(
          "copying audit checkpoints to the database failed, will retry: " + e.getMessage());
    }
    return marks.stream().noneMatch(Mark::anchor);
  }

  /** Queues, ahead of the others, the lines of the checkpoint file that the database lacks. */
  private void loadMissingMarks() throws IOException {
    if (!Files.exists(checkpointFile)) {
      return;
    }
    Set<String> have = new HashSet<>(db.checkpoints());
    List<Mark> missing = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(checkpointFile, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.isBlank() || have.contains(line)) {
          continue;
        }
        JsonNode n;
        try {
          n = JSON.readTree(line);
        } catch (IOException e) {
          continue; // not a line the writer made; verify of the file reports it
        }
        boolean anchor = n.has("pruned_through");
        long seq = anchor ? n.path("pruned_through").asLong() : n.path("seq").asLong();
        missing.add(new Mark(seq, anchor, line));
      }
    }
    Set<String> queued = new HashSet<>();
    marks.forEach(m -> queued.add(m.line()));
    missing.removeIf(m -> queued.contains(m.line()));
    marks.addAll(0, missing);
  }

  /**
   * Queues (copies) the rows of a batch that was just fsynced, and copies if enough are waiting.
   * The database is behind from now on, until the copy thread has inserted them.
   */
  void add(List<AuditStore.AuditRow> rows) {
    if (rows.isEmpty()) {
      return;
    }
    List<AuditStore.AuditRow> batch = List.copyOf(rows);
    handedOver.incrementAndGet();
    behindSinceNanos.compareAndSet(0, System.nanoTime());
    handOver(
        () -> {
          handedOver.decrementAndGet();
          for (AuditStore.AuditRow r : batch) {
            if (r.seq() > handedThrough) { // else a catch-up from the files copied it already
              backlog.add(r);
            }
          }
          handedThrough = Math.max(handedThrough, batch.getLast().seq());
          copy(false);
        });
  }

  /**
   * Caught up: not behind, unless rows were handed over meanwhile (then behind since now, which
   * misses at most the moment between the two reads).
   */
  private void caughtUp() {
    behindSinceNanos.set(0);
    if (handedOver.get() > 0) {
      behindSinceNanos.compareAndSet(0, System.nanoTime());
    }
  }

  /**
   * Inserts the backlog into the database once it holds {@value #DB_BATCH} rows or is {@value
   * #DB_FLUSH_MILLIS} ms old, a slice of {@value #DB_SLICE} rows a call until it is empty (all of
   * it when {@code now}): transactions of many rows touch each index page once for many rows, which
   * costs a fraction of a commit per fsync batch. A failed insert is retried with the next; past
   * {@value #MAX_DB_BACKLOG} rows the backlog is dropped, as the file holds them and the database
   * is refilled from the files (catchUp) once it answers.
   */
  void copy(boolean now) {
    if (gap) {
      backlog.clear(); // all of it is in the files, which catchUp copies in order
      if (thread == null) {
        catchUpNow(head.seq); // before start: nothing written since opening fsynced the file
      } else {
        catchUpWanted = true; // the writer has it run (catchUpIfWanted)
      }
      return;
    }
    if (backlog.isEmpty()) {
      copyCheckpoints(false);
      return;
    }
    if (!now
        && !copying
        && backlog.size() < DB_BATCH
        && System.nanoTime() - copiedNanos < DB_FLUSH_MILLIS * 1_000_000) {
      return;
    }
    try {
      if (insertFailed) {
        // A failed batch may have left some of its rows behind (a lock that broke the batch
        // part-way, a commit reported as failed that held): never insert a row twice.
        long have = db.lastAuditSeq();
        backlog.removeIf(r -> r.seq() <= have);
        copiedThrough = Math.max(copiedThrough, Math.min(have, handedThrough));
      }
      List<AuditStore.AuditRow> slice =
          backlog.subList(0, now ? backlog.size() : Math.min(DB_SLICE, backlog.size()));
      db.appendAudit(slice);
      if (!slice.isEmpty()) {
        copiedThrough = Math.max(copiedThrough, slice.getLast().seq());
      }
      slice.clear(); // off the backlog
      copying = !backlog.isEmpty();
      if (!copying) {
        caughtUp();
      }
      insertFailed = false;
      copyCheckpoints(false);
    } catch (RuntimeException e) {
      insertFailed = true;
      copying = false; // retried at the next poll, not at once
      LOG.warning("audit database insert failed, will retry: " + e.getMessage());
      if (backlog.size() > bounds.maxBacklog()) {
        LOG.severe(
            "audit database behind by "
                + backlog.size()
                + " rows; they stay in the file and are copied from it once"
                + " the database answers");
        backlog.clear();
        gap = true;
      }
    }
    if (!copying) {
      copiedNanos = System.nanoTime();
    }
  }

  /** The catch-up after a dropped backlog; logged, and tried again later if it fails. */
  private void catchUpNow(long through) {
    if (!gap) {
      catchUpWanted = false;
      return;
    }
    try {
      backlog.clear();
      catchUp(through);
      gap = false;
      catchUpWanted = false;
      caughtUp();
      LOG.warning("audit database caught up from the files");
    } catch (IOException | RuntimeException e) {
      LOG.warning("audit database catch-up failed, will retry: " + e.getMessage());
    }
  }

  /**
   * Copies the records the database lacks into it, from the sealed segments and the active file,
   * through record {@code through}: the files' end once fsynced. On opening the log, before {@link
   * #start} (the active file fsynced first); later only while the writer waits, which fsyncs first.
   */
  void catchUp(long through) throws IOException {
    // The end is read once, by the writer after its fsync: it waits meanwhile, but one that stopped
    // waiting (catchUpIfWanted's bound) hands over what it writes after this, by add, fsynced.
    long inDb = db.lastAuditSeq();
    copiedThrough = Math.max(copiedThrough, Math.min(inDb, through));
    handedThrough = Math.max(handedThrough, through);
    if (inDb >= through) {
      copyCheckpoints(false);
      return;
    }
    List<AuditStore.AuditRow> missing = new ArrayList<>();
    boolean pointAtLines = db.readsLinesFrom(files.dir());
    for (Path path : files.filesAfter(inDb)) {
      if (!Files.exists(path)) {
        continue;
      }
      try (InputStream in = Files.newInputStream(path)) {
        byte[] chunk = new byte[64 * 1024];
        ByteArrayOutputStream part = new ByteArrayOutputStream(1024); // a line across chunks
        long chunkAt = 0; // the file offset of chunk[0]
        long lineAt = 0; // of the line being read
        for (int n; (n = in.readNBytes(chunk, 0, chunk.length)) > 0; chunkAt += n) {
          int from = 0;
          for (int i = 0; i < n; i++) {
            if (chunk[i] != '\n') {
              continue;
            }
            String line;
            if (part.size() == 0) {
              line = new String(chunk, from, i - from, StandardCharsets.UTF_8);
            } else {
              part.write(chunk, from, i - from);
              line = part.toString(StandardCharsets.UTF_8);
              part.reset();
            }
            long at = lineAt;
            from = i + 1;
            lineAt = chunkAt + from;
            if (line.isEmpty()) {
              continue;
            }
            JsonNode node = JSON.readTree(line);
            long seq = node.path("seq").asLong();
            if (seq > inDb && seq <= through) {
              missing.add(row(node, line, pointAtLines ? at : -1));
              if (missing.size() >= CATCH_UP_BATCH) {
                db.appendAudit(missing);
                missing.clear();
              }
            }
          }
          part.write(chunk, from, n - from);
        }
        // A last line without its newline is a torn write, cut off when the log is opened: the
        // writer fsyncs whole lines only, so the records through {@code through} all end in one.
      }
    }
    db.appendAudit(missing);
    copiedThrough = Math.max(copiedThrough, through);
    copyCheckpoints(false);
  }

  /**
   * Deletes the rows through {@code seq} (a pruning anchor's), unless that is done already. Rows
   * still queued are inserted first, so that none lands after the delete. A failure is logged and
   * retried at the next call.
   */
  void pruneThrough(long seq) {
    handOver(() -> prune(seq));
  }

  private void prune(long seq) {
    if (prunedThrough >= seq) {
      return;
    }
    copy(true); // rows still queued for the database must not land after the delete
    if (!copyCheckpoints(true)) {
      return; // the anchor first: retried at the next call
    }
    try {
      db.pruneAudit(seq);
      prunedThrough = seq;
    } catch (RuntimeException e) {
      LOG.warning("pruning the audit database failed, will retry: " + e.getMessage());
    }
  }

  /** The row of a record read from the files, its line at {@code at} there (-1: not said). */
  static AuditStore.AuditRow row(JsonNode n, String line, long at) {
    JsonNode model = n.path("model");
    return new AuditStore.AuditRow(
        n.path("seq").asLong(),
        n.path("time").asText(),
        n.path("request_id").asText(),
        n.path("ip").asText(),
        n.path("key_id").isNull() ? null : n.path("key_id").asText(),
        n.path("status").asInt(),
        n.path("reason").asText(),
        line,
        at,
        model.isTextual() ? model.asText() : null,
        n.path("tokens_in").asLong(-1),
        n.path("tokens_out").asLong(-1));
  }
}

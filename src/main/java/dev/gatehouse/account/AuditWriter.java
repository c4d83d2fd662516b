package dev.gatehouse.account;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.store.AuditStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
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
 * <p>The JSONL file is the durable copy; the database is a queryable copy that is caught up from
 * the file on the next start if a crash falls between the two. Checkpoints (HMAC of seq and hash)
 * go to {@code audit-checkpoints.jsonl} every {@code checkpointEvery} records, after
 * {@code checkpointInterval} without one, and on close. Thread-safe: {@link #append} may be
 * called from any thread.
 */
public final class AuditWriter implements AutoCloseable {

  /** The audit log file in the data directory. */
  public static final String FILE = "audit.jsonl";
  /** The checkpoint file in the data directory. */
  public static final String CHECKPOINTS = "audit-checkpoints.jsonl";

  private static final Logger LOG = Logger.getLogger("gatehouse.audit");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BATCH = 1024;

  private record Pending(AuditRecord record, CompletableFuture<Void> done) {}

  private static final Pending STOP = new Pending(null, null);

  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final FileChannel file;
  private final FileChannel checkpoints;
  private final AuditStore db;
  private final byte[] hmacKey;
  private final int checkpointEvery;
  private final long checkpointIntervalNanos;
  private final Thread thread;
  private final List<AuditStore.AuditRow> dbBacklog = new ArrayList<>();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong writeNanos = new AtomicLong();

  // Written only by the writer thread (and by open, before it starts).
  private long lastSeq;
  private String lastHash = AuditChain.GENESIS;
  private long checkpointedSeq;
  private long lastCheckpointNanos = System.nanoTime();
  private volatile boolean closed;

  private AuditWriter(Path dataDir, AuditStore db, byte[] hmacKey, int checkpointEvery, Duration checkpointInterval)
      throws IOException {
    this.db = db;
    this.hmacKey = hmacKey;
    this.checkpointEvery = Math.max(1, checkpointEvery);
    this.checkpointIntervalNanos = Math.max(1, checkpointInterval.toNanos());
    Path path = dataDir.resolve(FILE);
    recoverTornTail(path);
    catchUp(path);
    this.file = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    Path cp = dataDir.resolve(CHECKPOINTS);
    recoverTornTail(cp);
    this.checkpoints = FileChannel.open(cp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    this.thread = new Thread(this::run, "gatehouse-audit");
    thread.setDaemon(true);
  }

  /**
   * Opens the audit log in {@code dataDir} (recovering from a crash: a torn final line is cut off,
   * and rows missing from the database are copied from the file) and starts the writer thread.
   */
  public static AuditWriter open(Path dataDir, AuditStore db, Path hmacKeyFile, int checkpointEvery, Duration checkpointInterval)
      throws IOException {
    Files.createDirectories(dataDir);
    AuditWriter w = new AuditWriter(dataDir, db, AuditKey.loadOrCreate(hmacKeyFile), checkpointEvery, checkpointInterval);
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

  /** Reads the chain's head from the file and copies rows the database lacks into it. */
  private void catchUp(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    long inDb = db.lastAuditSeq();
    List<AuditStore.AuditRow> missing = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.isEmpty()) {
          continue;
        }
        JsonNode n = JSON.readTree(line);
        lastSeq = n.path("seq").asLong();
        lastHash = n.path("hash").asText();
        if (lastSeq > inDb) {
          missing.add(row(n, line));
          if (missing.size() >= MAX_BATCH) {
            db.appendAudit(missing);
            missing.clear();
          }
        }
      }
    }
    db.appendAudit(missing);
    checkpointedSeq = lastSeq; // what an earlier run left unsigned stays so: we sign only what we wrote
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
        first = queue.poll(Math.min(1_000_000_000L, checkpointIntervalNanos), TimeUnit.NANOSECONDS);
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
      }
      if (lastSeq > checkpointedSeq
          && (stop || lastSeq - checkpointedSeq >= checkpointEvery
              || System.nanoTime() - lastCheckpointNanos >= checkpointIntervalNanos)) {
        checkpoint();
      }
    }
  }

  private void write(List<Pending> batch) {
    long t0 = System.nanoTime();
    long seq0 = lastSeq;
    String hash0 = lastHash;
    long size0 = -1;
    List<AuditStore.AuditRow> rows = new ArrayList<>(batch.size());
    try {
      size0 = file.size();
      StringBuilder b = new StringBuilder(batch.size() * 400);
      for (Pending p : batch) {
        long seq = lastSeq + 1;
        ObjectNode o = p.record().toJson(JSON, seq, lastHash);
        String h = AuditChain.hash(lastHash, o);
        o.put("hash", h);
        String line = JSON.writeValueAsString(o);
        lastSeq = seq;
        lastHash = h;
        b.append(line).append('\n');
        rows.add(row(o, line));
      }
      ByteBuffer buf = ByteBuffer.wrap(b.toString().getBytes(StandardCharsets.UTF_8));
      while (buf.hasRemaining()) {
        file.write(buf);
      }
      file.force(false);
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.SEVERE, "audit write failed; the responses waiting on it are aborted", e);
      lastSeq = seq0;
      lastHash = hash0;
      try {
        if (size0 >= 0) {
          file.truncate(size0);
        }
      } catch (IOException again) {
        LOG.log(Level.SEVERE, "cannot undo a partial audit write", again);
      }
      for (Pending p : batch) {
        p.done().completeExceptionally(e);
      }
      return;
    }
    // Durable now: release the responses, then copy to the database. The copy is not waited
    // for: a crash before it lands is repaired from the file on the next start (catchUp).
    batches.incrementAndGet();
    written.addAndGet(batch.size());
    writeNanos.addAndGet(System.nanoTime() - t0);
    for (Pending p : batch) {
      p.done().complete(null);
    }
    dbBacklog.addAll(rows);
    try {
      db.appendAudit(dbBacklog);
      dbBacklog.clear();
    } catch (RuntimeException e) {
      LOG.warning("audit database insert failed, will retry with the next batch: " + e.getMessage());
    }
  }

  private void checkpoint() {
    ObjectNode o = JSON.createObjectNode();
    o.put("seq", lastSeq);
    o.put("hash", lastHash);
    o.put("time", Instant.now().toString());
    o.put("hmac", AuditChain.checkpointMac(hmacKey, lastSeq, lastHash));
    try {
      ByteBuffer buf = ByteBuffer.wrap((JSON.writeValueAsString(o) + "\n").getBytes(StandardCharsets.UTF_8));
      while (buf.hasRemaining()) {
        checkpoints.write(buf);
      }
      checkpoints.force(false);
      checkpointedSeq = lastSeq;
      lastCheckpointNanos = System.nanoTime();
    } catch (IOException e) {
      LOG.log(Level.SEVERE, "audit checkpoint failed", e);
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
      file.close();
      checkpoints.close();
    } catch (IOException e) {
      LOG.warning("closing the audit log: " + e.getMessage());
    }
    LOG.fine("audit: " + written.get() + " records in " + batches.get() + " batches, mean " + meanBatchMicros() + " us per batch");
  }
}

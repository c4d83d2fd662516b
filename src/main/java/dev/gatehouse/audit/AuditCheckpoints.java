package dev.gatehouse.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The checkpoint file ({@code audit-checkpoints.jsonl}): checkpoints, each the HMAC of a record's
 * seq and hash, signed every {@code checkpointEvery} records, after {@code checkpointInterval}
 * without one, and on close; and pruning anchors, signed before retention deletes anything (see
 * {@link AuditPruner}). Each line is fsynced before it counts, and then handed to the database copy
 * ({@link AuditDbCopy#addCheckpoint}), which keeps it in a shared store for verify on any machine.
 * The writer thread's; not thread-safe.
 */
final class AuditCheckpoints {

  private static final Logger LOG = Logger.getLogger("gatehouse.audit");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final FileChannel file;
  private final AuditDbCopy db;
  private final byte[] key;
  private final int every;
  private final long intervalNanos;
  private final Clock clock;
  private long signedSeq;
  private long lastNanos = System.nanoTime();

  private AuditCheckpoints(
      FileChannel file,
      AuditDbCopy db,
      byte[] key,
      int every,
      long intervalNanos,
      Clock clock,
      long signedSeq) {
    this.file = file;
    this.db = db;
    this.key = key;
    this.every = every;
    this.intervalNanos = intervalNanos;
    this.clock = clock;
    this.signedSeq = signedSeq;
  }

  /**
   * Opens the checkpoint file for appending. {@code head} is where the log stands: what an earlier
   * run left unsigned stays so, as a writer signs only what it wrote. Each line signed is also
   * given to {@code db}.
   */
  static AuditCheckpoints open(
      Path path,
      AuditDbCopy db,
      byte[] key,
      int checkpointEvery,
      Duration checkpointInterval,
      Clock clock,
      long head)
      throws IOException {
    FileChannel f =
        FileChannel.open(
            path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    return new AuditCheckpoints(
        f,
        db,
        key,
        Math.max(1, checkpointEvery),
        Math.max(1, checkpointInterval.toNanos()),
        clock,
        head);
  }

  /**
   * Reads the newest validly signed pruning anchor of the checkpoint file at {@code path} and moves
   * {@code head} to the record it names (the head of a log whose every segment was pruned). Returns
   * its seq, through which records were pruned; 0 when there is none.
   */
  static long newestAnchor(Path path, byte[] key, ChainHead head) throws IOException {
    long prunedThrough = 0;
    if (!Files.exists(path)) {
      return prunedThrough;
    }
    try (BufferedReader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
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
        // Only a signed anchor may make us delete anything: a forged one is left to verify to
        // report.
        if (!AuditChain.anchorMac(key, seq, hash).equals(a.path("hmac").asText())) {
          LOG.warning(
              path.getFileName()
                  + ": a pruning anchor at seq "
                  + seq
                  + " has no valid signature; ignored (gatehouse audit verify reports it)");
        } else if (seq >= prunedThrough) {
          prunedThrough = seq;
          head.seq = seq;
          head.hash = hash;
        }
      }
    }
    return prunedThrough;
  }

  /** The longest the writer may wait before {@link #signIfDue} should look again. */
  long intervalNanos() {
    return intervalNanos;
  }

  /**
   * Signs the head when records after the last checkpoint exist and either {@code now} (the writer
   * is closing), {@code checkpointEvery} records or {@code checkpointInterval} have passed. A
   * failed checkpoint is logged and tried again after the next batch.
   */
  void signIfDue(ChainHead head, boolean now) {
    if (due(head, now)) {
      sign(head);
    }
  }

  /** Whether {@link #signIfDue} would sign now. */
  boolean due(ChainHead head, boolean now) {
    return head.seq > signedSeq
        && (now || head.seq - signedSeq >= every || System.nanoTime() - lastNanos >= intervalNanos);
  }

  private void sign(ChainHead head) {
    ObjectNode o = JSON.createObjectNode();
    o.put("seq", head.seq);
    o.put("hash", head.hash);
    o.put("time", clock.instant().toString());
    o.put("hmac", AuditChain.checkpointMac(key, head.seq, head.hash));
    try {
      append(o, head.seq, false);
      signedSeq = head.seq;
      lastNanos = System.nanoTime();
    } catch (IOException e) {
      LOG.log(Level.SEVERE, "audit checkpoint failed", e);
    }
  }

  /**
   * Appends a signed pruning anchor, fsynced: records 1 to {@code seq} are removed on purpose, and
   * the record at {@code seq} had hash {@code hash}. Nothing may be deleted unless this returned.
   */
  void anchor(long seq, String hash) throws IOException {
    ObjectNode o = JSON.createObjectNode();
    o.put("pruned_through", seq);
    o.put("hash", hash);
    o.put("time", clock.instant().toString());
    o.put("hmac", AuditChain.anchorMac(key, seq, hash));
    append(o, seq, true);
  }

  private void append(ObjectNode o, long seq, boolean anchor) throws IOException {
    String line = JSON.writeValueAsString(o);
    ByteBuffer buf = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
    while (buf.hasRemaining()) {
      file.write(buf);
    }
    file.force(false);
    db.addCheckpoint(seq, anchor, line);
  }

  /** Closes the file. */
  void close() throws IOException {
    file.close();
  }
}

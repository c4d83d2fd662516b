package dev.gatehouse.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.account.AuditChain;
import dev.gatehouse.store.AuditStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Checks an audit log's hash chain and its signed checkpoints, and names the first record that was
 * changed, deleted, inserted or moved. Reads the whole log into memory. Stateless.
 */
public final class AuditVerifier {

  /** What was done to the first bad record. */
  public enum Kind { CHANGED, DELETED, INSERTED, REORDERED, CHECKPOINT_FORGED }

  /**
   * The outcome. When {@code ok} is false, {@code badSeq} is the sequence number of the first bad
   * record (for a deletion: the first missing one), {@code line} its 1-based position in the log
   * (or where it should have been), and {@code following} how many records come after that point.
   */
  public record Result(
      boolean ok, long records, long checkpoints, long lastSeq, long lastCheckpointSeq,
      Kind kind, long badSeq, long line, long following, String detail) {

    static Result ok(long records, long checkpoints, long lastSeq, long lastCheckpointSeq) {
      return new Result(true, records, checkpoints, lastSeq, lastCheckpointSeq, null, 0, 0, 0, null);
    }

    static Result bad(long records, Kind kind, long badSeq, long line, long following, String detail) {
      return new Result(false, records, 0, 0, 0, kind, badSeq, line, following, detail);
    }

    /** One line for people. */
    public String describe() {
      if (ok) {
        return "OK: " + records + " records" + (records > 0 ? " (seq 1-" + lastSeq + ")" : "") + ", chain intact; "
            + checkpoints + " signed checkpoints" + (checkpoints > 0 ? ", last at seq " + lastCheckpointSeq : "")
            + (lastSeq > lastCheckpointSeq ? "; " + (lastSeq - lastCheckpointSeq) + " newest records not yet signed" : "");
      }
      String what = switch (kind) {
        case CHANGED -> "was changed";
        case DELETED -> "was deleted";
        case INSERTED -> "was inserted";
        case REORDERED -> "is out of order (records were reordered)";
        case CHECKPOINT_FORGED -> "has a checkpoint whose signature is wrong";
      };
      return "TAMPERED: record seq " + badSeq + " " + what + " (line " + line + "); " + following
          + " records follow it" + (detail == null ? "" : ". " + detail);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private record Entry(long seq, String prev, String hash, boolean hashOk) {}

  private AuditVerifier() {}

  /** Verifies a JSONL audit file against its checkpoint file (which may be missing). */
  public static Result verifyFile(Path file, Path checkpoints, byte[] key) throws IOException {
    List<String> lines = new ArrayList<>();
    if (Files.exists(file)) {
      for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (!l.isEmpty()) {
          lines.add(l);
        }
      }
    }
    return verify(lines, readCheckpoints(checkpoints), key);
  }

  /**
   * Verifies the database copy: the chain over each row's stored line, in insertion order, and that
   * each row's indexed columns say what its line says.
   */
  public static Result verifyStore(AuditStore store, Path checkpoints, byte[] key) throws IOException {
    List<String> lines = new ArrayList<>();
    List<AuditStore.AuditRow> rows = new ArrayList<>();
    store.forEachAuditRow(r -> {
      lines.add(r.line());
      rows.add(r);
    });
    Result chain = verify(lines, readCheckpoints(checkpoints), key);
    if (!chain.ok()) {
      return chain;
    }
    for (int i = 0; i < rows.size(); i++) {
      AuditStore.AuditRow r = rows.get(i);
      JsonNode n = JSON.readTree(r.line());
      boolean same = r.seq() == n.path("seq").asLong()
          && r.status() == n.path("status").asInt()
          && r.time().equals(n.path("time").asText())
          && r.requestId().equals(n.path("request_id").asText())
          && r.ip().equals(n.path("ip").asText())
          && r.reason().equals(n.path("reason").asText())
          && Objects.equals(r.keyId(), n.path("key_id").isNull() ? null : n.path("key_id").asText());
      if (!same) {
        return Result.bad(rows.size(), Kind.CHANGED, n.path("seq").asLong(), i + 1L, rows.size() - i - 1L,
            "Its indexed columns no longer match the record.");
      }
    }
    return chain;
  }

  private static List<String> readCheckpoints(Path checkpoints) throws IOException {
    List<String> out = new ArrayList<>();
    if (checkpoints != null && Files.exists(checkpoints)) {
      for (String l : Files.readAllLines(checkpoints, StandardCharsets.UTF_8)) {
        if (!l.isBlank()) {
          out.add(l);
        }
      }
    }
    return out;
  }

  /** Verifies records (JSON lines, in log order) and checkpoints (JSON lines). */
  public static Result verify(List<String> lines, List<String> checkpointLines, byte[] key) {
    int n = lines.size();
    List<Entry> e = new ArrayList<>(n);
    for (String l : lines) {
      e.add(parse(l));
    }
    long expect = 1;
    String prev = AuditChain.GENESIS;
    List<String> hashes = new ArrayList<>(n); // hashes.get(s - 1) is the hash of seq s, once verified
    for (int i = 0; i < n; i++) {
      Entry r = e.get(i);
      if (r != null && r.seq() == expect && r.hashOk() && r.prev().equals(prev)) {
        hashes.add(r.hash());
        prev = r.hash();
        expect++;
        continue;
      }
      long line = i + 1L;
      long after = n - i - 1L;
      Entry next = i + 1 < n ? e.get(i + 1) : null;
      if (r != null && r.hashOk() && r.seq() == expect - 1 && i > 0 && r.prev().equals(e.get(i - 1).prev())
          && next != null && next.prev().equals(r.hash())) {
        // Two records claim the same place and this one is what the rest of the chain follows:
        // the one before it, accepted a moment ago, was inserted (with a hash made to fit).
        return Result.bad(n, Kind.INSERTED, r.seq(), line - 1, n - i, null);
      }
      boolean intactLater = r != null && r.hashOk() && r.seq() > expect;
      // A record that does not fit, while the next one continues the chain where it stood: inserted.
      if (!intactLater && next != null && next.hashOk() && next.seq() == expect && next.prev().equals(prev)) {
        return Result.bad(n, Kind.INSERTED, r == null ? expect : r.seq(), line, after, null);
      }
      if (r == null) {
        return Result.bad(n, Kind.CHANGED, expect, line, after, "The line is not a well-formed record.");
      }
      if (r.seq() > expect) {
        for (int j = i + 1; j < n; j++) {
          Entry later = e.get(j);
          if (later != null && later.seq() == expect) {
            return Result.bad(n, Kind.REORDERED, expect, j + 1L, n - i - 1L,
                "It appears at line " + (j + 1) + " instead of line " + line + ".");
          }
        }
        return Result.bad(n, Kind.DELETED, expect, line, n - i,
            expect == r.seq() - 1 ? null : "Records seq " + expect + "-" + (r.seq() - 1) + " are missing.");
      }
      if (r.seq() < expect) {
        return Result.bad(n, Kind.INSERTED, r.seq(), line, after, "Its sequence number repeats an earlier record's.");
      }
      if (r.hashOk() && i > 0) {
        // This record is intact but does not follow its predecessor, whose hash was recomputed
        // after an edit: the predecessor is the changed one.
        return Result.bad(n, Kind.CHANGED, expect - 1, line - 1, after + 1, "Its hash was recomputed to hide the edit.");
      }
      return Result.bad(n, Kind.CHANGED, r.seq(), line, after, null);
    }
    long lastSeq = expect - 1;
    // The chain holds; now the checkpoints, which catch a rewrite of the whole chain after a point
    // and records cut off the end.
    long checkpoints = 0;
    long lastCp = 0;
    long goodUpTo = 0;
    for (String cl : checkpointLines) {
      JsonNode c;
      try {
        c = JSON.readTree(cl);
      } catch (IOException ex) {
        return Result.bad(n, Kind.CHECKPOINT_FORGED, goodUpTo + 1, goodUpTo + 1, n - goodUpTo - 1, "A checkpoint line is not JSON.");
      }
      long seq = c.path("seq").asLong();
      String hash = c.path("hash").asText();
      if (!AuditChain.checkpointMac(key, seq, hash).equals(c.path("hmac").asText())) {
        return Result.bad(n, Kind.CHECKPOINT_FORGED, seq, seq, Math.max(0, n - seq),
            "The checkpoint at seq " + seq + " does not carry a valid HMAC: it was forged or the key is wrong.");
      }
      if (seq > lastSeq) {
        return Result.bad(n, Kind.DELETED, lastSeq + 1, lastSeq + 1, 0,
            "A signed checkpoint covers seq " + seq + ", but the log ends at seq " + lastSeq + ": records were cut off the end.");
      }
      if (seq >= 1 && !hashes.get((int) seq - 1).equals(hash)) {
        return Result.bad(n, Kind.CHANGED, goodUpTo + 1, goodUpTo + 1, n - goodUpTo - 1,
            "The chain was rewritten: it no longer matches the signed checkpoint at seq " + seq
                + "; the first changed record is between seq " + (goodUpTo + 1) + " and " + seq + ".");
      }
      goodUpTo = Math.max(goodUpTo, seq);
      lastCp = Math.max(lastCp, seq);
      checkpoints++;
    }
    return Result.ok(n, checkpoints, lastSeq, lastCp);
  }

  private static Entry parse(String line) {
    try {
      JsonNode node = JSON.readTree(line);
      if (!node.isObject() || !node.has("seq") || !node.has("prev") || !node.has("hash")) {
        return null;
      }
      String prev = node.path("prev").asText();
      String hash = node.path("hash").asText();
      boolean ok = AuditChain.hash(prev, node).equals(hash);
      return new Entry(node.path("seq").asLong(), prev, hash, ok);
    } catch (IOException e) {
      return null;
    }
  }
}

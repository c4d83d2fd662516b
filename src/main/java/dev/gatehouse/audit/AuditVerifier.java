package dev.gatehouse.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.store.AuditStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Checks an audit log's hash chain, its signed checkpoints and its pruning anchors, and names the
 * first record that was changed, deleted, inserted or moved. Reads the whole log into memory.
 * Stateless.
 *
 * <p>Retention deletes the oldest records after appending a signed anchor ({@code pruned_through},
 * the hash of the last pruned record) to the checkpoint file. A whole log may therefore start at
 * seq N+1 when the newest validly signed anchor says N, provided its first record's {@code prev} is
 * the anchor's hash; a log that starts later, or an anchor whose signature is wrong, is tampering.
 * Checkpoints for pruned records are not checked.
 */
public final class AuditVerifier {

  /** What was done to the first bad record. */
  public enum Kind {
    CHANGED,
    DELETED,
    INSERTED,
    REORDERED,
    CHECKPOINT_FORGED
  }

  /**
   * The outcome. When {@code ok} is false, {@code badSeq} is the sequence number of the first bad
   * record (for a deletion: the first missing one), {@code line} its 1-based position in the log
   * (or where it should have been) or, when {@code file} is not null, in that file of a log kept in
   * several files, and {@code following} how many records come after that point. {@code
   * prunedThrough} is the seq through which a signed anchor shows records were pruned; {@code
   * alone} says that one file was checked by itself. {@code instance} names the chain checked in a
   * store that several gateways share; null for the files, and for a store of one chain.
   */
  public record Result(
      boolean ok,
      long records,
      long checkpoints,
      long firstSeq,
      long lastSeq,
      long lastCheckpointSeq,
      long prunedThrough,
      boolean alone,
      @Nullable Kind kind,
      long badSeq,
      @Nullable String file,
      long line,
      long following,
      @Nullable String detail,
      @Nullable String instance) {

    static Result ok(
        long records,
        long checkpoints,
        long firstSeq,
        long lastSeq,
        long lastCheckpointSeq,
        long prunedThrough,
        boolean alone) {
      return new Result(
          true,
          records,
          checkpoints,
          firstSeq,
          lastSeq,
          lastCheckpointSeq,
          prunedThrough,
          alone,
          null,
          0,
          null,
          0,
          0,
          null,
          null);
    }

    static Result bad(
        long records, Kind kind, long badSeq, long line, long following, @Nullable String detail) {
      return new Result(
          false, records, 0, 0, 0, 0, 0, false, kind, badSeq, null, line, following, detail, null);
    }

    /** This result with its line given as a line of one of the files the log was read from. */
    Result in(String file, long line) {
      return where(file, line, instance);
    }

    /** This result as one chain's of a store that several gateways share. */
    Result of(String chain) {
      return where(file, line, chain);
    }

    /** This result, placed at {@code line} of {@code file}, of the chain {@code instance}. */
    private Result where(@Nullable String file, long line, @Nullable String instance) {
      return new Result(
          ok,
          records,
          checkpoints,
          firstSeq,
          lastSeq,
          lastCheckpointSeq,
          prunedThrough,
          alone,
          kind,
          badSeq,
          file,
          line,
          following,
          detail,
          instance);
    }

    /** One line for people; a chain of a shared store is named first ("instance gw-a: OK: ..."). */
    public String describe() {
      return instance == null ? describeChain() : "instance " + instance + ": " + describeChain();
    }

    private String describeChain() {
      if (ok) {
        long signedTo = Math.max(lastCheckpointSeq, prunedThrough);
        return "OK: "
            + records
            + " records"
            + (records > 0 ? " (seq " + firstSeq + "-" + lastSeq + ")" : "")
            + ", chain intact"
            + (prunedThrough > 0
                ? "; seq 1-" + prunedThrough + " pruned by retention (signed anchor)"
                : "")
            + "; "
            + checkpoints
            + " signed checkpoints"
            + (checkpoints > 0 ? ", last at seq " + lastCheckpointSeq : "")
            + (!alone && lastSeq > signedTo
                ? "; " + (lastSeq - signedTo) + " newest records not yet signed"
                : "")
            + (alone ? "; this file alone was checked, not what comes before or after it" : "");
      }
      String what = switch (java.util.Objects.requireNonNull(kind)) { // set whenever !ok
            case CHANGED -> "was changed";
            case DELETED -> "was deleted";
            case INSERTED -> "was inserted";
            case REORDERED -> "is out of order (records were reordered)";
            case CHECKPOINT_FORGED -> "has a checkpoint whose signature is wrong";
          };
      return "TAMPERED: record seq "
          + badSeq
          + " "
          + what
          + " ("
          + (file == null ? "" : file + " ")
          + "line "
          + line
          + "); "
          + following
          + " records follow it"
          + (detail == null ? "" : ". " + detail);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int READ_ATTEMPTS = 5;

  private record Entry(long seq, String prev, String hash, boolean hashOk) {}

  /**
   * A line of the checkpoint file: a checkpoint, or a pruning anchor; {@code signed}: its HMAC is
   * right.
   */
  private record Mark(long seq, String hash, boolean anchor, boolean signed) {}

  private AuditVerifier() {}

  /**
   * Verifies the whole log in {@code dir}: the sealed segments in seq order, then {@code
   * audit.jsonl}, against the checkpoint file (which may be missing). A bad record in a log of
   * several files is located by file and line.
   */
  public static Result verifyLog(Path dir, Path checkpoints, byte[] key) throws IOException {
    for (int attempt = 1; ; attempt++) {
      List<Path> files = AuditSegments.files(dir);
      List<String> lines = new ArrayList<>();
      List<Integer> ends = new ArrayList<>(); // lines read after each file
      try {
        for (Path f : files) {
          lines.addAll(readLines(f));
          ends.add(lines.size());
        }
      } catch (NoSuchFileException pruned) {
        if (attempt < READ_ATTEMPTS) {
          continue; // retention deleted a segment while we read: read again
        }
        throw pruned;
      }
      if (!files.equals(AuditSegments.files(dir)) && attempt < READ_ATTEMPTS) {
        continue; // sealed or pruned while we read
      }
      Result r = verify(lines, readCheckpoints(checkpoints), key, true);
      if (r.ok() || files.size() < 2 || r.line() < 1) {
        return r;
      }
      int i = 0;
      while (i < ends.size() - 1 && ends.get(i) < r.line()) {
        i++;
      }
      return r.in(files.get(i).getFileName().toString(), r.line() - (i == 0 ? 0 : ends.get(i - 1)));
    }
  }

  /**
   * Verifies one JSONL file by itself (one segment, or a copy of part of the log): its chain, its
   * first record's {@code prev} if a checkpoint or anchor (or the log's start) records the hash
   * just before it, and the checkpoints and anchors that fall within it. What lies before or after
   * the file is not checked, so records cut off its end are not seen here.
   */
  public static Result verifyFile(Path file, Path checkpoints, byte[] key) throws IOException {
    List<String> lines = Files.exists(file) ? readLines(file) : List.of();
    return verify(lines, readCheckpoints(checkpoints), key, false);
  }

  private static List<String> readLines(Path file) throws IOException {
    List<String> lines = new ArrayList<>();
    for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!l.isEmpty()) {
        lines.add(l);
      }
    }
    return lines;
  }

  /**
   * Verifies the database copy, every chain in it (see {@link #verifyChains}): the first chain that
   * fails, or when every one holds, the first chain's result (a store of one writer keeps one).
   */
  public static Result verifyStore(AuditStore store, Path checkpoints, byte[] key)
      throws IOException {
    List<Result> chains = verifyChains(store, checkpoints, key);
    for (Result r : chains) {
      if (!r.ok()) {
        return r;
      }
    }
    return chains.getFirst();
  }

  /**
   * Verifies every chain in the database copy, one result per chain in instance order (never none):
   * the hash chain over each row's stored line in order (for a shared store, seq order, so a gap is
   * a deleted record), that each row's indexed columns say what its line says, and the signed
   * checkpoints and pruning anchors. Those are the ones the store keeps for the chain and, for this
   * machine's own chain ({@link AuditStore#auditInstance}), also those in the file {@code
   * checkpoints}, where its writer signs them first: a checkpoint deleted from the database is
   * still checked here. Pruned rows are handled as in the file. In a store that several gateways
   * share, each result names its chain ({@link Result#instance}).
   */
  public static List<Result> verifyChains(AuditStore store, Path checkpoints, byte[] key)
      throws IOException {
    // The file first: what it signs was copied to the database before it was signed.
    List<String> ownCheckpoints = readCheckpoints(checkpoints);
    String own = store.auditInstance();
    List<String> chains = new ArrayList<>(store.auditChains());
    if (!chains.contains(own) && (chains.isEmpty() || !ownCheckpoints.isEmpty())) {
      // This machine signed a chain, so the store must hold it: check it even when every row and
      // checkpoint of it is gone.
      chains.add(own);
      chains.sort(null);
    }
    List<Result> out = new ArrayList<>(chains.size());
    for (String chain : chains) {
      Result r = verifyChain(store, chain, chain.equals(own) ? ownCheckpoints : List.of(), key);
      out.add(chain.equals(AuditStore.LOCAL) ? r : r.of(chain));
    }
    return out;
  }

  private static Result verifyChain(
      AuditStore store, String chain, List<String> fileCheckpoints, byte[] key) throws IOException {
    List<String> lines = new ArrayList<>();
    List<AuditStore.AuditRow> rows = new ArrayList<>();
    // Each checkpoint once, whether the file, the database or both have it.
    Set<String> marks = new LinkedHashSet<>(fileCheckpoints);
    store.readChain(
        chain,
        marks::add,
        r -> {
          lines.add(r.line());
          rows.add(r);
        });
    Result result = verify(lines, List.copyOf(marks), key, true);
    if (!result.ok()) {
      return result;
    }
    for (int i = 0; i < rows.size(); i++) {
      AuditStore.AuditRow r = rows.get(i);
      JsonNode n = JSON.readTree(r.line());
      boolean same =
          r.seq() == n.path("seq").asLong()
              && r.status() == n.path("status").asInt()
              && r.time().equals(n.path("time").asText())
              && r.requestId().equals(n.path("request_id").asText())
              && r.ip().equals(n.path("ip").asText())
              && r.reason().equals(n.path("reason").asText())
              && Objects.equals(
                  r.keyId(), n.path("key_id").isNull() ? null : n.path("key_id").asText());
      if (!same) {
        return Result.bad(
            rows.size(),
            Kind.CHANGED,
            n.path("seq").asLong(),
            i + 1L,
            rows.size() - i - 1L,
            "Its indexed columns no longer match the record.");
      }
    }
    return result;
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

  /**
   * Verifies a whole log: records (JSON lines, in log order) and checkpoints and anchors (JSON
   * lines).
   */
  public static Result verify(List<String> lines, List<String> checkpointLines, byte[] key) {
    return verify(lines, checkpointLines, key, true);
  }

  /**
   * Verifies records and checkpoints; {@code whole}: the records are the whole log, so it must
   * start at seq 1 or right after the newest signed anchor, and checkpoints past its end mean
   * records were cut off. Otherwise they are one stretch of it, checked by itself.
   */
  private static Result verify(
      List<String> lines, List<String> checkpointLines, byte[] key, boolean whole) {
    int n = lines.size();
    List<Entry> e = new ArrayList<>(n);
    for (String l : lines) {
      e.add(parse(l));
    }
    // The signed hashes, by seq: where the log may start, and what its first record must follow.
    List<Mark> marks = new ArrayList<>(checkpointLines.size());
    Map<Long, Mark> signed = new HashMap<>();
    signed.put(0L, new Mark(0, AuditChain.GENESIS, false, true));
    long anchoredThrough = 0;
    long forgedAnchor = 0;
    for (String cl : checkpointLines) {
      Mark m = mark(cl, key);
      marks.add(m);
      if (m != null && m.signed() && m.anchor()) {
        signed.put(
            m.seq(), m); // an anchor and a checkpoint at one seq sign one hash; name the anchor
        anchoredThrough = Math.max(anchoredThrough, m.seq());
      } else if (m != null && m.signed()) {
        signed.putIfAbsent(m.seq(), m);
      } else if (m != null && m.anchor()) {
        forgedAnchor = Math.max(forgedAnchor, m.seq());
      }
    }
    Entry e0 = n > 0 ? e.get(0) : null;
    long first;
    if (whole) {
      first =
          e0 != null && e0.seq() >= 1 && e0.seq() <= anchoredThrough + 1
              ? e0.seq()
              : anchoredThrough + 1;
    } else {
      first =
          Math.max(1, e0 != null ? e0.seq() : n > 1 && e.get(1) != null ? e.get(1).seq() - 1 : 1);
    }
    Mark before = signed.get(first - 1);
    long expect = first;
    String prev =
        before == null
            ? null
            : before.hash(); // null: not known, the first record's prev is taken as it is
    List<String> hashes =
        new ArrayList<>(n); // hashes.get(s - first) is the hash of seq s, once verified
    for (int i = 0; i < n; i++) {
      Entry r = e.get(i);
      if (r != null && r.seq() == expect && r.hashOk() && (prev == null || r.prev().equals(prev))) {
        hashes.add(r.hash());
        prev = r.hash();
        expect++;
        continue;
      }
      long line = i + 1L;
      long after = n - i - 1L;
      Entry next = i + 1 < n ? e.get(i + 1) : null;
      if (r != null
          && r.hashOk()
          && r.seq() == expect - 1
          && i > 0
          && r.prev().equals(e.get(i - 1).prev())
          && next != null
          && next.prev().equals(r.hash())) {
        // Two records claim the same place and this one is what the rest of the chain follows:
        // the one before it, accepted a moment ago, was inserted (with a hash made to fit).
        return Result.bad(n, Kind.INSERTED, r.seq(), line - 1, n - i, null);
      }
      boolean intactLater = r != null && r.hashOk() && r.seq() > expect;
      // A record that does not fit, while the next one continues the chain where it stood:
      // inserted.
      if (!intactLater
          && next != null
          && next.hashOk()
          && next.seq() == expect
          && (prev == null || next.prev().equals(prev))) {
        return Result.bad(n, Kind.INSERTED, r == null ? expect : r.seq(), line, after, null);
      }
      if (r == null) {
        return Result.bad(
            n, Kind.CHANGED, expect, line, after, "The line is not a well-formed record.");
      }
      if (r.seq() > expect) {
        for (int j = i + 1; j < n; j++) {
          Entry later = e.get(j);
          if (later != null && later.seq() == expect) {
            return Result.bad(
                n,
                Kind.REORDERED,
                expect,
                j + 1L,
                n - i - 1L,
                "It appears at line " + (j + 1) + " instead of line " + line + ".");
          }
        }
        String missing =
            expect == r.seq() - 1
                ? null
                : "Records seq " + expect + "-" + (r.seq() - 1) + " are missing.";
        if (i == 0 && anchoredThrough > 0) {
          missing =
              (missing == null ? "" : missing + " ")
                  + "A signed anchor shows only seq 1-"
                  + anchoredThrough
                  + " were pruned by retention.";
        }
        if (i == 0 && forgedAnchor >= expect) {
          missing =
              (missing == null ? "" : missing + " ")
                  + "A pruning anchor that claims seq 1-"
                  + forgedAnchor
                  + " were pruned has no valid signature: it was forged or edited, or the key is wrong.";
        }
        return Result.bad(n, Kind.DELETED, expect, line, n - i, missing);
      }
      if (r.seq() < expect) {
        return Result.bad(
            n,
            Kind.INSERTED,
            r.seq(),
            line,
            after,
            "Its sequence number repeats an earlier record's.");
      }
      if (r.hashOk() && i > 0) {
        // This record is intact but does not follow its predecessor, whose hash was recomputed
        // after an edit: the predecessor is the changed one.
        return Result.bad(
            n,
            Kind.CHANGED,
            expect - 1,
            line - 1,
            after + 1,
            "Its hash was recomputed to hide the edit.");
      }
      String detail = null;
      if (i == 0 && r.hashOk() && before != null && before.seq() > 0) {
        detail =
            "It does not follow the signed "
                + (before.anchor() ? "pruning anchor" : "checkpoint")
                + " at seq "
                + before.seq()
                + ".";
      }
      return Result.bad(n, Kind.CHANGED, r.seq(), line, after, detail);
    }
    long lastSeq = expect - 1;
    // The chain holds; now the checkpoints and anchors, which catch a rewrite of the whole chain
    // after a point and records cut off the end.
    long checkpoints = 0;
    long lastCp = 0;
    long goodUpTo = first - 1;
    for (Mark m : marks) {
      if (m == null) {
        return Result.bad(
            n,
            Kind.CHECKPOINT_FORGED,
            goodUpTo + 1,
            goodUpTo - first + 2,
            lastSeq - goodUpTo - 1,
            "A checkpoint line is not JSON.");
      }
      long seq = m.seq();
      long line = Math.clamp(seq - first + 1, 1, n + 1L);
      if (!m.signed()) {
        return Result.bad(
            n,
            Kind.CHECKPOINT_FORGED,
            seq,
            line,
            Math.max(0, lastSeq - seq),
            "The "
                + (m.anchor() ? "pruning anchor" : "checkpoint")
                + " at seq "
                + seq
                + " does not carry a valid HMAC: it was forged or the key is wrong.");
      }
      if (seq < first) {
        continue; // pruned, or before this file
      }
      if (seq > lastSeq) {
        if (!whole) {
          continue; // after this file
        }
        return Result.bad(
            n,
            Kind.DELETED,
            lastSeq + 1,
            n + 1L,
            0,
            "A signed "
                + (m.anchor() ? "pruning anchor" : "checkpoint")
                + " covers seq "
                + seq
                + ", but the log ends at seq "
                + lastSeq
                + ": records were cut off the end.");
      }
      if (!hashes.get((int) (seq - first)).equals(m.hash())) {
        return Result.bad(
            n,
            Kind.CHANGED,
            goodUpTo + 1,
            goodUpTo - first + 2,
            lastSeq - goodUpTo - 1,
            "The chain was rewritten: it no longer matches the signed "
                + (m.anchor() ? "pruning anchor" : "checkpoint")
                + " at seq "
                + seq
                + "; the first changed record is between seq "
                + (goodUpTo + 1)
                + " and "
                + seq
                + ".");
      }
      goodUpTo = Math.max(goodUpTo, seq);
      if (!m.anchor()) {
        lastCp = Math.max(lastCp, seq);
        checkpoints++;
      }
    }
    return Result.ok(n, checkpoints, first, lastSeq, lastCp, whole ? anchoredThrough : 0, !whole);
  }

  /** Parses a checkpoint or anchor line and checks its HMAC; null when the line is not JSON. */
  private static @Nullable Mark mark(String line, byte[] key) {
    JsonNode c;
    try {
      c = JSON.readTree(line);
    } catch (IOException ex) {
      return null;
    }
    String hash = c.path("hash").asText();
    if (c.has("pruned_through")) {
      long seq = c.path("pruned_through").asLong();
      return new Mark(
          seq, hash, true, AuditChain.anchorMac(key, seq, hash).equals(c.path("hmac").asText()));
    }
    long seq = c.path("seq").asLong();
    return new Mark(
        seq, hash, false, AuditChain.checkpointMac(key, seq, hash).equals(c.path("hmac").asText()));
  }

  private static @Nullable Entry parse(String line) {
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

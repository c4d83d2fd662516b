package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.audit.AuditVerifier.Kind;
import dev.gatehouse.audit.AuditVerifier.Result;
import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.SqliteStore;
import dev.gatehouse.testing.PrunedAuditLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each kind of tampering, in the JSONL file and in the database: verify catches it and names the
 * first bad record. The log is 20 records with a signed checkpoint every 10. The tests named {@code
 * pruned...} use a log that retention has pruned instead ({@link PrunedAuditLog}).
 */
class AuditTamperTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int N = 20;

  @TempDir Path dir;
  private Path file;
  private Path checkpoints;
  private byte[] key;

  @BeforeEach
  void writeLog() throws Exception {
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w =
            AuditWriter.open(dir, store, dir.resolve("audit-hmac.key"), 10, Duration.ofHours(1))) {
      List<CompletableFuture<Void>> done = new ArrayList<>();
      for (int i = 1; i <= N; i++) {
        done.add(w.append(record("req" + i, i % 3 == 0 ? 401 : 200)));
        if (i % 5 == 0) {
          CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).join(); // several batches
        }
      }
      CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).join();
    }
    file = dir.resolve(AuditWriter.FILE);
    checkpoints = dir.resolve(AuditWriter.CHECKPOINTS);
    key = AuditKey.load(dir.resolve("audit-hmac.key"));
  }

  static AuditRecord record(String id, int status) {
    return new AuditRecord(
        "2026-11-22T00:00:00Z",
        id,
        "127.0.0.1",
        "k1",
        "ci",
        "POST",
        "/api/chat",
        "inference",
        "llama3.2:3b",
        status,
        status == 200 ? "allow" : "deny",
        status == 200 ? "ok" : "auth.key_invalid",
        100,
        200,
        10,
        20,
        1000,
        2000,
        3000,
        "test/1",
        false,
        null,
        null);
  }

  private List<String> lines() throws Exception {
    return new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
  }

  private Result verifyLog(List<String> lines) throws Exception {
    Files.write(file, lines, StandardCharsets.UTF_8);
    return AuditVerifier.verifyLog(dir, checkpoints, key);
  }

  private Result verifyDb(String... sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("gatehouse.db"));
        Statement s = c.createStatement()) {
      for (String q : sql) {
        s.executeUpdate(q);
      }
    }
    try (SqliteStore store = SqliteStore.open(dir)) {
      return AuditVerifier.verifyStore(store, checkpoints, key);
    }
  }

  /** Recomputes the hash of a (changed) line as if by someone who knows the scheme. */
  private static String rehash(String line) throws Exception {
    ObjectNode o = (ObjectNode) JSON.readTree(line);
    o.put("hash", AuditChain.hash(o.path("prev").asText(), o));
    return JSON.writeValueAsString(o);
  }

  @Test
  void anUntouchedLogVerifiesInBothCopies() throws Exception {
    Result f = AuditVerifier.verifyLog(dir, checkpoints, key);
    assertThat(f.ok()).as(f.describe()).isTrue();
    assertThat(f.records()).isEqualTo(N);
    assertThat(f.checkpoints()).isEqualTo(2);
    assertThat(f.lastCheckpointSeq()).isEqualTo(N);
    try (SqliteStore store = SqliteStore.open(dir)) {
      Result d = AuditVerifier.verifyStore(store, checkpoints, key);
      assertThat(d.ok()).as(d.describe()).isTrue();
      assertThat(d.records()).isEqualTo(N);
    }
    assertThat(Files.readString(file)).doesNotContain("gk_"); // key ids only, never key material
  }

  @Test
  void jsonlEditIsNamed() throws Exception {
    List<String> l = lines();
    l.set(4, l.get(4).replace("\"status\":200", "\"status\":201"));
    Result r = verifyLog(l);
    assertThat(r.kind()).isEqualTo(Kind.CHANGED);
    assertThat(r.badSeq()).isEqualTo(5);
    assertThat(r.following()).isEqualTo(N - 5);
  }

  @Test
  void jsonlEditWithRecomputedHashStillNamesTheEditedRecord() throws Exception {
    List<String> l = lines();
    l.set(4, rehash(l.get(4).replace("\"status\":200", "\"status\":201")));
    Result r = verifyLog(l);
    assertThat(r.kind()).isEqualTo(Kind.CHANGED);
    assertThat(r.badSeq()).isEqualTo(5);
  }

  @Test
  void jsonlRewriteOfTheWholeTailIsCaughtByTheSignedCheckpoint() throws Exception {
    List<String> l = lines();
    String prev = JSON.readTree(l.get(10)).path("hash").asText();
    for (int i = 11; i < N; i++) { // edit seq 12 and re-chain everything after it
      ObjectNode o =
          (ObjectNode)
              JSON.readTree(
                  i == 11
                      ? l.get(i).replace("\"ip\":\"127.0.0.1\"", "\"ip\":\"10.0.0.9\"")
                      : l.get(i));
      o.put("prev", prev);
      o.remove("hash");
      prev = AuditChain.hash(prev, o);
      o.put("hash", prev);
      l.set(i, JSON.writeValueAsString(o));
    }
    Result r = verifyLog(l);
    assertThat(r.ok()).isFalse();
    assertThat(r.kind()).isEqualTo(Kind.CHANGED);
    assertThat(r.badSeq())
        .isEqualTo(11); // the first record after the last checkpoint that still holds
    assertThat(r.describe()).contains("between seq 11 and 20");
  }

  @Test
  void jsonlDeleteIsNamed() throws Exception {
    List<String> l = lines();
    l.remove(4);
    Result r = verifyLog(l);
    assertThat(r.kind()).isEqualTo(Kind.DELETED);
    assertThat(r.badSeq()).isEqualTo(5);
    assertThat(r.following()).isEqualTo(N - 5);
  }

  @Test
  void jsonlRecordsCutOffTheEndAreCaughtByTheCheckpoint() throws Exception {
    List<String> l = lines();
    l.subList(17, N).clear();
    Result r = verifyLog(l);
    assertThat(r.kind()).isEqualTo(Kind.DELETED);
    assertThat(r.badSeq()).isEqualTo(18);
  }

  @Test
  void jsonlInsertedCopyIsNamed() throws Exception {
    List<String> l = lines();
    l.add(7, l.get(2)); // a replayed copy of seq 3 between seq 7 and 8
    Result r = verifyLog(l);
    assertThat(r.kind()).isEqualTo(Kind.INSERTED);
    assertThat(r.badSeq()).isEqualTo(3);
    assertThat(r.line()).isEqualTo(8);
    assertThat(r.following()).isEqualTo(N - 7);
  }

  @Test
  void jsonlInsertedForgeryIsNamed() throws Exception {
    List<String> l = lines();
    ObjectNode fake = (ObjectNode) JSON.readTree(l.get(7)); // claims to be seq 8
    fake.put("request_id", "forged");
    l.add(7, rehash(JSON.writeValueAsString(fake)));
    Result r = verifyLog(l);
    assertThat(r.kind()).isEqualTo(Kind.INSERTED);
    assertThat(r.badSeq()).isEqualTo(8);
    assertThat(r.line()).isEqualTo(8);
  }

  @Test
  void jsonlReorderIsNamed() throws Exception {
    List<String> l = lines();
    String five = l.get(4);
    l.set(4, l.get(5));
    l.set(5, five);
    Result r = verifyLog(l);
    assertThat(r.kind()).isEqualTo(Kind.REORDERED);
    assertThat(r.badSeq()).isEqualTo(5);
  }

  @Test
  void forgedCheckpointIsCaught() throws Exception {
    List<String> cps = Files.readAllLines(checkpoints);
    cps.set(0, cps.get(0).replaceFirst("\"hmac\":\"[0-9a-f]", "\"hmac\":\"x"));
    Files.write(checkpoints, cps);
    Result r = AuditVerifier.verifyLog(dir, checkpoints, key);
    assertThat(r.kind()).isEqualTo(Kind.CHECKPOINT_FORGED);
    assertThat(r.badSeq()).isEqualTo(10);
  }

  @Test
  void theDatabaseKeepsWhereEachLineIsNotACopyOfIt() throws Exception {
    // why: the line was most of each row's bytes, written to SQLite's WAL and again at each
    // checkpoint (issue 12); the store reads it back from the file the chain covers
    byte[] bytes = Files.readAllBytes(file);
    List<String> inFile = lines();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("gatehouse.db"));
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT seq, line, line_at FROM audit_log ORDER BY id")) {
      int i = 0;
      while (rs.next()) {
        assertThat(rs.getLong(1)).isEqualTo(i + 1L);
        assertThat(rs.getString(2)).isEmpty();
        long at = rs.getLong(3);
        String there = inFile.get(i);
        assertThat(new String(bytes, (int) at, there.length(), StandardCharsets.UTF_8))
            .isEqualTo(there);
        assertThat(at == 0 || bytes[(int) at - 1] == '\n').isTrue();
        i++;
      }
      assertThat(i).isEqualTo(N);
    }
    try (SqliteStore store = SqliteStore.open(dir)) {
      List<String> read = new ArrayList<>();
      store.forEachAuditRow(r -> read.add(r.line()));
      assertThat(read).isEqualTo(inFile);
      assertThat(store.auditRow(7).orElseThrow().line()).isEqualTo(inFile.get(6));
      assertThat(
              store
                  .queryAudit(new AuditStore.AuditQuery(null, null, 401, null, null, null, 3))
                  .stream()
                  .map(AuditStore.AuditRow::line)
                  .toList())
          .isEqualTo(List.of(inFile.get(17), inFile.get(14), inFile.get(11)));
    }
  }

  @Test
  void databaseEditIsNamed() throws Exception {
    // A row made to hold a line of its own, edited, in place of where its line is.
    String forged = lines().get(4).replace("\"status\":200", "\"status\":201");
    Result r =
        verifyDb(
            "UPDATE audit_log SET line = '"
                + forged
                + "', line_at = NULL, status = 201 WHERE seq = 5");
    assertThat(r.kind()).isEqualTo(Kind.CHANGED);
    assertThat(r.badSeq()).isEqualTo(5);
  }

  @Test
  void aRowPointedAtAnotherRecordIsNamed() throws Exception {
    // Row 5 made to point at record 6's line: it reads no line of its own, so record 5 is gone
    // from the database's view of the chain.
    Result r =
        verifyDb(
            "UPDATE audit_log SET line_at = (SELECT line_at FROM audit_log WHERE seq = 6)"
                + " WHERE seq = 5");
    assertThat(r.ok()).isFalse();
    assertThat(r.kind()).isEqualTo(Kind.DELETED);
    assertThat(r.badSeq()).isEqualTo(5);
  }

  @Test
  void aRecordEditedInTheFileIsNamedInTheDatabaseToo() throws Exception {
    // The database reads its lines from the file: one place to change, and both views see it.
    List<String> l = lines();
    l.set(4, l.get(4).replace("\"status\":200", "\"status\":201"));
    Files.write(file, l, StandardCharsets.UTF_8);
    Result r = verifyDb();
    assertThat(r.kind()).isEqualTo(Kind.CHANGED);
    assertThat(r.badSeq()).isEqualTo(5);
  }

  @Test
  void databaseColumnEditIsNamed() throws Exception {
    Result r =
        verifyDb("UPDATE audit_log SET status = 500 WHERE seq = 5"); // the line is left alone
    assertThat(r.kind()).isEqualTo(Kind.CHANGED);
    assertThat(r.badSeq()).isEqualTo(5);
  }

  @Test
  void databaseDeleteIsNamed() throws Exception {
    Result r = verifyDb("DELETE FROM audit_log WHERE seq = 5");
    assertThat(r.kind()).isEqualTo(Kind.DELETED);
    assertThat(r.badSeq()).isEqualTo(5);
    assertThat(r.following()).isEqualTo(N - 5);
  }

  @Test
  void databaseInsertIsNamed() throws Exception {
    Result r =
        verifyDb(
            "INSERT INTO audit_log (seq, time, request_id, ip, key_id, status, reason, line, line_at)"
                + " SELECT seq, time, request_id, ip, key_id, status, reason, line, line_at FROM audit_log WHERE seq = 3");
    assertThat(r.kind()).isEqualTo(Kind.INSERTED);
    assertThat(r.badSeq()).isEqualTo(3);
    assertThat(r.line()).isEqualTo(N + 1);
  }

  @Test
  void databaseReorderIsNamed() throws Exception {
    // Swap the contents of the rows of seq 5 and 6: their order by insertion is now 6, 5.
    Result r =
        verifyDb(
            "CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (5, 6)",
            "UPDATE audit_log SET (seq, time, request_id, ip, key_id, status, reason, line, line_at) ="
                + " (SELECT seq, time, request_id, ip, key_id, status, reason, line, line_at FROM t WHERE t.seq = 11 - audit_log.seq)"
                + " WHERE seq IN (5, 6)");
    assertThat(r.kind()).isEqualTo(Kind.REORDERED);
    assertThat(r.badSeq()).isEqualTo(5);
  }

  // --- A log that retention pruned: seq 1-10 are gone, a signed anchor says so, 11-21 remain. ---

  private Path pruned() throws Exception {
    Path d = dir.resolve("pruned");
    PrunedAuditLog.write(d);
    return d;
  }

  private static Result verifyPrunedDb(Path d, String... sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + d.resolve("gatehouse.db"));
        Statement s = c.createStatement()) {
      for (String q : sql) {
        s.executeUpdate(q);
      }
    }
    try (SqliteStore store = SqliteStore.open(d)) {
      return AuditVerifier.verifyStore(
          store, d.resolve(AuditWriter.CHECKPOINTS), AuditKey.load(d.resolve("audit-hmac.key")));
    }
  }

  private static Result verifyPrunedLog(Path d) throws Exception {
    return AuditVerifier.verifyLog(
        d, d.resolve(AuditWriter.CHECKPOINTS), AuditKey.load(d.resolve("audit-hmac.key")));
  }

  private static Path segment(Path d, long firstSeq) {
    return d.resolve(AuditSegments.name(firstSeq));
  }

  @Test
  void prunedLogVerifiesFromTheAnchorOnInBothCopies() throws Exception {
    // why: retention must not make an intact log look tampered
    Path d = pruned();
    assertThat(Files.exists(segment(d, 1))).isFalse();
    assertThat(Files.exists(segment(d, 11))).isTrue();
    Result f = verifyPrunedLog(d);
    assertThat(f.ok()).as(f.describe()).isTrue();
    assertThat(f.firstSeq()).isEqualTo(11);
    assertThat(f.lastSeq()).isEqualTo(PrunedAuditLog.LAST);
    assertThat(f.prunedThrough()).isEqualTo(PrunedAuditLog.PRUNED_THROUGH);
    assertThat(f.checkpoints())
        .as("15, 20 and 21; those at 5 and 10 cover pruned records")
        .isEqualTo(3);
    assertThat(f.describe())
        .contains("11 records (seq 11-21)")
        .contains("seq 1-10 pruned by retention (signed anchor)");
    Result db = verifyPrunedDb(d);
    assertThat(db.ok()).as(db.describe()).isTrue();
    assertThat(db.records()).isEqualTo(11);
    assertThat(db.prunedThrough()).isEqualTo(10);
  }

  @Test
  void prunedLogWithOneMoreHeadSegmentDeletedIsNamed() throws Exception {
    Path d = pruned();
    Files.delete(segment(d, 11));
    Result r = verifyPrunedLog(d);
    assertThat(r.kind()).isEqualTo(Kind.DELETED);
    assertThat(r.badSeq()).isEqualTo(11);
    assertThat(r.file()).isEqualTo(AuditSegments.name(12));
    assertThat(r.line()).isEqualTo(1);
    assertThat(r.describe()).contains("only seq 1-10 were pruned");
    Result db = verifyPrunedDb(d, "DELETE FROM audit_log WHERE seq = 11");
    assertThat(db.kind()).isEqualTo(Kind.DELETED);
    assertThat(db.badSeq()).isEqualTo(11);
  }

  @Test
  void prunedLogWithAnEditedAnchorIsNamed() throws Exception {
    // why: moving the anchor forward would hide a deleted head; its HMAC no longer fits
    Path d = pruned();
    Path cps = d.resolve(AuditWriter.CHECKPOINTS);
    Files.writeString(
        cps, Files.readString(cps).replace("\"pruned_through\":10,", "\"pruned_through\":11,"));
    Files.delete(segment(d, 11));
    Result r = verifyPrunedLog(d);
    assertThat(r.kind()).isEqualTo(Kind.DELETED);
    assertThat(r.badSeq())
        .as("no signed anchor is left: everything from seq 1 is unaccounted for")
        .isEqualTo(1);
    assertThat(r.describe())
        .contains("Records seq 1-11 are missing")
        .contains("no valid signature");
    Result db = verifyPrunedDb(d, "DELETE FROM audit_log WHERE seq = 11");
    assertThat(db.kind()).isEqualTo(Kind.DELETED);
    assertThat(db.badSeq()).isEqualTo(1);
  }

  @Test
  void prunedLogWithAForgedAnchorIsNamed() throws Exception {
    // why: without the key an anchor cannot be made, so deleting more of the head still shows
    Path d = pruned();
    String hash11 = JSON.readTree(Files.readString(segment(d, 11))).path("hash").asText();
    Files.delete(segment(d, 11));
    Files.writeString(
        d.resolve(AuditWriter.CHECKPOINTS),
        "{\"pruned_through\":11,\"hash\":\""
            + hash11
            + "\",\"time\":\"2026-11-21T00:00:00Z\",\"hmac\":\""
            + "ab".repeat(32)
            + "\"}\n",
        StandardOpenOption.APPEND);
    Result r = verifyPrunedLog(d);
    assertThat(r.kind()).isEqualTo(Kind.DELETED);
    assertThat(r.badSeq()).isEqualTo(11);
    assertThat(r.describe()).contains("claims seq 1-11 were pruned has no valid signature");
  }

  @Test
  void aForgedAnchorThatHidesNothingIsStillReported() throws Exception {
    Path d = pruned();
    String hash15 = JSON.readTree(Files.readString(segment(d, 15))).path("hash").asText();
    Files.writeString(
        d.resolve(AuditWriter.CHECKPOINTS),
        "{\"pruned_through\":15,\"hash\":\""
            + hash15
            + "\",\"time\":\"2026-11-21T00:00:00Z\",\"hmac\":\""
            + "ab".repeat(32)
            + "\"}\n",
        StandardOpenOption.APPEND);
    Result r = verifyPrunedLog(d);
    assertThat(r.kind()).isEqualTo(Kind.CHECKPOINT_FORGED);
    assertThat(r.badSeq()).isEqualTo(15);
    assertThat(r.describe()).contains("pruning anchor at seq 15 does not carry a valid HMAC");
  }

  @Test
  void prunedLogWhoseFirstRecordDoesNotFollowTheAnchorIsNamed() throws Exception {
    // why: a replaced first record, rehashed to look intact, must not pass as the chain's start
    Path d = pruned();
    ObjectNode o = (ObjectNode) JSON.readTree(Files.readString(segment(d, 11)));
    o.put("prev", "1".repeat(64));
    Files.writeString(segment(d, 11), rehash(JSON.writeValueAsString(o)) + "\n");
    Result r = verifyPrunedLog(d);
    assertThat(r.kind()).isEqualTo(Kind.CHANGED);
    assertThat(r.badSeq()).isEqualTo(11);
    assertThat(r.describe()).contains("does not follow the signed pruning anchor at seq 10");
  }

  @Test
  void oneSegmentCheckedAloneIsCheckedAgainstTheAnchorOrCheckpointBeforeIt() throws Exception {
    // why: --jsonl FILE checks one file; its first record still has to follow a signed hash before
    // it
    Path d = pruned();
    Path cps = d.resolve(AuditWriter.CHECKPOINTS);
    Result middle = AuditVerifier.verifyFile(segment(d, 13), cps, key(d));
    assertThat(middle.ok()).as(middle.describe()).isTrue();
    assertThat(middle.alone()).isTrue();
    assertThat(middle.describe()).contains("1 records (seq 13-13)").contains("this file alone");
    String line = Files.readString(segment(d, 16)).strip();
    ObjectNode o = (ObjectNode) JSON.readTree(line);
    o.put("prev", "2".repeat(64)); // seq 16 must follow the signed checkpoint at 15
    Files.writeString(segment(d, 16), rehash(JSON.writeValueAsString(o)) + "\n");
    Result bad = AuditVerifier.verifyFile(segment(d, 16), cps, key(d));
    assertThat(bad.kind()).isEqualTo(Kind.CHANGED);
    assertThat(bad.badSeq()).isEqualTo(16);
    assertThat(bad.describe()).contains("does not follow the signed checkpoint at seq 15");
  }

  private static byte[] key(Path d) throws Exception {
    return AuditKey.load(d.resolve("audit-hmac.key"));
  }
}

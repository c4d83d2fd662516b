package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.account.AuditChain;
import dev.gatehouse.account.AuditKey;
import dev.gatehouse.account.AuditRecord;
import dev.gatehouse.account.AuditWriter;
import dev.gatehouse.audit.AuditVerifier.Kind;
import dev.gatehouse.audit.AuditVerifier.Result;
import dev.gatehouse.store.SqliteStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
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
 * first bad record. The log is 20 records with a signed checkpoint every 10.
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
        AuditWriter w = AuditWriter.open(dir, store, dir.resolve("audit-hmac.key"), 10, Duration.ofHours(1))) {
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
    return new AuditRecord("2026-11-22T00:00:00Z", id, "127.0.0.1", "k1", "ci", "POST", "/api/chat", "inference",
        "llama3.2:3b", status, status == 200 ? "allow" : "deny", status == 200 ? "ok" : "auth.key_invalid",
        100, 200, 10, 20, 1000, 2000, 3000, "test/1", false, null, null);
  }

  private List<String> lines() throws Exception {
    return new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
  }

  private Result verifyFile(List<String> lines) throws Exception {
    Files.write(file, lines, StandardCharsets.UTF_8);
    return AuditVerifier.verifyFile(file, checkpoints, key);
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
    Result f = AuditVerifier.verifyFile(file, checkpoints, key);
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
    Result r = verifyFile(l);
    assertThat(r.kind()).isEqualTo(Kind.CHANGED);
    assertThat(r.badSeq()).isEqualTo(5);
    assertThat(r.following()).isEqualTo(N - 5);
  }

  @Test
  void jsonlEditWithRecomputedHashStillNamesTheEditedRecord() throws Exception {
    List<String> l = lines();
    l.set(4, rehash(l.get(4).replace("\"status\":200", "\"status\":201")));
    Result r = verifyFile(l);
    assertThat(r.kind()).isEqualTo(Kind.CHANGED);
    assertThat(r.badSeq()).isEqualTo(5);
  }

  @Test
  void jsonlRewriteOfTheWholeTailIsCaughtByTheSignedCheckpoint() throws Exception {
    List<String> l = lines();
    String prev = JSON.readTree(l.get(10)).path("hash").asText();
    for (int i = 11; i < N; i++) { // edit seq 12 and re-chain everything after it
      ObjectNode o = (ObjectNode) JSON.readTree(i == 11 ? l.get(i).replace("\"ip\":\"127.0.0.1\"", "\"ip\":\"10.0.0.9\"") : l.get(i));
      o.put("prev", prev);
      o.remove("hash");
      prev = AuditChain.hash(prev, o);
      o.put("hash", prev);
      l.set(i, JSON.writeValueAsString(o));
    }
    Result r = verifyFile(l);
    assertThat(r.ok()).isFalse();
    assertThat(r.kind()).isEqualTo(Kind.CHANGED);
    assertThat(r.badSeq()).isEqualTo(11); // the first record after the last checkpoint that still holds
    assertThat(r.describe()).contains("between seq 11 and 20");
  }

  @Test
  void jsonlDeleteIsNamed() throws Exception {
    List<String> l = lines();
    l.remove(4);
    Result r = verifyFile(l);
    assertThat(r.kind()).isEqualTo(Kind.DELETED);
    assertThat(r.badSeq()).isEqualTo(5);
    assertThat(r.following()).isEqualTo(N - 5);
  }

  @Test
  void jsonlRecordsCutOffTheEndAreCaughtByTheCheckpoint() throws Exception {
    List<String> l = lines();
    l.subList(17, N).clear();
    Result r = verifyFile(l);
    assertThat(r.kind()).isEqualTo(Kind.DELETED);
    assertThat(r.badSeq()).isEqualTo(18);
  }

  @Test
  void jsonlInsertedCopyIsNamed() throws Exception {
    List<String> l = lines();
    l.add(7, l.get(2)); // a replayed copy of seq 3 between seq 7 and 8
    Result r = verifyFile(l);
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
    Result r = verifyFile(l);
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
    Result r = verifyFile(l);
    assertThat(r.kind()).isEqualTo(Kind.REORDERED);
    assertThat(r.badSeq()).isEqualTo(5);
  }

  @Test
  void forgedCheckpointIsCaught() throws Exception {
    List<String> cps = Files.readAllLines(checkpoints);
    cps.set(0, cps.get(0).replaceFirst("\"hmac\":\"[0-9a-f]", "\"hmac\":\"x"));
    Files.write(checkpoints, cps);
    Result r = AuditVerifier.verifyFile(file, checkpoints, key);
    assertThat(r.kind()).isEqualTo(Kind.CHECKPOINT_FORGED);
    assertThat(r.badSeq()).isEqualTo(10);
  }

  @Test
  void databaseEditIsNamed() throws Exception {
    Result r = verifyDb("UPDATE audit_log SET line = replace(line, '\"status\":200', '\"status\":201'), status = 201 WHERE seq = 5");
    assertThat(r.kind()).isEqualTo(Kind.CHANGED);
    assertThat(r.badSeq()).isEqualTo(5);
  }

  @Test
  void databaseColumnEditIsNamed() throws Exception {
    Result r = verifyDb("UPDATE audit_log SET status = 500 WHERE seq = 5"); // the line is left alone
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
    Result r = verifyDb("INSERT INTO audit_log (seq, time, request_id, ip, key_id, status, reason, line)"
        + " SELECT seq, time, request_id, ip, key_id, status, reason, line FROM audit_log WHERE seq = 3");
    assertThat(r.kind()).isEqualTo(Kind.INSERTED);
    assertThat(r.badSeq()).isEqualTo(3);
    assertThat(r.line()).isEqualTo(N + 1);
  }

  @Test
  void databaseReorderIsNamed() throws Exception {
    // Swap the contents of the rows of seq 5 and 6: their order by insertion is now 6, 5.
    Result r = verifyDb(
        "CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (5, 6)",
        "UPDATE audit_log SET (seq, time, request_id, ip, key_id, status, reason, line) ="
            + " (SELECT seq, time, request_id, ip, key_id, status, reason, line FROM t WHERE t.seq = 11 - audit_log.seq)"
            + " WHERE seq IN (5, 6)");
    assertThat(r.kind()).isEqualTo(Kind.REORDERED);
    assertThat(r.badSeq()).isEqualTo(5);
  }
}

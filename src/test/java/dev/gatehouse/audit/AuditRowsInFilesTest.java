package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.config.GatehouseConfig.AuditRetention;
import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.AuditStore.AuditQuery;
import dev.gatehouse.store.SqliteStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database copy of a gateway whose store is the SQLite file in its own data directory keeps,
 * for each record, where its line is in the JSONL files rather than a copy of the line (issue 12:
 * the line was most of each row's bytes, and about half of the copy's CPU). Every reader still gets
 * the exact line: across sealed segments, after a catch-up from the files, with characters that
 * take several bytes; a row whose line is gone is left out, and the verifier says so.
 */
class AuditRowsInFilesTest {

  @TempDir Path dir;

  /** A record whose user agent takes 1, 2, 3 and 4 bytes a character, so offsets are bytes. */
  private static AuditRecord record(int i) {
    return new AuditRecord(
        "2026-12-0" + (1 + i % 2) + "T00:00:00Z",
        "req" + i,
        "10.0.0." + (i % 4),
        i % 5 == 0 ? null : "k" + (i % 2),
        i % 5 == 0 ? null : "key",
        "POST",
        "/api/chat",
        "inference",
        i % 3 == 0 ? null : "llama3.2:3b",
        i % 5 == 0 ? 401 : 200,
        i % 5 == 0 ? "deny" : "allow",
        i % 5 == 0 ? "auth.key_missing" : "ok",
        100,
        200,
        i % 5 == 0 ? -1 : 10 + i,
        i % 5 == 0 ? -1 : 20 + i,
        1000,
        2000,
        3000,
        "client/" + i + " na\u00efve \u20ac \uD83E\uDD99",
        false,
        null,
        null);
  }

  /** Writes records {@code from}-{@code to}, sealing segments past {@code segmentBytes}. */
  private void write(AuditStore store, int from, int to, long segmentBytes) throws Exception {
    write(store, from, to, new AuditRetention(segmentBytes, Duration.ZERO, 0));
  }

  private void write(AuditStore store, int from, int to, AuditRetention retention)
      throws Exception {
    try (AuditWriter w =
        AuditWriter.open(
            dir,
            store,
            dir.resolve("audit-hmac.key"),
            7,
            Duration.ofHours(1),
            retention,
            Clock.systemUTC())) {
      for (int i = from; i <= to; i++) {
        w.append(record(i)).join();
      }
    }
  }

  /** Every line of the log, in order: the sealed segments, then the active file. */
  private List<String> fileLines() throws Exception {
    List<String> out = new ArrayList<>();
    for (Path p : AuditSegments.files(dir)) {
      for (String l : Files.readAllLines(p, StandardCharsets.UTF_8)) {
        if (!l.isEmpty()) {
          out.add(l);
        }
      }
    }
    return out;
  }

  /** The rows' (line, line_at) as stored, by seq. */
  private List<String[]> stored() throws Exception {
    List<String[]> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("gatehouse.db"));
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT line, line_at FROM audit_log ORDER BY seq")) {
      while (rs.next()) {
        out.add(new String[] {rs.getString(1), rs.getString(2)});
      }
    }
    return out;
  }

  private List<String> readBack(SqliteStore store) {
    List<String> out = new ArrayList<>();
    store.forEachAuditRow(r -> out.add(r.line()));
    return out;
  }

  private AuditVerifier.Result verifyDb(SqliteStore store) throws Exception {
    return AuditVerifier.verifyStore(
        store, dir.resolve(AuditWriter.CHECKPOINTS), AuditKey.load(dir.resolve("audit-hmac.key")));
  }

  @Test
  void rowsAcrossSealedSegmentsReadBackTheExactLines() throws Exception {
    try (SqliteStore store = SqliteStore.open(dir)) {
      write(store, 1, 40, 3000);
      assertThat(AuditSegments.sealed(dir)).hasSizeGreaterThan(3);
      List<String> lines = fileLines();
      assertThat(lines).hasSize(40);
      // two- and three-byte characters are written as they are (a four-byte one is escaped)
      assertThat(lines.get(1)).contains("na\u00efve \u20ac \\uD83E\\uDD99");

      List<String[]> rows = stored();
      assertThat(rows).hasSize(40);
      for (String[] r : rows) {
        assertThat(r[0]).as("no copy of the line").isEmpty();
        assertThat(r[1]).as("where it is").isNotNull();
      }
      assertThat(readBack(store)).isEqualTo(lines);
      for (int seq : new int[] {1, 7, 8, 23, 40}) {
        assertThat(store.auditRow(seq).orElseThrow().line()).isEqualTo(lines.get(seq - 1));
      }
      assertThat(
              store.queryAudit(new AuditQuery("k1", null, null, null, null, null, 4)).stream()
                  .map(AuditStore.AuditRow::line)
                  .toList())
          .containsExactly(lines.get(38), lines.get(36), lines.get(32), lines.get(30));
      AuditVerifier.Result r = verifyDb(store);
      assertThat(r.ok()).as(r.describe()).isTrue();
      assertThat(r.records()).isEqualTo(40);
    }
  }

  @Test
  void theSummariesReadTheModelAndTokensOfRowsWithoutTheirLine() throws Exception {
    // Rows that hold their line (written before migration V9, or by a writer elsewhere) and rows
    // that point at it are summed alike.
    try (SqliteStore store = SqliteStore.open(dir)) {
      write(store, 1, 10, 0);
      List<AuditStore.AuditSummary> pointing = store.summarizeAudit(null, null);
      try (Connection c =
              DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("gatehouse.db"));
          Statement s = c.createStatement()) {
        s.executeUpdate("DELETE FROM audit_log");
      }
      List<String> lines = fileLines();
      List<AuditStore.AuditRow> holding = new ArrayList<>();
      for (String l : lines) { // as the catch-up makes them, without an offset
        holding.add(AuditDbCopy.row(new ObjectMapper().readTree(l), l, -1));
      }
      store.appendAudit(holding);
      assertThat(stored().getFirst()[1]).as("held lines keep no offset").isNull();
      assertThat(pointing).isEqualTo(store.summarizeAudit(null, null));
      // records 1-10: day 2 has the odd ones, key k1; a model but for 3 and 9; 5 refused
      assertThat(pointing)
          .contains(new AuditStore.AuditSummary("2026-12-02", "k1", "llama3.2:3b", 2, 0, 28, 48))
          .contains(new AuditStore.AuditSummary("2026-12-02", "k1", "-", 2, 0, 32, 52))
          .contains(new AuditStore.AuditSummary("2026-12-02", "-", "llama3.2:3b", 1, 1, 0, 0));
    }
  }

  @Test
  void aLogUpgradedFromRowsThatHoldTheirLinesReadsAndVerifiesAsOne() throws Exception {
    // A database from before migration V9: its rows hold their lines. Made here by writing 1-12,
    // then putting each one's line back in its row as those builds did.
    try (SqliteStore store = SqliteStore.open(dir)) {
      write(store, 1, 12, 2500);
      List<String> before = fileLines();
      try (Connection c =
              DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("gatehouse.db"));
          var ps =
              c.prepareStatement(
                  "UPDATE audit_log SET line = ?, line_at = NULL, model = NULL, tokens_in = NULL,"
                      + " tokens_out = NULL WHERE seq = ?")) {
        for (int i = 0; i < before.size(); i++) {
          ps.setString(1, before.get(i));
          ps.setLong(2, i + 1L);
          ps.executeUpdate();
        }
      }
      write(store, 13, 30, 2500); // this build's rows after them
      List<String[]> rows = stored();
      assertThat(rows.subList(0, 12)).allSatisfy(r -> assertThat(r[1]).isNull());
      assertThat(rows.subList(12, 30)).allSatisfy(r -> assertThat(r[0]).isEmpty());
      List<String> lines = fileLines();
      assertThat(readBack(store)).isEqualTo(lines);
      assertThat(
              store.queryAudit(new AuditQuery(null, null, null, null, null, null, 20)).stream()
                  .map(AuditStore.AuditRow::seq)
                  .toList())
          .hasSize(20)
          .contains(29L, 1L, 30L); // newest first: day 2's (odd) rows, then day 1's from 30
      AuditVerifier.Result r = verifyDb(store);
      assertThat(r.ok()).as(r.describe()).isTrue();
      assertThat(r.records()).isEqualTo(30);
    }
  }

  @Test
  void aCatchUpFromTheFilesStoresWhereEachLineIs() throws Exception {
    write(AuditStore.NONE, 1, 25, 2500); // the database had none of them
    try (SqliteStore store = SqliteStore.open(dir)) {
      write(store, 26, 30, 2500); // opening copies 1-25 from the files first
      List<String> lines = fileLines();
      assertThat(lines).hasSize(30);
      assertThat(stored()).allSatisfy(r -> assertThat(r[0]).isEmpty());
      assertThat(readBack(store)).isEqualTo(lines);
      assertThat(verifyDb(store).ok()).isTrue();
    }
  }

  @Test
  void aStoreInAnotherDirectoryKeepsTheLines() throws Exception {
    // The store cannot read this log's files: each row holds its line, as before.
    try (SqliteStore store = SqliteStore.open(dir.resolve("elsewhere"))) {
      write(store, 1, 5, 0);
      assertThat(readBack(store)).isEqualTo(fileLines());
    }
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:sqlite:" + dir.resolve("elsewhere").resolve("gatehouse.db"));
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM audit_log WHERE line_at IS NULL")) {
      assertThat(rs.getInt(1)).isEqualTo(5);
    }
  }

  @Test
  void rowsWhoseSegmentIsGoneAreLeftOutAndTheVerifierSaysSo() throws Exception {
    try (SqliteStore store = SqliteStore.open(dir)) {
      write(store, 1, 30, 2500);
      List<Path> sealed = AuditSegments.sealed(dir);
      assertThat(sealed).hasSizeGreaterThan(2);
      Path second = sealed.get(1);
      long first = AuditSegments.firstSeq(second);
      long after = AuditSegments.firstSeq(sealed.get(2));
      Files.delete(second); // not pruned: no anchor says so

      List<Long> seqs = new ArrayList<>();
      store.forEachAuditRow(r -> seqs.add(r.seq()));
      assertThat(seqs).hasSize(30 - (int) (after - first)).doesNotContain(first, after - 1);
      assertThat(store.auditRow(first)).isEmpty();
      assertThat(store.queryAudit(new AuditQuery(null, null, null, null, null, null, 100)))
          .hasSize(seqs.size());
      AuditVerifier.Result r = verifyDb(store);
      assertThat(r.ok()).isFalse();
      assertThat(r.kind()).isEqualTo(AuditVerifier.Kind.DELETED);
      assertThat(r.badSeq()).isEqualTo(first);
    }
  }

  @Test
  void retentionPrunesRowsWithTheirSegmentsAndTheRestStillVerify() throws Exception {
    try (SqliteStore store = SqliteStore.open(dir)) {
      write(store, 1, 40, new AuditRetention(2500, Duration.ZERO, 6000));
      List<String> lines = fileLines();
      assertThat(lines.size()).isLessThan(40);
      assertThat(readBack(store)).isEqualTo(lines);
      AuditVerifier.Result r = verifyDb(store);
      assertThat(r.ok()).as(r.describe()).isTrue();
    }
  }
}

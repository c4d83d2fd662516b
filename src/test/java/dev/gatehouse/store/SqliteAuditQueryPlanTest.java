package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.AuditStore.AuditQuery;
import dev.gatehouse.store.AuditStore.AuditRow;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each filter of {@code audit query} is answered through the index of its column, as SQLite plans
 * it on a real database ({@code EXPLAIN QUERY PLAN} of the exact SQL the store runs); and the
 * status and reason indexes hold refusals only, so that the copy of a served request's row does not
 * update them. The results themselves are held by the store contract ({@code AuditStoreContract}).
 */
class SqliteAuditQueryPlanTest {

  @TempDir Path dir;

  @BeforeEach
  void fill() {
    List<AuditRow> rows = new ArrayList<>();
    for (int i = 1; i <= 2_000; i++) {
      boolean refused = i % 50 == 0;
      String time = String.format("2026-01-01T%02d:%02d:%02d.000Z", i / 3600, i / 60 % 60, i % 60);
      rows.add(
          new AuditRow(
              i,
              time,
              "req-" + i,
              "10.0." + (i % 7) + ".1",
              "k" + (i % 5),
              refused ? 429 : 200,
              refused ? "limit.rate" : "ok",
              "{\"seq\":" + i + "}"));
    }
    try (SqliteStore s = SqliteStore.open(dir)) {
      s.appendAudit(rows); // no ANALYZE: the gateway never runs it, so SQLite plans without stats
    }
  }

  private Connection connection() throws java.sql.SQLException {
    return DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("gatehouse.db"));
  }

  /** SQLite's plan for the store's query, one line per step. */
  private String plan(AuditQuery q) throws Exception {
    List<Object> args = new ArrayList<>();
    String sql = SqliteStore.auditQuery(q, args);
    StringBuilder out = new StringBuilder();
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
      for (int i = 0; i < args.size(); i++) {
        ps.setObject(i + 1, args.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.append(rs.getString("detail")).append('\n');
        }
      }
    }
    return out.toString();
  }

  @Test
  void theSummaryReadsTheTimeIndexFromItsStart() throws Exception {
    List<Object> args = new ArrayList<>();
    String sql = SqliteStore.auditSummary("2026-01-01T00:10:00.000Z", null, args);
    StringBuilder out = new StringBuilder();
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
      ps.setObject(1, args.get(0));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.append(rs.getString("detail")).append('\n');
        }
      }
    }
    assertThat(args).hasSize(1);
    assertThat(out.toString()).contains("SEARCH audit_log USING INDEX audit_log_time (time>?)");
  }

  private static AuditQuery query(
      String key, String ip, Integer status, String reason, String since) {
    return new AuditQuery(key, ip, status, reason, since, null, 100);
  }

  @Test
  void eachFilterSearchesTheIndexOfItsColumn() throws Exception {
    assertThat(plan(query("k1", null, null, null, null))).contains("INDEX audit_log_key");
    assertThat(plan(query(null, "10.0.3.1", null, null, null))).contains("INDEX audit_log_ip");
    assertThat(plan(query(null, null, 429, null, null))).contains("INDEX audit_log_refused_status");
    assertThat(plan(query(null, null, null, "limit.rate", null)))
        .contains("INDEX audit_log_refused_reason");
    assertThat(plan(query(null, null, null, "guard.blocked", "2026-01-01T00:10:00.000Z")))
        .contains("INDEX audit_log_refused_reason");
    assertThat(plan(query(null, null, null, null, "2026-01-01T00:10:00.000Z")))
        .contains("INDEX audit_log_time");
    assertThat(plan(query(null, null, null, null, null))).contains("INDEX audit_log_time");
  }

  @Test
  void servedRowsAreFoundThroughTheTimeIndexNotTheRefusalIndexes() throws Exception {
    // a partial index cannot answer for rows it does not hold: SQLite must not pick it
    assertThat(plan(query(null, null, 200, null, null)))
        .contains("INDEX audit_log_time")
        .doesNotContain("refused");
    assertThat(plan(query(null, null, null, "ok", null)))
        .contains("INDEX audit_log_time")
        .doesNotContain("refused");
    assertThat(plan(query(null, null, 399, null, null))).doesNotContain("refused");
  }

  @Test
  void theStatusAndReasonIndexesHoldRefusalsOnly() throws Exception {
    try (Connection c = connection()) {
      assertThat(count(c, "SELECT COUNT(*) FROM audit_log")).isEqualTo(2_000);
      // counted through each index alone (INDEXED BY fails the statement if it cannot be used)
      assertThat(
              count(
                  c,
                  "SELECT COUNT(*) FROM audit_log INDEXED BY audit_log_refused_status"
                      + " WHERE status >= 400"))
          .isEqualTo(40);
      assertThat(
              count(
                  c,
                  "SELECT COUNT(*) FROM audit_log INDEXED BY audit_log_refused_reason"
                      + " WHERE reason <> 'ok'"))
          .isEqualTo(40);
      assertThat(
              count(
                  c,
                  "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'"
                      + " AND name IN ('audit_log_status', 'audit_log_reason')"))
          .isZero();
    }
  }

  private static long count(Connection c, String sql) throws Exception {
    try (ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}

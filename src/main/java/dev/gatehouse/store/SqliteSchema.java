package dev.gatehouse.store;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import org.jspecify.annotations.Nullable;

/**
 * The SQLite store's schema: the migrations this build ships, and the check that lets a database
 * already at the latest of them open without Flyway. Flyway scans the class path, parses and
 * validates every migration on each open, which costs more than half a second of start-up for a
 * schema that is nearly always current; one query of its history table answers the same question
 * for that case, comparing what Flyway's validation compares (version, description, type, script
 * and checksum of each migration, in order, each successful). Anything else (an empty database, an
 * older schema, a history that differs from this build's migrations in any way) still goes through
 * Flyway, which migrates or refuses as before; a schema newer than this build knows is refused
 * here.
 */
final class SqliteSchema {

  private SqliteSchema() {}

  /** Where the migrations are, as Flyway's {@code locations} and as resources. */
  static final String LOCATION = "db/migration";

  /**
   * The migrations under {@link #LOCATION}, in order: one line per file. {@code SqliteSchemaTest}
   * fails when this list and the directory differ, so a new migration cannot be left out of the
   * check.
   */
  static final List<String> MIGRATIONS =
      List.of(
          "V1__keys.sql",
          "V2__limits_and_usage.sql",
          "V3__bans.sql",
          "V4__audit.sql",
          "V5__key_guard.sql",
          "V6__admin.sql",
          "V7__admin_totp.sql",
          "V8__audit_refusal_indexes.sql",
          "V9__audit_lines_in_files.sql");

  /** What the history says about a database. */
  enum State {
    /** Every migration of this build applied, successfully, unchanged, and nothing else. */
    CURRENT,
    /** Anything else that Flyway should judge: migrate it, or refuse it with its own reason. */
    FLYWAY,
    /** A migration newer than the latest this build knows was applied: refused. */
    NEWER
  }

  /** The answer, and the newest version the history records (for the message). */
  record Verdict(State state, String recorded) {}

  /**
   * Reads Flyway's history table. Never a reason to skip Flyway unless the history is exactly this
   * build's migrations: same versions in the same order, same scripts, same checksums, all
   * successful. A missing history table (a new database) is {@link State#FLYWAY}.
   */
  static Verdict check(Connection c) throws SQLException {
    List<Row> rows = new ArrayList<>();
    try (Statement st = c.createStatement();
        ResultSet exists =
            st.executeQuery(
                "SELECT count(*) FROM sqlite_master"
                    + " WHERE type = 'table' AND name = 'flyway_schema_history'")) {
      if (!exists.next() || exists.getInt(1) != 1) {
        return new Verdict(State.FLYWAY, "none");
      }
    }
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT version, description, script, checksum, type, success"
                    + " FROM flyway_schema_history ORDER BY installed_rank")) {
      while (rs.next()) {
        int checksum = rs.getInt(4);
        rows.add(
            new Row(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.wasNull() ? null : checksum,
                rs.getString(5),
                rs.getBoolean(6)));
      }
    }
    return judge(rows, expected());
  }

  /** One row of Flyway's history, in the columns its validation compares; any may be absent. */
  record Row(
      @Nullable String version,
      @Nullable String description,
      @Nullable String script,
      @Nullable Integer checksum,
      @Nullable String type,
      boolean success) {}

  static Verdict judge(List<Row> rows, List<Row> expected) {
    String latest = versionOf(expected.getLast().script());
    String newest = "none";
    for (Row r : rows) {
      if (r.version() == null) {
        continue;
      }
      if (newest.equals("none") || compare(r.version(), newest) > 0) {
        newest = r.version();
      }
    }
    // A newer build's migration may have added what this build would not honour (a column that
    // restricts a key, say): refuse it rather than serve on a schema it does not know.
    if (!newest.equals("none") && compare(newest, latest) > 0) {
      return new Verdict(State.NEWER, newest);
    }
    return new Verdict(rows.equals(expected) ? State.CURRENT : State.FLYWAY, newest);
  }

  /** The history a database migrated by this build has, checksums computed as Flyway does. */
  static List<Row> expected() {
    List<Row> out = new ArrayList<>(MIGRATIONS.size());
    for (String script : MIGRATIONS) {
      out.add(
          new Row(versionOf(script), descriptionOf(script), script, checksum(script), "SQL", true));
    }
    return out;
  }

  /** {@code V12__name.sql} is version {@code 12}. */
  static String versionOf(@Nullable String script) {
    if (script == null || !script.startsWith("V") || !script.contains("__")) {
      throw new IllegalArgumentException("not a versioned migration: " + script);
    }
    return script.substring(1, script.indexOf("__")).replace('_', '.');
  }

  /** {@code V2__limits_and_usage.sql} is described as {@code limits and usage}, as Flyway does. */
  static String descriptionOf(String script) {
    String rest = script.substring(script.indexOf("__") + 2);
    return rest.substring(0, rest.length() - ".sql".length()).replace('_', ' ');
  }

  /**
   * Flyway's checksum of a migration: CRC-32 of its lines in UTF-8, without line ends, a leading
   * byte-order mark dropped (Flyway's {@code ChecksumCalculator}).
   */
  static int checksum(String script) {
    String name = LOCATION + "/" + script;
    InputStream in = SqliteSchema.class.getClassLoader().getResourceAsStream(name);
    if (in == null) {
      throw new StoreException("migration " + name + " is missing from this build", null);
    }
    CRC32 crc = new CRC32();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line = r.readLine();
      if (line != null && line.startsWith("\uFEFF")) {
        line = line.substring(1);
      }
      for (; line != null; line = r.readLine()) {
        crc.update(line.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new StoreException("cannot read migration " + name + ": " + e.getMessage(), e);
    }
    return (int) crc.getValue();
  }

  /**
   * Compares dotted versions part by part as numbers ({@code 10 > 9}); a part that is not a number
   * compares as text, after every number.
   */
  static int compare(String a, String b) {
    String[] x = a.split("\\.");
    String[] y = b.split("\\.");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      String p = i < x.length ? x[i] : "0";
      String q = i < y.length ? y[i] : "0";
      int c = comparePart(p, q);
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }

  private static int comparePart(String p, String q) {
    boolean pn = !p.isEmpty() && p.chars().allMatch(Character::isDigit);
    boolean qn = !q.isEmpty() && q.chars().allMatch(Character::isDigit);
    if (pn && qn) {
      return new java.math.BigInteger(p).compareTo(new java.math.BigInteger(q));
    }
    if (pn != qn) {
      return pn ? -1 : 1;
    }
    return p.compareTo(q);
  }
}

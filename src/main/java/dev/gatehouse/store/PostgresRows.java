package dev.gatehouse.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * How the PostgreSQL store's rows map to records: the same columns as the SQLite store's (times in
 * epoch milliseconds, lists as JSON text), so the two read and write alike.
 */
final class PostgresRows {

  private PostgresRows() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static void setInstant(PreparedStatement ps, int i, @Nullable Instant t) throws SQLException {
    if (t == null) {
      ps.setNull(i, Types.BIGINT);
    } else {
      ps.setLong(i, t.toEpochMilli());
    }
  }

  static @Nullable Instant instant(ResultSet rs, String col) throws SQLException {
    long v = rs.getLong(col);
    return rs.wasNull() ? null : Instant.ofEpochMilli(v);
  }

  static void insertKey(Connection c, KeyRecord k) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO api_keys (id, name, hash, scopes, models, created_at, expires_at, revoked_at, rotated_to, limits, networks, guard)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, k.id());
      ps.setString(2, k.name());
      ps.setBytes(3, k.hash());
      ps.setString(4, json(k.scopes()));
      ps.setString(5, json(k.models()));
      ps.setLong(6, k.createdAt().toEpochMilli());
      setInstant(ps, 7, k.expiresAt());
      setInstant(ps, 8, k.revokedAt());
      ps.setString(9, k.rotatedTo());
      ps.setString(10, json(k.limits() == null ? KeyLimits.NONE : k.limits()));
      ps.setString(11, k.networks().isEmpty() ? null : json(k.networks()));
      ps.setString(12, k.guard());
      ps.executeUpdate();
    }
  }

  static KeyRecord key(ResultSet rs) throws SQLException {
    try {
      String networks = rs.getString("networks");
      return new KeyRecord(
          rs.getString("id"),
          rs.getString("name"),
          rs.getBytes("hash"),
          StoredJson.strings(rs.getString("scopes")),
          StoredJson.strings(rs.getString("models")),
          Instant.ofEpochMilli(rs.getLong("created_at")), // NOT NULL
          instant(rs, "expires_at"),
          instant(rs, "revoked_at"),
          rs.getString("rotated_to"),
          StoredJson.limits(rs.getString("limits")),
          networks == null ? List.of() : StoredJson.strings(networks),
          rs.getString("guard"));
    } catch (JsonProcessingException e) {
      throw new SQLException("corrupt key row " + rs.getString("id"), e);
    }
  }

  /** The ban row of an address, or null; {@code lock}: held until the transaction ends. */
  static @Nullable BanRecord findBan(Connection c, String ip, boolean lock) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT * FROM bans WHERE ip = ?" + (lock ? " FOR UPDATE" : ""))) {
      ps.setString(1, ip);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? ban(rs) : null;
      }
    }
  }

  static void upsertBan(Connection c, BanRecord next) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO bans (ip, banned_at, banned_until, times, source, reasons, first_seen, last_seen, requests, sample_paths)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ip) DO UPDATE SET"
                + " banned_at = excluded.banned_at, banned_until = excluded.banned_until,"
                + " times = excluded.times, source = excluded.source, reasons = excluded.reasons,"
                + " first_seen = excluded.first_seen, last_seen = excluded.last_seen,"
                + " requests = excluded.requests, sample_paths = excluded.sample_paths")) {
      ps.setString(1, next.ip());
      ps.setLong(2, next.bannedAt().toEpochMilli());
      setInstant(ps, 3, next.bannedUntil());
      ps.setInt(4, next.times());
      ps.setString(5, next.source());
      ps.setString(6, json(next.reasons()));
      ps.setLong(7, next.firstSeen().toEpochMilli());
      ps.setLong(8, next.lastSeen().toEpochMilli());
      ps.setLong(9, next.requests());
      ps.setString(10, json(next.samplePaths()));
      ps.executeUpdate();
    }
  }

  static BanRecord ban(ResultSet rs) throws SQLException {
    try {
      return new BanRecord(
          rs.getString("ip"),
          Instant.ofEpochMilli(rs.getLong("banned_at")), // NOT NULL
          instant(rs, "banned_until"),
          rs.getInt("times"),
          rs.getString("source"),
          StoredJson.strings(rs.getString("reasons")),
          Instant.ofEpochMilli(rs.getLong("first_seen")), // NOT NULL
          Instant.ofEpochMilli(rs.getLong("last_seen")), // NOT NULL
          rs.getLong("requests"),
          StoredJson.strings(rs.getString("sample_paths")));
    } catch (JsonProcessingException e) {
      throw new SQLException("corrupt ban row " + rs.getString("ip"), e);
    }
  }
}

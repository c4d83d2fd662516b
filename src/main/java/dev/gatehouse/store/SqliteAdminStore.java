package dev.gatehouse.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The SQLite store's admin credentials: the {@code admin_credentials} table of the same database,
 * through the same pool (and the same refusal of event-loop callers) as {@link SqliteStore}. A
 * class of its own because the admin store's methods would crowd the data plane's store, and
 * nothing on the request path reads this table. Thread-safe.
 */
final class SqliteAdminStore implements AdminStore {

  private final SqliteStore db;

  SqliteAdminStore(SqliteStore db) {
    this.db = db;
  }

  @Override
  public List<AdminRecord> listAdmins() {
    try (Connection c = db.connection();
        PreparedStatement ps =
            c.prepareStatement("SELECT * FROM admin_credentials ORDER BY created_at DESC, id");
        ResultSet rs = ps.executeQuery()) {
      List<AdminRecord> out = new ArrayList<>();
      while (rs.next()) {
        out.add(read(rs));
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("cannot list admin credentials: " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<AdminRecord> findAdmin(String id) {
    try (Connection c = db.connection()) {
      return find(c, id);
    } catch (SQLException e) {
      throw new StoreException("cannot read admin credential " + id + ": " + e.getMessage(), e);
    }
  }

  private static Optional<AdminRecord> find(Connection c, String id) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT * FROM admin_credentials WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(read(rs)) : Optional.empty();
      }
    }
  }

  @Override
  public void insertAdmin(AdminRecord a) {
    try (Connection c = db.connection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO admin_credentials (id, name, role, hash, created_at, revoked_at, last_used_at)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, a.id());
      ps.setString(2, a.name());
      ps.setString(3, a.role());
      ps.setBytes(4, a.hash());
      ps.setLong(5, a.createdAt().toEpochMilli());
      setInstant(ps, 6, a.revokedAt());
      setInstant(ps, 7, a.lastUsedAt());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot store admin credential: " + e.getMessage(), e);
    }
  }

  @Override
  public Revoke revokeAdmin(String id, Instant at) {
    try (Connection c = db.connection()) {
      // One IMMEDIATE transaction (the pool's pragma): the write lock is held from the check to
      // the update, so two revocations at once cannot both pass the last-admin check.
      c.setAutoCommit(false);
      try {
        Revoke r = revoke(c, id, at);
        c.commit();
        return r;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new StoreException("cannot revoke admin credential " + id + ": " + e.getMessage(), e);
    }
  }

  private static Revoke revoke(Connection c, String id, Instant at) throws SQLException {
    Optional<AdminRecord> found = find(c, id);
    if (found.isEmpty() || !found.get().active()) {
      return Revoke.NOT_FOUND;
    }
    if (found.get().role().equals("admin")) {
      try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT count(*) FROM admin_credentials WHERE role = 'admin' AND revoked_at IS NULL");
          ResultSet rs = ps.executeQuery()) {
        // Without an active admin nobody could manage credentials through the API again.
        if (!rs.next() || rs.getLong(1) <= 1) {
          return Revoke.LAST_ADMIN;
        }
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE admin_credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")) {
      ps.setLong(1, at.toEpochMilli());
      ps.setString(2, id);
      return ps.executeUpdate() == 1 ? Revoke.REVOKED : Revoke.NOT_FOUND;
    }
  }

  @Override
  public void touchAdmin(String id, Instant at) {
    try (Connection c = db.connection();
        PreparedStatement ps =
            c.prepareStatement("UPDATE admin_credentials SET last_used_at = ? WHERE id = ?")) {
      ps.setLong(1, at.toEpochMilli());
      ps.setString(2, id);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot record use of admin credential: " + e.getMessage(), e);
    }
  }

  private static AdminRecord read(ResultSet rs) throws SQLException {
    return new AdminRecord(
        rs.getString("id"),
        rs.getString("name"),
        rs.getString("role"),
        rs.getBytes("hash"),
        Instant.ofEpochMilli(rs.getLong("created_at")),
        instant(rs, "revoked_at"),
        instant(rs, "last_used_at"));
  }

  private static @Nullable Instant instant(ResultSet rs, String column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : Instant.ofEpochMilli(v);
  }

  private static void setInstant(PreparedStatement ps, int i, @Nullable Instant t)
      throws SQLException {
    if (t == null) {
      ps.setNull(i, Types.INTEGER);
    } else {
      ps.setLong(i, t.toEpochMilli());
    }
  }
}

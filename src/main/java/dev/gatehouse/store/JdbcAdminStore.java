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
 * The admin credentials of a JDBC store, SQLite or PostgreSQL: the {@code admin_credentials} table
 * (and its TOTP columns) of the same database, through the same pool (and the same refusal of
 * event-loop callers). A class of its own because the admin store's methods would crowd the data
 * plane's store, and nothing on the request path reads this table. The SQL is the same on both;
 * they differ in how a revocation keeps the last-admin check and its update together ({@link
 * #forSqlite}, {@link #forPostgres}). Every one-time use (a TOTP time step, a recovery code) is one
 * conditional {@code UPDATE}, which both databases apply one at a time, so two logins (on two
 * gateways) cannot both use the same code. Thread-safe.
 */
final class JdbcAdminStore implements AdminStore {

  private final SqlDatabase db;

  /** Run first in a revocation's transaction, or null when the transaction alone suffices. */
  private final @Nullable String revokeLock;

  private JdbcAdminStore(SqlDatabase db, @Nullable String revokeLock) {
    this.db = db;
    this.revokeLock = revokeLock;
  }

  /**
   * SQLite: a store transaction is IMMEDIATE, so the write lock is held from the last-admin check
   * to the update, and two revocations at once cannot both pass it.
   */
  static JdbcAdminStore forSqlite(SqliteStore db) {
    return new JdbcAdminStore(db::connection, null);
  }

  /**
   * PostgreSQL: the table is locked against other writers from the last-admin check to the update,
   * so two revocations at once (on two gateways) cannot both pass it.
   */
  static JdbcAdminStore forPostgres(PostgresStore db) {
    return new JdbcAdminStore(
        db::connection, "LOCK TABLE admin_credentials IN SHARE ROW EXCLUSIVE MODE");
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
    return db.inTransaction(
        "cannot revoke admin credential " + id,
        c -> {
          if (revokeLock != null) {
            try (java.sql.Statement st = c.createStatement()) {
              st.execute(revokeLock);
            }
          }
          return revoke(c, id, at);
        });
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

  @Override
  public Optional<AdminTotpRecord> findTotp(String credentialId) {
    try (Connection c = db.connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT t.*, (SELECT count(*) FROM admin_recovery_codes r"
                    + " WHERE r.credential_id = t.credential_id AND r.used_at IS NULL) AS left_codes"
                    + " FROM admin_totp t WHERE t.credential_id = ?")) {
      ps.setString(1, credentialId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        long step = rs.getLong("last_step");
        Long lastStep = rs.wasNull() ? null : step;
        return Optional.of(
            new AdminTotpRecord(
                rs.getString("credential_id"),
                rs.getBytes("secret"),
                Instant.ofEpochMilli(rs.getLong("created_at")),
                instant(rs, "confirmed_at"),
                lastStep,
                rs.getInt("left_codes")));
      }
    } catch (SQLException e) {
      throw new StoreException("cannot read the second factor of " + credentialId, e);
    }
  }

  @Override
  public boolean beginTotp(String credentialId, byte[] encryptedSecret, Instant at) {
    try (Connection c = db.connection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO admin_totp (credential_id, secret, created_at, confirmed_at, last_step)"
                    + " VALUES (?, ?, ?, NULL, NULL) ON CONFLICT (credential_id) DO UPDATE SET"
                    + " secret = excluded.secret, created_at = excluded.created_at,"
                    + " last_step = NULL WHERE admin_totp.confirmed_at IS NULL")) {
      ps.setString(1, credentialId);
      ps.setBytes(2, encryptedSecret);
      ps.setLong(3, at.toEpochMilli());
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw new StoreException("cannot start the second factor of " + credentialId, e);
    }
  }

  @Override
  public boolean confirmTotp(
      String credentialId, long step, List<byte[]> recoveryHashes, Instant at) {
    return db.inTransaction(
        "cannot confirm the second factor of " + credentialId,
        c -> confirm(c, credentialId, step, recoveryHashes, at));
  }

  private static boolean confirm(
      Connection c, String id, long step, List<byte[]> recoveryHashes, Instant at)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE admin_totp SET confirmed_at = ?, last_step = ?"
                + " WHERE credential_id = ? AND confirmed_at IS NULL")) {
      ps.setLong(1, at.toEpochMilli());
      ps.setLong(2, step);
      ps.setString(3, id);
      if (ps.executeUpdate() != 1) {
        return false;
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM admin_recovery_codes WHERE credential_id = ?")) {
      ps.setString(1, id);
      ps.executeUpdate();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO admin_recovery_codes (credential_id, hash, used_at) VALUES (?, ?, NULL)")) {
      for (byte[] h : recoveryHashes) {
        ps.setString(1, id);
        ps.setBytes(2, h);
        ps.executeUpdate();
      }
    }
    return true;
  }

  @Override
  public boolean acceptTotpStep(String credentialId, long step) {
    // One conditional write: of two logins with the same code, only one changes the row.
    try (Connection c = db.connection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE admin_totp SET last_step = ? WHERE credential_id = ?"
                    + " AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ?)")) {
      ps.setLong(1, step);
      ps.setString(2, credentialId);
      ps.setLong(3, step);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw new StoreException("cannot record the code of " + credentialId, e);
    }
  }

  @Override
  public boolean useRecoveryCode(String credentialId, byte[] hash, Instant at) {
    try (Connection c = db.connection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE admin_recovery_codes SET used_at = ?"
                    + " WHERE credential_id = ? AND hash = ? AND used_at IS NULL")) {
      ps.setLong(1, at.toEpochMilli());
      ps.setString(2, credentialId);
      ps.setBytes(3, hash);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw new StoreException("cannot use a recovery code of " + credentialId, e);
    }
  }

  @Override
  public boolean deleteTotp(String credentialId) {
    return db.inTransaction(
        "cannot remove the second factor of " + credentialId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM admin_recovery_codes WHERE credential_id = ?")) {
            ps.setString(1, credentialId);
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM admin_totp WHERE credential_id = ?")) {
            ps.setString(1, credentialId);
            return ps.executeUpdate() == 1;
          }
        });
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
      ps.setNull(i, Types.BIGINT);
    } else {
      ps.setLong(i, t.toEpochMilli());
    }
  }
}

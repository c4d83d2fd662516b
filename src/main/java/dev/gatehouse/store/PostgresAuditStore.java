package dev.gatehouse.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The audit log's copy in a PostgreSQL database that several gateways share ({@code
 * db/postgres/V2__audit.sql}), seen from one of them: it appends to, prunes and reads back its own
 * chain, named by its instance id, and keeps a copy of that chain's signed checkpoints beside it;
 * the queries and {@link #readChain} span every instance. Thread-safe (each call takes its own
 * connection from the pool). Blocks: never called on an event loop, which it refuses.
 *
 * <p>One writer per chain: before its first write the store takes a session advisory lock named
 * after its instance id, on a connection it keeps until {@link #close}, and refuses to write while
 * another process holds it (two gateways given the same {@code instance.id}), so that two writers
 * never interleave one chain. Reading takes no lock, so the CLI and the admin API read freely.
 *
 * <p>The pool and the migrations are the caller's: this class only runs statements.
 */
public final class PostgresAuditStore implements AuditStore, AutoCloseable {

  private static final String COLUMNS = "seq, time, request_id, ip, key_id, status, reason, line";

  /** Rows fetched per round trip while a whole chain is read. */
  private static final int FETCH = 1000;

  private final DataSource db;
  private final String instance;
  private final long lockKey;

  /** The connection that holds this chain's advisory lock; null until the first write. */
  private @Nullable Connection claim; // guarded by this

  /**
   * @param db a pool on a database migrated with {@code db/postgres}
   * @param instance this gateway's instance id ({@link InstanceId#resolve}): the chain it writes
   */
  public PostgresAuditStore(DataSource db, String instance) {
    if (instance.isEmpty()) {
      throw new IllegalArgumentException("instance: empty (expected: an instance id)");
    }
    this.db = db;
    this.instance = instance;
    try {
      byte[] h =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(
                  ("gatehouse.audit:" + instance)
                      .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      this.lockKey = java.nio.ByteBuffer.wrap(h).getLong();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Makes sure this process holds the chain's advisory lock before it writes: taken once, and again
   * if the connection holding it was lost (a restarted database releases it).
   *
   * @throws StoreException when another process holds it
   */
  private synchronized void claimChain() throws SQLException {
    Connection c = claim;
    if (c != null && c.isValid(5)) {
      return;
    }
    if (c != null) {
      closeQuietly(c);
      claim = null;
    }
    c = connection();
    boolean got = false;
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
      ps.setLong(1, lockKey);
      try (ResultSet rs = ps.executeQuery()) {
        got = rs.next() && rs.getBoolean(1);
      }
    } finally {
      if (!got) {
        closeQuietly(c);
      }
    }
    if (!got) {
      // Two writers under one name would interleave two chains into one that never verifies.
      throw new StoreException(
          "another process is writing the audit chain of instance "
              + instance
              + " (two gateways with the same instance.id?); this one stores no audit rows",
          null);
    }
    claim = c;
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      // already broken: nothing to release
    }
  }

  /**
   * Releases the chain's advisory lock (its connection goes back to the pool, the lock with it).
   */
  @Override
  public synchronized void close() {
    Connection c = claim;
    claim = null;
    if (c != null) {
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
        ps.setLong(1, lockKey);
        ps.execute();
      } catch (SQLException e) {
        // the session ends with the connection below, and the lock with it
      }
      closeQuietly(c);
    }
  }

  private Connection connection() throws SQLException {
    if (io.vertx.core.Context.isOnEventLoopThread()) {
      // A round trip to the database would stall every connection on this loop.
      throw new StoreException(
          "the PostgreSQL audit store was called on event loop "
              + Thread.currentThread().getName()
              + ", which it would block",
          null);
    }
    return db.getConnection();
  }

  private static StoreException failed(String what, SQLException e) {
    return new StoreException(what + ": " + e.getMessage(), e);
  }

  @Override
  public String auditInstance() {
    return instance;
  }

  @Override
  public void appendAudit(List<AuditRow> rows) {
    if (rows.isEmpty()) {
      return;
    }
    // No ON CONFLICT: a row whose (instance, seq) is already stored fails the whole batch, so a
    // second gateway writing under the same instance id is refused loudly, never merged.
    try {
      claimChain();
    } catch (SQLException e) {
      throw failed("audit store write failed", e);
    }
    try (Connection c = connection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO audit_log (instance, "
                  + COLUMNS
                  + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        for (AuditRow r : rows) {
          ps.setString(1, instance);
          ps.setLong(2, r.seq());
          ps.setString(3, r.time());
          ps.setString(4, r.requestId());
          ps.setString(5, r.ip());
          ps.setString(6, r.keyId());
          ps.setInt(7, r.status());
          ps.setString(8, r.reason());
          ps.setString(9, r.line());
          ps.addBatch();
        }
        ps.executeBatch();
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw failed("audit store write failed", e);
    }
  }

  @Override
  public long pruneAudit(long throughSeq) {
    try {
      claimChain();
    } catch (SQLException e) {
      throw failed("cannot prune the audit log", e);
    }
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement("DELETE FROM audit_log WHERE instance = ? AND seq <= ?")) {
      ps.setString(1, instance);
      ps.setLong(2, throughSeq);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw failed("cannot prune the audit log", e);
    }
  }

  @Override
  public long lastAuditSeq() {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement("SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE instance = ?")) {
      ps.setString(1, instance);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    } catch (SQLException e) {
      throw failed("cannot read the audit log", e);
    }
  }

  @Override
  public void forEachAuditRow(Consumer<AuditRow> each) {
    readChain(instance, cp -> {}, each);
  }

  @Override
  public List<String> auditChains() {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT instance FROM audit_log UNION SELECT instance FROM audit_checkpoints"
                    + " ORDER BY 1");
        ResultSet rs = ps.executeQuery()) {
      List<String> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    } catch (SQLException e) {
      throw failed("cannot read the audit log", e);
    }
  }

  @Override
  public void readChain(String chain, Consumer<String> checkpoints, Consumer<AuditRow> rows) {
    try (Connection c = connection()) {
      // One snapshot for both reads: a checkpoint copied, or a pruning done, between them would
      // otherwise read as records cut off the end or deleted from the start. A transaction also
      // lets the driver stream the rows through a cursor instead of holding them all.
      c.setAutoCommit(false);
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      c.setReadOnly(true);
      try {
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT line FROM audit_checkpoints WHERE instance = ? ORDER BY seq, anchor")) {
          ps.setString(1, chain);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              checkpoints.accept(rs.getString(1));
            }
          }
        }
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT " + COLUMNS + " FROM audit_log WHERE instance = ? ORDER BY seq")) {
          ps.setString(1, chain);
          ps.setFetchSize(FETCH);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              rows.accept(row(rs));
            }
          }
        }
      } finally {
        c.rollback(); // read only: nothing to keep; ends the snapshot
      }
    } catch (SQLException e) {
      throw failed("cannot read the audit log", e);
    }
  }

  @Override
  public void appendCheckpoint(long seq, boolean anchor, String line) {
    try {
      claimChain();
    } catch (SQLException e) {
      throw failed("cannot copy an audit checkpoint", e);
    }
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO audit_checkpoints (instance, anchor, seq, line) VALUES (?, ?, ?, ?)"
                    + " ON CONFLICT DO NOTHING")) {
      ps.setString(1, instance);
      ps.setBoolean(2, anchor);
      ps.setLong(3, seq);
      ps.setString(4, line);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw failed("cannot copy an audit checkpoint", e);
    }
  }

  @Override
  public List<String> checkpoints() {
    List<String> out = new ArrayList<>();
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT line FROM audit_checkpoints WHERE instance = ? ORDER BY seq, anchor")) {
      ps.setString(1, instance);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
      return out;
    } catch (SQLException e) {
      throw failed("cannot read the audit checkpoints", e);
    }
  }

  @Override
  public List<AuditRow> queryAudit(AuditQuery q) {
    // Only the filters given become conditions (each a bound parameter), so that each query can
    // use the index of its column.
    List<Object> args = new ArrayList<>();
    StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM audit_log WHERE TRUE");
    sql.append(q.conditions(args));
    sql.append(" ORDER BY time DESC, seq DESC, instance DESC LIMIT ?");
    args.add(q.limit());
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      SqlDatabase.bind(ps, args);
      List<AuditRow> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(row(rs));
        }
      }
      return out;
    } catch (SQLException e) {
      throw failed("cannot read the audit log", e);
    }
  }

  /** The row under the cursor of a {@code SELECT} of {@link #COLUMNS}. */
  private static AuditRow row(ResultSet rs) throws SQLException {
    return new AuditRow(
        rs.getLong(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getInt(6),
        rs.getString(7),
        rs.getString(8));
  }

  @Override
  public Optional<AuditRow> auditRow(long seq) {
    // Every chain has a record with this seq: this gateway's own comes first.
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT "
                    + COLUMNS
                    + " FROM audit_log WHERE seq = ? ORDER BY instance = ? DESC, instance LIMIT 1")) {
      ps.setLong(1, seq);
      ps.setString(2, instance);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(row(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw failed("cannot read the audit log", e);
    }
  }

  @Override
  public List<Count> topKeysSince(String since, int limit) {
    return top("key_id", since, limit);
  }

  @Override
  public List<Count> topAddressesSince(String since, int limit) {
    return top("ip", since, limit);
  }

  /** The most frequent values of one indexed column ({@code key_id} or {@code ip}, never input). */
  private List<Count> top(String column, String since, int limit) {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT "
                    + column
                    + ", COUNT(*) AS n FROM audit_log WHERE time >= ? AND "
                    + column
                    + " IS NOT NULL GROUP BY "
                    + column
                    + " ORDER BY n DESC, "
                    + column
                    + " LIMIT ?")) {
      ps.setString(1, since);
      ps.setInt(2, limit);
      List<Count> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Count(rs.getString(1), rs.getLong(2)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw failed("cannot read the audit log", e);
    }
  }

  @Override
  public List<KeyAddress> keyAddressesSince(String since) {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT DISTINCT key_id, ip FROM audit_log WHERE key_id IS NOT NULL AND time >= ?"
                    + " LIMIT 1000000")) {
      ps.setString(1, since);
      List<KeyAddress> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new KeyAddress(rs.getString(1), rs.getString(2)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw failed("cannot read the audit log", e);
    }
  }

  @Override
  public List<AuditSummary> summarizeAudit(@Nullable String since, @Nullable String until) {
    StringBuilder sql =
        new StringBuilder(
            "SELECT day, key, model, COUNT(*), SUM(CASE WHEN reason = 'ok' THEN 0 ELSE 1 END),"
                + " SUM(GREATEST(COALESCE((j ->> 'tokens_in')::numeric, 0), 0))::bigint,"
                + " SUM(GREATEST(COALESCE((j ->> 'tokens_out')::numeric, 0), 0))::bigint"
                + " FROM (SELECT substr(time, 1, 10) AS day, COALESCE(key_id, '-') AS key,"
                + " COALESCE(line::jsonb ->> 'model', '-') COLLATE \"C\" AS model, reason,"
                + " line::jsonb AS j FROM audit_log WHERE TRUE");
    List<Object> args = new ArrayList<>();
    AuditQuery.timeBounds(sql, args, since, until);
    sql.append(") r GROUP BY day, key, model ORDER BY day, key, model");
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      SqlDatabase.bind(ps, args);
      List<AuditSummary> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new AuditSummary(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getLong(4),
                  rs.getLong(5),
                  rs.getLong(6),
                  rs.getLong(7)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw failed("cannot read the audit log", e);
    }
  }
}

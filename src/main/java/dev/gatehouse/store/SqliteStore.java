package dev.gatehouse.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.flywaydb.core.Flyway;
import org.jspecify.annotations.Nullable;

/**
 * The embedded default store: one SQLite file in the data directory, in WAL mode so that the CLI
 * can change keys while a gateway is serving. Schema changes are Flyway migrations under {@code
 * db/migration}, run by Flyway unless the schema is at the latest already ({@link SqliteSchema}).
 * Holds keys, bans, usage and audit records; admin credentials are in the same database ({@link
 * JdbcAdminStore}). Thread-safe.
 */
public final class SqliteStore
    implements KeyStore, UsageStore, BanStore, AuditStore, AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final java.util.logging.Logger LOG =
      java.util.logging.Logger.getLogger("gatehouse.store");

  private final String url;
  private final HikariDataSource pool;
  private final Path dataDir;

  /** Reads of the key and ban versions and lists, for showing that requests make none. */
  private final java.util.concurrent.atomic.LongAdder snapshotReads =
      new java.util.concurrent.atomic.LongAdder();

  private final List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * This process's listener for other processes' changes; null until someone subscribes. Guarded by
   * this.
   */
  private @Nullable LocalSignal signal;

  /** Whether opening ran Flyway (a new or older schema), or found the schema current. */
  private final boolean ranFlyway;

  private SqliteStore(String url, HikariDataSource pool, Path dataDir, boolean ranFlyway) {
    this.ranFlyway = ranFlyway;
    this.url = url;
    this.pool = pool;
    this.dataDir = dataDir;
  }

  /** Opens (creating if needed) {@code gatehouse.db} in the data directory and migrates it. */
  public static SqliteStore open(Path dataDir) {
    try {
      Files.createDirectories(dataDir);
    } catch (java.io.IOException e) {
      throw new StoreException(
          "cannot create data directory " + dataDir + ": " + e.getMessage(), e);
    }
    SqliteNativeLibrary.prepare(dataDir);
    String url = "jdbc:sqlite:" + dataDir.resolve("gatehouse.db");
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(url);
    hc.setDataSourceProperties(pragmas());
    hc.setMaximumPoolSize(4);
    hc.setPoolName("gatehouse-sqlite");
    HikariDataSource ds = new HikariDataSource(hc);
    boolean ranFlyway;
    try {
      ranFlyway = migrate(ds, url);
    } catch (RuntimeException e) {
      ds.close();
      throw e;
    }
    return new SqliteStore(url, ds, dataDir, ranFlyway);
  }

  /** Whether opening this store ran Flyway; false when the schema was current (tests read it). */
  boolean ranFlyway() {
    return ranFlyway;
  }

  /**
   * Brings the schema to this build's latest migration: nothing to do when the history says it is
   * there already ({@link SqliteSchema}), Flyway otherwise. A schema newer than this build is
   * refused either way. Returns whether Flyway ran.
   */
  private static boolean migrate(HikariDataSource ds, String url) {
    SqliteSchema.Verdict before;
    try (Connection c = ds.getConnection()) {
      before = SqliteSchema.check(c);
    } catch (SQLException e) {
      throw new StoreException("cannot read the schema of " + url + ": " + e.getMessage(), e);
    }
    if (before.state() == SqliteSchema.State.CURRENT) {
      return false;
    }
    refuseNewer(before, url);
    try {
      Flyway.configure()
          .dataSource(ds)
          .locations("classpath:" + SqliteSchema.LOCATION)
          .load()
          .migrate();
    } catch (RuntimeException e) {
      throw new StoreException("cannot migrate " + url + ": " + e.getMessage(), e);
    }
    return true;
  }

  private static void refuseNewer(SqliteSchema.Verdict v, String url) {
    if (v.state() == SqliteSchema.State.NEWER) {
      throw new StoreException(
          "cannot open "
              + url
              + ": its schema is at version "
              + v.recorded()
              + ", newer than this build knows (latest "
              + SqliteSchema.versionOf(SqliteSchema.MIGRATIONS.getLast())
              + "); run the Gatehouse version that wrote it, or a later one",
          null);
    }
  }

  /**
   * A pooled connection, refused on a Vert.x event loop. Every statement here may wait on the disk
   * or on another process's write lock (busy_timeout: 5 s), and an event loop that waits stalls
   * every connection it serves. So the request path reads memory snapshots, and writes go to
   * threads of their own (each store interface says which); a call from an event loop is a bug, and
   * it fails here: loudly in the tests, and closed in production (the caller refuses). {@link
   * JdbcAdminStore} shares it.
   */
  Connection connection() throws SQLException {
    refuseOnEventLoop();
    return pool.getConnection();
  }

  /**
   * Throws (and logs where from) when called on a Vert.x event-loop thread; see {@link
   * #connection()}.
   */
  static void refuseOnEventLoop() {
    if (io.vertx.core.Context.isOnEventLoopThread()) {
      StoreException e =
          new StoreException(
              "the SQLite store was called on event loop "
                  + Thread.currentThread().getName()
                  + ", which it would block",
              null);
      LOG.log(java.util.logging.Level.SEVERE, e.getMessage(), e);
      throw e;
    }
  }

  private static Properties pragmas() {
    Properties p = new Properties();
    p.setProperty("journal_mode", "WAL");
    p.setProperty("synchronous", "NORMAL");
    p.setProperty("busy_timeout", "5000");
    p.setProperty("foreign_keys", "true");
    // Take the write lock when a transaction begins: ban updates read then write, and a deferred
    // transaction could not upgrade if another process wrote in between.
    p.setProperty("transaction_mode", "IMMEDIATE");
    return p;
  }

  @Override
  public List<KeyRecord> list() {
    snapshotReads.increment();
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement("SELECT * FROM api_keys ORDER BY created_at DESC, id");
        ResultSet rs = ps.executeQuery()) {
      List<KeyRecord> out = new ArrayList<>();
      while (rs.next()) {
        out.add(read(rs));
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("cannot list keys: " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<KeyRecord> find(String id) {
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement("SELECT * FROM api_keys WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(read(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new StoreException("cannot read key " + id + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void insert(KeyRecord k) {
    inTransaction(c -> insert(c, k));
  }

  @Override
  public boolean revoke(String id, Instant at) {
    boolean[] changed = new boolean[1];
    inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")) {
            ps.setLong(1, at.toEpochMilli());
            ps.setString(2, id);
            changed[0] = ps.executeUpdate() == 1;
          }
        });
    return changed[0];
  }

  @Override
  public void rotate(String oldId, KeyRecord replacement, Instant oldExpiresAt) {
    inTransaction(
        c -> {
          insert(c, replacement);
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE api_keys SET rotated_to = ?,"
                      + " expires_at = CASE WHEN expires_at IS NULL OR expires_at > ? THEN ? ELSE expires_at END"
                      + " WHERE id = ? AND revoked_at IS NULL")) {
            ps.setString(1, replacement.id());
            ps.setLong(2, oldExpiresAt.toEpochMilli());
            ps.setLong(3, oldExpiresAt.toEpochMilli());
            ps.setString(4, oldId);
            if (ps.executeUpdate() != 1) {
              throw new SQLException("no active key " + oldId);
            }
          }
        });
  }

  @Override
  public VersionProbe openVersionProbe() {
    return versionProbe("key_version");
  }

  private VersionProbe versionProbe(String table) {
    SqlVersionProbe probe =
        new SqlVersionProbe(
            url, "SELECT version FROM " + table + " WHERE id = 1", table, snapshotReads);
    probe.open(); // fail at start, not on the first request, when the database is unusable
    return probe;
  }

  /**
   * A dedicated connection with one prepared statement: a few microseconds per call, and no pool
   * hand-off on the request path. After a failure (the database locked, replaced or altered
   * underneath) it reopens on the next call instead of staying broken until a restart; until it can
   * answer, every call throws, and callers refuse.
   */
  private static final class SqlVersionProbe implements VersionProbe {
    private final String url;
    private final String sql;
    private final String table;
    private final java.util.concurrent.atomic.LongAdder reads;
    private @Nullable Connection c;
    private @Nullable PreparedStatement ps;

    SqlVersionProbe(
        String url, String sql, String table, java.util.concurrent.atomic.LongAdder reads) {
      this.url = url;
      this.sql = sql;
      this.table = table;
      this.reads = reads;
    }

    void open() {
      refuseOnEventLoop();
      try {
        c = DriverManager.getConnection(url, pragmas());
        ps = c.prepareStatement(sql);
      } catch (SQLException e) {
        close();
        throw new StoreException("cannot open " + table + " probe: " + e.getMessage(), e);
      }
    }

    @Override
    public long version() {
      refuseOnEventLoop();
      reads.increment();
      if (ps == null) {
        open();
      }
      try (ResultSet rs =
          java.util.Objects.requireNonNull(ps).executeQuery()) { // open() set it or threw
        if (!rs.next()) {
          throw new StoreException(table + " row missing", null);
        }
        return rs.getLong(1);
      } catch (SQLException e) {
        close();
        throw new StoreException("cannot read " + table + ": " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      try {
        if (ps != null) {
          ps.close();
        }
        if (c != null) {
          c.close();
        }
      } catch (SQLException e) {
        // closing a read-only probe cannot lose data
      } finally {
        ps = null;
        c = null;
      }
    }
  }

  @Override
  public void addUsage(List<UsageRow> increments) {
    if (increments.isEmpty()) {
      return;
    }
    inTransaction(
        null,
        "cannot record usage",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO usage_daily (key_id, day, model, requests, tokens_in, tokens_out) VALUES (?, ?, ?, ?, ?, ?)"
                      + " ON CONFLICT (key_id, day, model) DO UPDATE SET requests = requests + excluded.requests,"
                      + " tokens_in = tokens_in + excluded.tokens_in, tokens_out = tokens_out + excluded.tokens_out")) {
            for (UsageRow r : increments) {
              ps.setString(1, r.keyId());
              ps.setString(2, r.day());
              ps.setString(3, r.model());
              ps.setLong(4, r.requests());
              ps.setLong(5, r.tokensIn());
              ps.setLong(6, r.tokensOut());
              ps.addBatch();
            }
            ps.executeBatch();
          }
        });
  }

  @Override
  public java.util.Map<String, Long> tokensOn(String day) {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT key_id, SUM(tokens_in + tokens_out) FROM usage_daily WHERE day = ? GROUP BY key_id")) {
      ps.setString(1, day);
      java.util.Map<String, Long> out = new java.util.HashMap<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getLong(2));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("cannot read usage: " + e.getMessage(), e);
    }
  }

  @Override
  public List<UsageRow> usageSince(String day, @Nullable String keyId) {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT key_id, day, model, requests, tokens_in, tokens_out FROM usage_daily WHERE day >= ?"
                    + " AND (? IS NULL OR key_id = ?) ORDER BY day, key_id, model")) {
      ps.setString(1, day);
      ps.setString(2, keyId);
      ps.setString(3, keyId);
      List<UsageRow> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new UsageRow(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getLong(4),
                  rs.getLong(5),
                  rs.getLong(6)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("cannot read usage: " + e.getMessage(), e);
    }
  }

  @Override
  public void appendAudit(List<AuditRow> rows) {
    if (rows.isEmpty()) {
      return;
    }
    // No version bump: audit rows change neither keys nor bans, and a bump would make every
    // event loop reload its key ring after each audit batch.
    inTransaction(
        null,
        "audit store write failed",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO audit_log (seq, time, request_id, ip, key_id, status, reason, line,"
                      + " line_at, model, tokens_in, tokens_out)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (AuditRow r : rows) {
              ps.setLong(1, r.seq());
              ps.setString(2, r.time());
              ps.setString(3, r.requestId());
              ps.setString(4, r.ip());
              ps.setString(5, r.keyId());
              ps.setInt(6, r.status());
              ps.setString(7, r.reason());
              if (r.lineAt() >= 0) { // its line is in the files here: where, not a copy
                ps.setString(8, "");
                ps.setLong(9, r.lineAt());
                ps.setString(10, r.model());
                ps.setLong(11, r.tokensIn());
                ps.setLong(12, r.tokensOut());
              } else {
                ps.setString(8, r.line());
                ps.setNull(9, Types.INTEGER);
                ps.setNull(10, Types.VARCHAR);
                ps.setNull(11, Types.INTEGER);
                ps.setNull(12, Types.INTEGER);
              }
              ps.addBatch();
            }
            ps.executeBatch();
          }
        });
  }

  @Override
  public long pruneAudit(long throughSeq) {
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement("DELETE FROM audit_log WHERE seq <= ?")) {
      ps.setLong(1, throughSeq);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot prune the audit log: " + e.getMessage(), e);
    }
  }

  @Override
  public long lastAuditSeq() {
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(seq), 0) FROM audit_log");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0;
    } catch (SQLException e) {
      throw new StoreException("cannot read the audit log: " + e.getMessage(), e);
    }
  }

  /**
   * Rows written by a gateway whose audit files are in this store's data directory keep an offset
   * into them instead of their line ({@link AuditRow#lineAt}, migration V9).
   */
  @Override
  public boolean readsLinesFrom(Path dir) {
    return dir.toAbsolutePath().normalize().equals(dataDir.toAbsolutePath().normalize());
  }

  /**
   * Every row, in the order inserted; a row that keeps an offset comes with its line read from the
   * files, and one whose line is not there (its segment pruned or gone, an offset that points
   * elsewhere) is left out, as a deleted row would be: {@code audit verify} then finds the gap.
   */
  @Override
  public void forEachAuditRow(java.util.function.Consumer<AuditRow> each) {
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement(AUDIT_COLUMNS + " FROM audit_log ORDER BY id");
        ResultSet rs = ps.executeQuery();
        AuditLineFiles lines = new AuditLineFiles(dataDir)) {
      while (rs.next()) {
        AuditRow r = auditRow(rs, lines);
        if (r != null) {
          each.accept(r);
        }
      }
    } catch (SQLException e) {
      throw new StoreException("cannot read the audit log: " + e.getMessage(), e);
    }
  }

  @Override
  public List<AuditRow> queryAudit(AuditQuery q) {
    List<Object> args = new ArrayList<>();
    String sql = auditQuery(q, args);
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      SqlDatabase.bind(ps, args);
      List<AuditRow> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery();
          AuditLineFiles lines = new AuditLineFiles(dataDir)) {
        while (rs.next()) {
          AuditRow r = auditRow(rs, lines);
          if (r != null) {
            out.add(r);
          }
        }
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("cannot read the audit log: " + e.getMessage(), e);
    }
  }

  /**
   * The SQL of {@link #queryAudit}, its parameters added to {@code args}: only the filters given
   * ({@link AuditQuery#conditions}). The status and reason indexes hold refusals only (migration
   * V8): a query for a refusal's status (400 and up) or reason (other than {@code ok}) also says
   * so, in the index's own words, which is what lets SQLite use them; a query for served rows reads
   * the time index, where they are most rows.
   */
  static String auditQuery(AuditQuery q, List<Object> args) {
    StringBuilder sql = new StringBuilder(AUDIT_COLUMNS + " FROM audit_log WHERE 1");
    sql.append(q.conditions(args));
    if (q.status() != null && q.status() >= 400) {
      sql.append(" AND status >= 400");
    }
    if (q.reason() != null && !q.reason().equals("ok")) {
      sql.append(" AND reason <> 'ok'");
    }
    sql.append(" ORDER BY time DESC, seq DESC LIMIT ?");
    args.add(q.limit());
    return sql.toString();
  }

  /** What a query reads of each audit row, for {@link #auditRow(ResultSet, AuditLineFiles)}. */
  private static final String AUDIT_COLUMNS =
      "SELECT seq, time, request_id, ip, key_id, status, reason, line, line_at";

  /**
   * The row under the cursor of a {@code SELECT} of {@link #AUDIT_COLUMNS}, its line read from
   * {@code lines} when the row keeps an offset; null when the line is not there.
   */
  private static @Nullable AuditRow auditRow(ResultSet rs, AuditLineFiles lines)
      throws SQLException {
    long seq = rs.getLong(1);
    String line = rs.getString(8);
    long at = rs.getLong(9);
    if (rs.wasNull()) {
      at = -1;
    } else {
      line = lines.line(seq, at);
      if (line == null) {
        return null;
      }
    }
    return new AuditRow(
        seq,
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getInt(6),
        rs.getString(7),
        line,
        at,
        null,
        -1,
        -1);
  }

  @Override
  public Optional<AuditRow> auditRow(long seq) {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(AUDIT_COLUMNS + " FROM audit_log WHERE seq = ?")) {
      ps.setLong(1, seq);
      try (ResultSet rs = ps.executeQuery();
          AuditLineFiles lines = new AuditLineFiles(dataDir)) {
        return rs.next() ? Optional.ofNullable(auditRow(rs, lines)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new StoreException("cannot read the audit log: " + e.getMessage(), e);
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
      throw new StoreException("cannot read the audit log: " + e.getMessage(), e);
    }
  }

  @Override
  public List<KeyAddress> keyAddressesSince(String since) {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT DISTINCT key_id, ip FROM audit_log WHERE key_id IS NOT NULL AND time >= ? LIMIT 1000000")) {
      ps.setString(1, since);
      List<KeyAddress> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new KeyAddress(rs.getString(1), rs.getString(2)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("cannot read the audit log: " + e.getMessage(), e);
    }
  }

  @Override
  public List<AuditSummary> summarizeAudit(@Nullable String since, @Nullable String until) {
    List<Object> args = new ArrayList<>();
    String sql = auditSummary(since, until, args);
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement(sql)) {
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
      throw new StoreException("cannot read the audit log: " + e.getMessage(), e);
    }
  }

  /**
   * The SQL of {@link #summarizeAudit}, its parameters added to {@code args}: only the time bounds
   * given become conditions, so that SQLite reads the time index from {@code since} on rather than
   * every row of the log.
   */
  static String auditSummary(@Nullable String since, @Nullable String until, List<Object> args) {
    StringBuilder sql =
        new StringBuilder(
            "SELECT substr(time, 1, 10) AS day, COALESCE(key_id, '-'),"
                + " COALESCE(CASE WHEN line_at IS NULL THEN json_extract(line, '$.model') ELSE model END, '-') AS model,"
                + " COUNT(*), SUM(CASE WHEN reason = 'ok' THEN 0 ELSE 1 END),"
                + " SUM(MAX(CASE WHEN line_at IS NULL THEN json_extract(line, '$.tokens_in') ELSE tokens_in END, 0)),"
                + " SUM(MAX(CASE WHEN line_at IS NULL THEN json_extract(line, '$.tokens_out') ELSE tokens_out END, 0))"
                + " FROM audit_log WHERE 1");
    AuditQuery.timeBounds(sql, args, since, until);
    sql.append(" GROUP BY 1, 2, 3 ORDER BY 1, 2, 3");
    return sql.toString();
  }

  @Override
  public void close() {
    LocalSignal s;
    synchronized (this) {
      s = signal;
      signal = null;
    }
    if (s != null) {
      s.close();
    }
    pool.close();
  }

  /**
   * How many times key or ban versions or lists were read from the database by this instance: the
   * readers' snapshot loads and change checks, never a request.
   */
  public long snapshotReads() {
    return snapshotReads.sum();
  }

  /**
   * Listeners here hear writes made through this instance at once, and writes by other processes on
   * the same data directory through a {@link LocalSignal} socket. A database changed by other means
   * (plain SQL) is not signalled: the reader's timer sees it.
   */
  @Override
  public Subscription onChange(Runnable onChange) {
    listeners.add(onChange);
    synchronized (this) {
      if (signal == null) {
        try {
          signal = LocalSignal.listen(LocalSignal.runDir(dataDir), this::fireLocal);
        } catch (java.io.IOException e) {
          LOG.warning(
              "changes by other processes will be seen on the next timed check only: "
                  + e.getMessage());
        }
      }
    }
    return () -> {
      listeners.remove(onChange);
      LocalSignal s = null;
      synchronized (this) {
        if (listeners.isEmpty()) {
          s = signal;
          signal = null;
        }
      }
      if (s != null) {
        s.close();
      }
    };
  }

  private void fireLocal() {
    for (Runnable l : listeners) {
      try {
        l.run();
      } catch (RuntimeException e) {
        LOG.warning("store change listener failed: " + e.getMessage());
      }
    }
  }

  /**
   * After a committed change of keys or bans: this process's listeners, then every other process's.
   */
  private void announce() {
    fireLocal();
    Path own;
    synchronized (this) {
      own = signal == null ? null : signal.socket();
    }
    LocalSignal.signalAll(LocalSignal.dirOf(dataDir), own);
  }

  private interface SqlWork {
    void run(Connection c) throws SQLException;
  }

  private void inTransaction(SqlWork work) {
    inTransaction("key_version", "key store write failed", work);
  }

  /**
   * Runs {@code work} in one transaction that also bumps {@code versionTable}, or none if null; a
   * failure is rolled back and thrown as a {@link StoreException} whose message starts with {@code
   * failure}.
   */
  private void inTransaction(@Nullable String versionTable, String failure, SqlWork work) {
    inTransaction(
        failure,
        c -> {
          work.run(c);
          if (versionTable != null) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE " + versionTable + " SET version = version + 1 WHERE id = 1")) {
              ps.executeUpdate();
            }
          }
          return Boolean.TRUE;
        });
    if (versionTable != null) {
      announce();
    }
  }

  /**
   * Runs {@code call} in one transaction ({@link SqlDatabase#inTransaction}: IMMEDIATE, the pool's
   * pragma, so the write lock is held from its first read). Every multi-statement write of the
   * SQLite stores goes through here.
   */
  <T> T inTransaction(String failure, SqlDatabase.SqlCall<T> call) {
    SqlDatabase db = this::connection;
    return db.inTransaction(failure, call);
  }

  private static void insert(Connection c, KeyRecord k) throws SQLException {
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

  private static void setInstant(PreparedStatement ps, int i, @Nullable Instant t)
      throws SQLException {
    if (t == null) {
      ps.setNull(i, Types.INTEGER);
    } else {
      ps.setLong(i, t.toEpochMilli());
    }
  }

  private static @Nullable Instant instant(ResultSet rs, String col) throws SQLException {
    long v = rs.getLong(col);
    return rs.wasNull() ? null : Instant.ofEpochMilli(v);
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyRecord read(ResultSet rs) throws SQLException {
    try {
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
          rs.getString("networks") == null
              ? List.of()
              : StoredJson.strings(rs.getString("networks")),
          rs.getString("guard"));
    } catch (JsonProcessingException e) {
      throw new SQLException("corrupt key row " + rs.getString("id"), e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Bans

  @Override
  public List<BanRecord> listBans() {
    snapshotReads.increment();
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement("SELECT * FROM bans ORDER BY banned_at DESC, ip");
        ResultSet rs = ps.executeQuery()) {
      List<BanRecord> out = new ArrayList<>();
      while (rs.next()) {
        out.add(readBan(rs));
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("cannot list bans: " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<BanRecord> findBan(String ip) {
    try (Connection c = connection()) {
      return Optional.ofNullable(findBan(c, ip));
    } catch (SQLException e) {
      throw new StoreException("cannot read ban " + ip + ": " + e.getMessage(), e);
    }
  }

  private static @Nullable BanRecord findBan(Connection c, String ip) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT * FROM bans WHERE ip = ?")) {
      ps.setString(1, ip);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? readBan(rs) : null;
      }
    }
  }

  @Override
  public BanRecord updateBan(String ip, UnaryOperator<BanRecord> change) {
    BanRecord[] stored = new BanRecord[1];
    inTransaction(
        "ban_version",
        "ban store write failed",
        c -> {
          BanRecord next = change.apply(findBan(c, ip));
          if (!next.ip().equals(ip)) {
            throw new IllegalArgumentException("a ban update may not change the address");
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT OR REPLACE INTO bans (ip, banned_at, banned_until, times, source, reasons, first_seen, last_seen, requests, sample_paths)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, ip);
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
          stored[0] = next;
        });
    return stored[0];
  }

  @Override
  public boolean removeBan(String ip) {
    boolean[] removed = new boolean[1];
    inTransaction(
        "ban_version",
        "ban store write failed",
        c -> {
          try (PreparedStatement ps = c.prepareStatement("DELETE FROM bans WHERE ip = ?")) {
            ps.setString(1, ip);
            removed[0] = ps.executeUpdate() == 1;
          }
        });
    return removed[0];
  }

  @Override
  public void recordBanHits(String ip, long requests, Instant lastSeen, List<String> paths) {
    inTransaction(
        null,
        "ban store write failed",
        c -> {
          BanRecord r = findBan(c, ip);
          if (r == null) {
            return;
          }
          List<String> samples = new ArrayList<>(r.samplePaths());
          for (String p : paths) {
            if (samples.size() < BanRecord.MAX_SAMPLES && !samples.contains(p)) {
              samples.add(p);
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE bans SET requests = requests + ?, last_seen = MAX(last_seen, ?), sample_paths = ? WHERE ip = ?")) {
            ps.setLong(1, requests);
            ps.setLong(2, lastSeen.toEpochMilli());
            ps.setString(3, json(samples));
            ps.setString(4, ip);
            ps.executeUpdate();
          }
        });
  }

  @Override
  public VersionProbe openBanVersionProbe() {
    return versionProbe("ban_version");
  }

  private static BanRecord readBan(ResultSet rs) throws SQLException {
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

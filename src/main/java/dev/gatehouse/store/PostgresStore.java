package dev.gatehouse.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.gatehouse.config.GatehouseConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.jspecify.annotations.Nullable;

/**
 * The shared store ({@code store.kind: postgres}): keys, bans and usage in one PostgreSQL database
 * that several gateways and the CLI use at once, through a HikariCP pool; admin credentials are in
 * the same database ({@link JdbcAdminStore}). Schema changes are Flyway migrations under {@code
 * db/postgres}. Changes to keys and bans are pushed to every running gateway by {@code
 * LISTEN/NOTIFY} ({@link PostgresChanges}). Thread-safe.
 *
 * <p>Every method blocks on the network, so none may run on an event loop: each refuses one, as the
 * SQLite store does. The request path reads the key ring and ban list from memory; how long that
 * memory may serve once PostgreSQL stops answering is {@link #maxStale} (docs/store-postgres.md).
 */
public final class PostgresStore implements KeyStore, UsageStore, BanStore, AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse.store");

  /** Where the migrations are, as Flyway's {@code locations}. */
  static final String LOCATION = "db/postgres";

  /** Seconds to wait for a TCP connection to PostgreSQL before calling it unreachable. */
  private static final int CONNECT_SECONDS = 3;

  /**
   * Seconds a statement may wait for PostgreSQL's answer: long enough for the CLI's reports, short
   * enough that a server gone silent is noticed as a failure, not a hang.
   */
  private static final int SOCKET_SECONDS = 30;

  private final HikariDataSource pool;
  private final Duration maxStale;
  private final PostgresChanges changes;

  private PostgresStore(HikariDataSource pool, Duration maxStale, PostgresChanges changes) {
    this.pool = pool;
    this.maxStale = maxStale;
    this.changes = changes;
  }

  /**
   * Connects to the database that {@code store.url} names, and migrates it to this build's schema.
   *
   * @throws StoreException when it cannot be reached, the password file cannot be read, or its
   *     schema is newer than this build knows
   */
  public static PostgresStore open(GatehouseConfig.Store config) {
    String url = config.url();
    if (url == null || !url.startsWith("jdbc:postgresql://")) {
      throw new StoreException("store.url: a jdbc:postgresql:// URL is needed", null);
    }
    String password = password(config);
    Properties props = new Properties();
    props.setProperty("connectTimeout", Integer.toString(CONNECT_SECONDS));
    props.setProperty("socketTimeout", Integer.toString(SOCKET_SECONDS));
    props.setProperty("tcpKeepAlive", "true");
    props.setProperty("ApplicationName", "gatehouse");
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(url);
    if (!config.user().isEmpty()) {
      hc.setUsername(config.user());
    }
    if (password != null) {
      hc.setPassword(password);
    }
    hc.setDataSourceProperties(props);
    hc.setMaximumPoolSize(config.poolSize());
    hc.setMinimumIdle(Math.min(2, config.poolSize()));
    // A store that cannot hand out a connection within this is down: fail (and refuse) rather
    // than wait the pool's default 30 s on every call.
    hc.setConnectionTimeout(CONNECT_SECONDS * 1000L);
    hc.setPoolName("gatehouse-postgres");
    HikariDataSource ds;
    try {
      ds = new HikariDataSource(hc);
    } catch (RuntimeException e) {
      throw new StoreException(
          "cannot connect to " + safe(url) + ": " + rootMessage(e), e); // never the password
    }
    try {
      migrate(ds, url);
    } catch (RuntimeException e) {
      ds.close();
      throw e;
    }
    Properties listen = new Properties();
    listen.putAll(props);
    listen.setProperty("ApplicationName", PostgresChanges.LISTENER_NAME);
    if (!config.user().isEmpty()) {
      listen.setProperty("user", config.user());
    }
    if (password != null) {
      listen.setProperty("password", password);
    }
    String instance = HexFormat.of().formatHex(randomBytes(8));
    PostgresChanges changes =
        new PostgresChanges(() -> DriverManager.getConnection(url, listen), instance);
    return new PostgresStore(ds, config.maxStale(), changes);
  }

  private static @Nullable String password(GatehouseConfig.Store config) {
    if (config.passwordFile() == null) {
      return null;
    }
    try {
      return Files.readString(config.passwordFile(), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new StoreException(
          "store.password_file: cannot read " + config.passwordFile() + ": " + e.getMessage(), e);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new java.security.SecureRandom().nextBytes(b);
    return b;
  }

  /** The URL without its query, which might hold something secret, for messages. */
  private static String safe(String url) {
    int q = url.indexOf('?');
    return q < 0 ? url : url.substring(0, q);
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && !t.getCause().equals(t)) {
      t = t.getCause();
    }
    return String.valueOf(t.getMessage());
  }

  /**
   * Brings the schema to this build's latest migration with Flyway (which holds an advisory lock,
   * so gateways starting together migrate once). A schema newer than this build is refused: a newer
   * migration may have added what this build would not honour.
   */
  private static void migrate(DataSource ds, String url) {
    try {
      Flyway flyway = Flyway.configure().dataSource(ds).locations("classpath:" + LOCATION).load();
      for (MigrationInfo i : flyway.info().all()) {
        if (i.getState() == MigrationState.FUTURE_SUCCESS
            || i.getState() == MigrationState.FUTURE_FAILED) {
          throw new StoreException(
              "cannot open "
                  + safe(url)
                  + ": its schema has migration "
                  + i.getVersion()
                  + ", newer than this build knows; run the Gatehouse version that wrote it, or a"
                  + " later one",
              null);
        }
      }
      flyway.migrate();
    } catch (StoreException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new StoreException("cannot migrate " + safe(url) + ": " + rootMessage(e), e);
    }
  }

  /** How long readers may serve what they loaded once this store stops answering. */
  @Override
  public Duration maxStale() {
    return maxStale;
  }

  /** The pool, for the other PostgreSQL stores on the same database. */
  public DataSource dataSource() {
    return pool;
  }

  /**
   * A pooled connection, refused on a Vert.x event loop: every statement here waits on the network,
   * and an event loop that waits stalls every connection it serves.
   */
  Connection connection() throws SQLException {
    refuseOnEventLoop();
    return pool.getConnection();
  }

  static void refuseOnEventLoop() {
    if (io.vertx.core.Context.isOnEventLoopThread()) {
      StoreException e =
          new StoreException(
              "the PostgreSQL store was called on event loop "
                  + Thread.currentThread().getName()
                  + ", which it would block",
              null);
      LOG.log(Level.SEVERE, e.getMessage(), e);
      throw e;
    }
  }

  /**
   * Runs {@code call} in one transaction and answers its value; a failure is rolled back and thrown
   * as a {@link StoreException} whose message starts with {@code failure}.
   */
  <T> T inTransaction(String failure, SqlDatabase.SqlCall<T> call) {
    return inTransaction(null, failure, call);
  }

  /**
   * As {@link #inTransaction(String, SqlDatabase.SqlCall)}, and when {@code versionTable} is not
   * null: bumps that version first (taking its row lock, so writers of keys, or of bans, go one at
   * a time) and sends the change's NOTIFY in the same transaction; after the commit, runs this
   * process's listeners and waits for the other gateways' answers.
   */
  private <T> T inTransaction(
      @Nullable String versionTable, String failure, SqlDatabase.SqlCall<T> call) {
    String changeId = versionTable == null ? null : HexFormat.of().formatHex(randomBytes(8));
    try (Connection c = connection()) {
      if (changeId != null) {
        execute(c, "LISTEN " + PostgresChanges.ACKS); // before the commit, to miss no answer
      }
      try {
        int listeners = 0;
        T result;
        c.setAutoCommit(false);
        try {
          if (versionTable != null) {
            execute(c, "UPDATE " + versionTable + " SET version = version + 1 WHERE id = 1");
          }
          result = call.run(c);
          if (changeId != null) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
              ps.setString(1, PostgresChanges.CHANNEL);
              ps.setString(2, changes.payload(changeId));
              ps.execute();
            }
            listeners = changes.countListeners(c);
          }
          c.commit();
        } catch (SQLException | RuntimeException e) {
          c.rollback();
          throw e;
        } finally {
          c.setAutoCommit(true);
        }
        if (changeId != null) {
          changes.fireLocal();
          PostgresChanges.awaitAnswers(c, changeId, listeners);
        }
        return result;
      } finally {
        if (changeId != null) {
          unlisten(c);
        }
      }
    } catch (SQLException e) {
      throw new StoreException(failure + ": " + e.getMessage(), e);
    }
  }

  /** The connection goes back to the pool listening to nothing; the change is committed anyway. */
  private static void unlisten(Connection c) {
    try {
      execute(c, "UNLISTEN *");
    } catch (SQLException e) {
      LOG.fine("UNLISTEN after a store change: " + e.getMessage()); // the pool drops a broken one
    }
  }

  private static void execute(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Keys

  @Override
  public List<KeyRecord> list() {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT * FROM api_keys ORDER BY created_at DESC, id COLLATE \"C\"");
        ResultSet rs = ps.executeQuery()) {
      List<KeyRecord> out = new ArrayList<>();
      while (rs.next()) {
        out.add(PostgresRows.key(rs));
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
        return rs.next() ? Optional.of(PostgresRows.key(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new StoreException("cannot read key " + id + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void insert(KeyRecord k) {
    inTransaction(
        "key_version",
        "key store write failed",
        c -> {
          PostgresRows.insertKey(c, k);
          return Boolean.TRUE;
        });
  }

  @Override
  public boolean revoke(String id, Instant at) {
    return inTransaction(
        "key_version",
        "key store write failed",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")) {
            ps.setLong(1, at.toEpochMilli());
            ps.setString(2, id);
            return ps.executeUpdate() == 1;
          }
        });
  }

  @Override
  public void rotate(String oldId, KeyRecord replacement, Instant oldExpiresAt) {
    inTransaction(
        "key_version",
        "key store write failed",
        c -> {
          PostgresRows.insertKey(c, replacement);
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
          return Boolean.TRUE;
        });
  }

  @Override
  public VersionProbe openVersionProbe() {
    return new Probe("key_version");
  }

  /**
   * Reads one version row through the pool: a round trip a second per reader, never on a request.
   * Holds nothing between calls, so a restarted server needs no reopening.
   */
  private final class Probe implements VersionProbe {
    private final String table;

    Probe(String table) {
      this.table = table;
    }

    @Override
    public long version() {
      try (Connection c = connection();
          PreparedStatement ps =
              c.prepareStatement("SELECT version FROM " + table + " WHERE id = 1");
          ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new StoreException(table + " row missing", null);
        }
        return rs.getLong(1);
      } catch (SQLException e) {
        throw new StoreException("cannot read " + table + ": " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      // nothing held
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Usage

  @Override
  public void addUsage(List<UsageRow> increments) {
    if (increments.isEmpty()) {
      return;
    }
    // The same order in every gateway: two batches touching the same rows lock them in one order,
    // so they wait for each other instead of deadlocking.
    List<UsageRow> sorted =
        increments.stream()
            .sorted(
                Comparator.comparing(UsageRow::keyId)
                    .thenComparing(UsageRow::day)
                    .thenComparing(UsageRow::model))
            .toList();
    inTransaction(
        "cannot record usage",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO usage_daily AS u (key_id, day, model, requests, tokens_in, tokens_out)"
                      + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key_id, day, model) DO UPDATE SET"
                      + " requests = u.requests + excluded.requests,"
                      + " tokens_in = u.tokens_in + excluded.tokens_in,"
                      + " tokens_out = u.tokens_out + excluded.tokens_out")) {
            for (UsageRow r : sorted) {
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
          return Boolean.TRUE;
        });
  }

  @Override
  public Map<String, Long> tokensOn(String day) {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT key_id, SUM(tokens_in + tokens_out) FROM usage_daily WHERE day = ? GROUP BY key_id")) {
      ps.setString(1, day);
      Map<String, Long> out = new HashMap<>();
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
                "SELECT key_id, day, model, requests, tokens_in, tokens_out FROM usage_daily"
                    + " WHERE day >= ? AND (CAST(? AS TEXT) IS NULL OR key_id = ?)"
                    + " ORDER BY day, key_id COLLATE \"C\", model COLLATE \"C\"")) {
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

  // ---------------------------------------------------------------------------------------------
  // Bans

  @Override
  public List<BanRecord> listBans() {
    try (Connection c = connection();
        PreparedStatement ps =
            c.prepareStatement("SELECT * FROM bans ORDER BY banned_at DESC, ip COLLATE \"C\"");
        ResultSet rs = ps.executeQuery()) {
      List<BanRecord> out = new ArrayList<>();
      while (rs.next()) {
        out.add(PostgresRows.ban(rs));
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("cannot list bans: " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<BanRecord> findBan(String ip) {
    try (Connection c = connection()) {
      return Optional.ofNullable(PostgresRows.findBan(c, ip, false));
    } catch (SQLException e) {
      throw new StoreException("cannot read ban " + ip + ": " + e.getMessage(), e);
    }
  }

  @Override
  public BanRecord updateBan(String ip, UnaryOperator<BanRecord> change) {
    // The version row is locked first, so ban writers go one at a time: the row read here is the
    // one replaced, even when it did not exist yet and two gateways ban the address at once.
    return inTransaction(
        "ban_version",
        "ban store write failed",
        c -> {
          BanRecord next = change.apply(PostgresRows.findBan(c, ip, false));
          if (!next.ip().equals(ip)) {
            throw new IllegalArgumentException("a ban update may not change the address");
          }
          PostgresRows.upsertBan(c, next);
          return next;
        });
  }

  @Override
  public boolean removeBan(String ip) {
    return inTransaction(
        "ban_version",
        "ban store write failed",
        c -> {
          try (PreparedStatement ps = c.prepareStatement("DELETE FROM bans WHERE ip = ?")) {
            ps.setString(1, ip);
            return ps.executeUpdate() == 1;
          }
        });
  }

  @Override
  public void recordBanHits(String ip, long requests, Instant lastSeen, List<String> paths) {
    inTransaction(
        "ban store write failed",
        c -> {
          BanRecord r = PostgresRows.findBan(c, ip, true); // row lock: counts from two gateways add
          if (r == null) {
            return Boolean.FALSE;
          }
          List<String> samples = new ArrayList<>(r.samplePaths());
          for (String p : paths) {
            if (samples.size() < BanRecord.MAX_SAMPLES && !samples.contains(p)) {
              samples.add(p);
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE bans SET requests = requests + ?, last_seen = GREATEST(last_seen, ?),"
                      + " sample_paths = ? WHERE ip = ?")) {
            ps.setLong(1, requests);
            ps.setLong(2, lastSeen.toEpochMilli());
            ps.setString(3, PostgresRows.json(samples));
            ps.setString(4, ip);
            ps.executeUpdate();
          }
          return Boolean.TRUE;
        });
  }

  @Override
  public VersionProbe openBanVersionProbe() {
    return new Probe("ban_version");
  }

  // ---------------------------------------------------------------------------------------------
  // Changes

  /**
   * Listeners hear writes made through this instance at once, and writes by every other gateway or
   * CLI on the same database through {@code LISTEN/NOTIFY} ({@link PostgresChanges}).
   */
  @Override
  public Subscription onChange(Runnable onChange) {
    return changes.subscribe(onChange);
  }

  @Override
  public void close() {
    changes.close();
    pool.close();
  }
}

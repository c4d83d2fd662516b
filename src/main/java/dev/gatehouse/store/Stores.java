package dev.gatehouse.store;

import dev.gatehouse.config.GatehouseConfig;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The stores one configuration names, built in one place for {@code serve} and every CLI command,
 * so that nothing else names an implementation or asks which interfaces an object happens to
 * implement. {@code store.kind: sqlite} (the default) is one SQLite database in the data directory
 * serving every interface; {@code store.kind: postgres} is one PostgreSQL database that several
 * gateways share (docs/store-postgres.md).
 */
public record Stores(
    KeyStore keys,
    BanStore bans,
    UsageStore usage,
    AuditStore audit,
    AdminStore admins,
    Runnable closer)
    implements AutoCloseable {

  /** The kinds {@link #open} knows, for the config check. */
  public static final List<String> KINDS = List.of("sqlite", "postgres");

  /**
   * Opens (creating and migrating if needed) the stores the {@code store.*} settings name.
   *
   * @throws StoreException when they cannot be opened, or the kind is unknown
   */
  public static Stores open(GatehouseConfig.Store config, Path dataDir) {
    return open(config, null, dataDir);
  }

  /**
   * Opens the stores as {@link #open(GatehouseConfig.Store, Path)} does, the audit copy appending
   * to the chain of this instance ({@code instance.id}; null: the id kept in the data directory,
   * generated on first use). Only a store that several gateways share keeps one chain per instance.
   */
  public static Stores open(
      GatehouseConfig.Store config, @Nullable String instanceId, Path dataDir) {
    return switch (config.kind()) {
      case "sqlite" -> sqlite(SqliteStore.open(dataDir));
      case "postgres" -> postgres(PostgresStore.open(config), instanceId, dataDir);
      default ->
          throw new StoreException(
              "unknown store.kind " + config.kind() + " (expected: one of " + KINDS + ")", null);
    };
  }

  /** One SQLite store behind every interface. */
  public static Stores sqlite(SqliteStore s) {
    return new Stores(s, s, s, s, JdbcAdminStore.forSqlite(s), s::close);
  }

  /**
   * One PostgreSQL database behind every interface; the audit copy is this instance's chain in it
   * (its migrations ran when {@code s} opened).
   */
  public static Stores postgres(PostgresStore s, @Nullable String instanceId, Path dataDir) {
    PostgresAuditStore audit;
    try {
      audit = new PostgresAuditStore(s.dataSource(), InstanceId.resolve(instanceId, dataDir));
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
    return new Stores(
        s,
        s,
        s,
        audit,
        JdbcAdminStore.forPostgres(s),
        () -> {
          audit.close(); // first: it holds a pooled connection with its chain's lock
          s.close();
        });
  }

  @Override
  public void close() {
    closer.run();
  }
}

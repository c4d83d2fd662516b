package dev.gatehouse.store;

import java.nio.file.Path;
import java.util.List;

/**
 * The stores one configuration names, built in one place for {@code serve} and every CLI command,
 * so that nothing else names an implementation or asks which interfaces an object happens to
 * implement. {@code store.kind: sqlite} (the default, and the only kind for now) is one SQLite
 * database in the data directory serving every interface.
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
  public static final List<String> KINDS = List.of("sqlite");

  /**
   * Opens (creating and migrating if needed) the stores of this kind.
   *
   * @throws StoreException when they cannot be opened, or the kind is unknown
   */
  public static Stores open(String kind, Path dataDir) {
    return switch (kind) {
      case "sqlite" -> sqlite(SqliteStore.open(dataDir));
      default ->
          throw new StoreException(
              "unknown store.kind " + kind + " (expected: one of " + KINDS + ")", null);
    };
  }

  /** One SQLite store behind every interface. */
  public static Stores sqlite(SqliteStore s) {
    return new Stores(s, s, s, s, new SqliteAdminStore(s), s::close);
  }

  @Override
  public void close() {
    closer.run();
  }
}

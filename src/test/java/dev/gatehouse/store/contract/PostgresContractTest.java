package dev.gatehouse.store.contract;

import dev.gatehouse.store.AdminStore;
import dev.gatehouse.store.BanStore;
import dev.gatehouse.store.KeyStore;
import dev.gatehouse.store.Stores;
import dev.gatehouse.store.UsageStore;
import dev.gatehouse.testing.PostgresServer;
import dev.gatehouse.testing.PostgresStores;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/**
 * The PostgreSQL store passes the same store contracts as SQLite ({@link SqliteContractTest}): a
 * real PostgreSQL server for the class, a new database (migrated by the store) for each test. The
 * audit contract is the audit store's own test.
 */
class PostgresContractTest {

  private static @Nullable PostgresServer server;

  @BeforeAll
  static void startServer() throws Exception {
    server = PostgresServer.start();
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static Stores fresh() throws Exception {
    // an instance id of its own: the data directory is never read
    return Stores.postgres(
        PostgresStores.open(java.util.Objects.requireNonNull(server).newDatabase()),
        "contract",
        Path.of(System.getProperty("java.io.tmpdir")));
  }

  @Nested
  class Keys extends KeyStoreContract {
    @Override
    protected KeyStore open(Path dir) throws Exception {
      return fresh().keys();
    }
  }

  @Nested
  class Bans extends BanStoreContract {
    @Override
    protected BanStore open(Path dir) throws Exception {
      return fresh().bans();
    }
  }

  @Nested
  class Usage extends UsageStoreContract {
    @Override
    protected UsageStore open(Path dir) throws Exception {
      return fresh().usage();
    }
  }

  @Nested
  class Admins extends AdminStoreContract {
    private @Nullable Stores stores;

    @Override
    protected AdminStore open(Path dir) throws Exception {
      stores = fresh();
      return stores.admins();
    }

    @AfterEach
    void closeStores() {
      if (stores != null) {
        stores.close();
      }
    }
  }
}

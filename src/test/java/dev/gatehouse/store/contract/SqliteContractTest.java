package dev.gatehouse.store.contract;

import dev.gatehouse.store.AdminStore;
import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.BanStore;
import dev.gatehouse.store.KeyStore;
import dev.gatehouse.store.SqliteStore;
import dev.gatehouse.store.Stores;
import dev.gatehouse.store.UsageStore;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;

/** The SQLite store passes every store contract: a real database file in a temporary directory. */
class SqliteContractTest {

  @Nested
  class Keys extends KeyStoreContract {
    @Override
    protected KeyStore open(Path dir) {
      return SqliteStore.open(dir);
    }
  }

  @Nested
  class Bans extends BanStoreContract {
    @Override
    protected BanStore open(Path dir) {
      return SqliteStore.open(dir);
    }
  }

  @Nested
  class Usage extends UsageStoreContract {
    @Override
    protected UsageStore open(Path dir) {
      return SqliteStore.open(dir);
    }
  }

  @Nested
  class Audit extends AuditStoreContract {
    @Override
    protected AuditStore open(Path dir) {
      return SqliteStore.open(dir);
    }
  }

  @Nested
  class Admins extends AdminStoreContract {
    private @Nullable Stores stores;

    @Override
    protected AdminStore open(Path dir) {
      stores = Stores.sqlite(SqliteStore.open(dir));
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

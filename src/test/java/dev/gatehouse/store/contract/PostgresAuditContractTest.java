package dev.gatehouse.store.contract;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.PostgresAuditStore;
import dev.gatehouse.testing.PostgresServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * The PostgreSQL audit store passes the audit store contract: a real PostgreSQL server, a new
 * database per test migrated with db/postgres, one instance's view of it.
 */
class PostgresAuditContractTest extends AuditStoreContract {

  private static PostgresServer pg;
  private final List<HikariDataSource> pools = new ArrayList<>();

  @BeforeAll
  static void startServer() throws Exception {
    pg = PostgresServer.start();
  }

  @AfterAll
  static void stopServer() throws Exception {
    pg.close();
  }

  /** A pool on a new database migrated with db/postgres. */
  static HikariDataSource migratedPool(PostgresServer pg) throws Exception {
    String url = pg.newDatabase();
    Flyway.configure()
        .dataSource(url, PostgresServer.USER, PostgresServer.PASSWORD)
        .locations("classpath:db/postgres")
        .load()
        .migrate();
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(url);
    c.setUsername(PostgresServer.USER);
    c.setPassword(PostgresServer.PASSWORD);
    c.setMaximumPoolSize(4);
    return new HikariDataSource(c);
  }

  @Override
  protected AuditStore open(Path dir) throws Exception {
    HikariDataSource pool = migratedPool(pg);
    pools.add(pool);
    return new PostgresAuditStore(pool, "gw-a");
  }

  @AfterEach
  void closePools() {
    pools.forEach(HikariDataSource::close);
  }
}

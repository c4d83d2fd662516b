package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.PostgresServer;
import dev.gatehouse.testing.PostgresStores;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Changes reach every store on one PostgreSQL database by LISTEN/NOTIFY: two stores (two gateways,
 * or a gateway and the CLI) on a real server.
 */
class PostgresChangesTest {

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

  private static PostgresServer server() {
    return java.util.Objects.requireNonNull(server);
  }

  static KeyRecord key(String id) {
    return new KeyRecord(
        id,
        "n",
        "h".getBytes(StandardCharsets.UTF_8),
        List.of("inference"),
        List.of(),
        Instant.parse("2026-01-01T00:00:00Z"),
        null,
        null,
        null);
  }

  @Test
  void aRevokeThroughOneStoreReachesTheOthersListenersBeforeItReturns() throws Exception {
    String url = server().newDatabase();
    try (PostgresStore gateway = PostgresStores.open(url);
        PostgresStore cli = PostgresStores.open(url)) {
      Semaphore heard = new Semaphore(0);
      ChangeSource.Subscription s = gateway.onChange(heard::release);
      try {
        awaitListening(url, 1);
        cli.insert(key("k1"));
        // why: the writer waits for the listener's answer, so it has run when insert returns
        assertThat(heard.tryAcquire()).as("heard before the write returned").isTrue();
        assertThat(cli.revoke("k1", Instant.now())).isTrue();
        assertThat(heard.tryAcquire()).isTrue();
        cli.updateBan(
            "192.0.2.1",
            old ->
                new BanRecord(
                    "192.0.2.1",
                    Instant.now(),
                    null,
                    1,
                    "manual",
                    List.of("t"),
                    Instant.now(),
                    Instant.now(),
                    0,
                    List.of()));
        assertThat(heard.tryAcquire(1, TimeUnit.SECONDS)).as("bans too").isTrue();
        // why: counts of refused requests change no decision, and send nothing
        cli.recordBanHits("192.0.2.1", 1, Instant.now(), List.of("/"));
        cli.addUsage(List.of(new UsageStore.UsageRow("k1", "2026-01-01", "m", 1, 1, 1)));
        assertThat(heard.tryAcquire(300, TimeUnit.MILLISECONDS)).isFalse();
      } finally {
        s.close();
      }
    }
  }

  @Test
  void aListenerWhoseConnectionIsKilledReconnectsFiresOnceAndHearsAgain() throws Exception {
    String url = server().newDatabase();
    try (PostgresStore gateway = PostgresStores.open(url);
        PostgresStore cli = PostgresStores.open(url)) {
      Semaphore heard = new Semaphore(0);
      ChangeSource.Subscription s = gateway.onChange(heard::release);
      try {
        awaitListening(url, 1);
        try (Connection c =
                DriverManager.getConnection(url, PostgresServer.USER, PostgresServer.PASSWORD);
            PreparedStatement ps =
                c.prepareStatement(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        + " WHERE application_name = ? AND datname = current_database()")) {
          ps.setString(1, PostgresChanges.LISTENER_NAME);
          ps.execute();
        }
        // why: notifications sent while it was away are lost, so it reloads once on its return
        assertThat(heard.tryAcquire(10, TimeUnit.SECONDS)).as("fired after reconnecting").isTrue();
        awaitListening(url, 1);
        cli.insert(key("k2"));
        assertThat(heard.tryAcquire(1, TimeUnit.SECONDS)).as("hears changes again").isTrue();
      } finally {
        s.close();
      }
    }
  }

  @Test
  void aWriteWithNoListenerDoesNotWait() throws Exception {
    String url = server().newDatabase();
    try (PostgresStore cli = PostgresStores.open(url)) {
      long t0 = System.nanoTime();
      cli.insert(key("k1"));
      assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(PostgresChanges.ANSWER_MILLIS);
    }
  }

  /** Waits until {@code n} listening connections are on the database. */
  static void awaitListening(String url, int n) throws Exception {
    try (Connection c =
            DriverManager.getConnection(url, PostgresServer.USER, PostgresServer.PASSWORD);
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = ?"
                    + " AND datname = current_database() AND query LIKE 'LISTEN%'")) {
      ps.setString(1, PostgresChanges.LISTENER_NAME);
      for (int i = 0; i < 200; i++) {
        try (var rs = ps.executeQuery()) {
          rs.next();
          if (rs.getInt(1) >= n) {
            return;
          }
        }
        Thread.sleep(50);
      }
      throw new AssertionError("no listener on " + url);
    }
  }
}

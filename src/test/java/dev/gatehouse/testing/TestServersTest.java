package dev.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** The real servers the scale-out tests run against start, stop and start again. */
class TestServersTest {

  @Test
  void postgresAcceptsThePasswordOverTcpAndRefusesAWrongOne() throws Exception {
    try (PostgresServer pg = PostgresServer.start()) {
      String url = pg.newDatabase();
      try (Connection c =
              DriverManager.getConnection(url, PostgresServer.USER, PostgresServer.PASSWORD);
          ResultSet rs = c.createStatement().executeQuery("SHOW server_version")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).startsWith("15");
      }
      assertThatThrownBy(() -> DriverManager.getConnection(url, PostgresServer.USER, "wrong"))
          .isInstanceOf(SQLException.class);
      pg.stop();
      assertThatThrownBy(
              () -> DriverManager.getConnection(url, PostgresServer.USER, PostgresServer.PASSWORD))
          .isInstanceOf(SQLException.class);
      pg.resume();
      try (Connection c =
          DriverManager.getConnection(url, PostgresServer.USER, PostgresServer.PASSWORD)) {
        assertThat(c.isValid(2)).isTrue();
      }
    }
  }

  @Test
  void redisStopsAndStartsAgainOnItsPort() throws Exception {
    try (RedisServer r = RedisServer.start("pw")) {
      int port = r.port();
      r.stop();
      assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isNotNull();
      r.resume();
      try (Socket s = new Socket("127.0.0.1", port)) {
        assertThat(s.isConnected()).isTrue();
      }
    }
  }
}

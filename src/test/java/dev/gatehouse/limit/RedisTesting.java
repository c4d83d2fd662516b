package dev.gatehouse.limit;

import dev.gatehouse.config.GatehouseConfig;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Links to a real Redis for the tests, each under a prefix of its own so tests never share keys.
 */
final class RedisTesting {

  private RedisTesting() {}

  static GatehouseConfig.SharedLimits settings(
      String url, String prefix, @Nullable Path passwordFile) {
    return new GatehouseConfig.SharedLimits(
        true,
        url,
        "standalone",
        List.of(),
        "",
        "",
        passwordFile,
        null,
        Duration.ofMillis(500),
        prefix);
  }

  static String prefix() {
    return "t" + UUID.randomUUID().toString().substring(0, 8) + ":";
  }

  /**
   * A loopback port nothing listens on, checked to refuse a connection. It is below the ephemeral
   * range: a port that was free a moment ago in that range could be taken by a server another test
   * starts on port 0, or by the client's own connection (a TCP self-connect), and the "Redis is
   * down" tests then saw a Redis that answered.
   */
  static int closedPort() throws IOException {
    for (int port = 1; port < 1024; port++) {
      try (java.net.Socket s = new java.net.Socket()) {
        s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1_000);
      } catch (java.net.ConnectException refused) {
        return port;
      }
    }
    throw new IOException("every loopback port below 1024 accepts connections");
  }

  /** A started link to {@code url} under {@code prefix}. */
  static RedisLink link(Vertx vertx, String url, String prefix) throws IOException {
    RedisLink l = RedisLink.open(vertx, settings(url, prefix, null));
    try {
      // warmed as the gateway warms its link; one that cannot connect is what failing() wants
      l.start(SharedLimits.SCRIPTS).await(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      // not reachable: the caller tests the outage
    }
    return l;
  }
}

package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.identify.ApiKeys;
import dev.gatehouse.identify.ServerSecret;
import dev.gatehouse.keys.KeyService;
import dev.gatehouse.store.PostgresStore;
import dev.gatehouse.store.Stores;
import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.PostgresServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A gateway on {@code store.kind: postgres}, on a real PostgreSQL server: keys made and revoked
 * through another store (as the CLI or another gateway would) take effect on the next request, and
 * an outage is served from memory for {@code store.max_stale}, then refused with 503 {@code
 * store.unavailable} until PostgreSQL is back, with no restart (docs/store-postgres.md).
 */
class PostgresStoreGatewayTest {

  private static final Duration MAX_STALE = Duration.ofSeconds(3);

  /** Where /readyz is asked from, as a load balancer would. */
  private static final String PROBE_FROM = "127.0.0.2";

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void keysRevocationsAndAnOutageBehaveAsDocumented() throws Exception {
    try (PostgresServer pg = PostgresServer.start();
        FakeUpstream upstream = new FakeUpstream()) {
      String url = pg.newDatabase();
      Path dataDir = Files.createTempDirectory("gatehouse-pg");
      Map<String, String> flags = new LinkedHashMap<>();
      flags.put("listen", "127.0.0.1:0");
      flags.put("upstream", upstream.url());
      flags.put("data_dir", dataDir.toString());
      flags.put("server.event_loops", "2");
      flags.put("rate.anonymous_ip_rpm", "0");
      flags.put("rate.key_rpm", "0");
      flags.put("rate.ip_rpm", "0");
      flags.put("bans.auth_failures", "0"); // this test's 401s must not ban its own address
      // The load balancer's address, exempt from bans: its /readyz needs no ban decision, and so
      // shows readiness's own answer (from 127.0.0.1, the refused ban check answers first).
      flags.put("bans.never", PROBE_FROM + "/32");
      flags.put("network.allowed_hosts", "*");
      flags.put("health.interval", "0s");
      flags.put("store.kind", "postgres");
      flags.put("store.url", url);
      flags.put("store.user", PostgresServer.USER);
      flags.put("store.password_file", pg.passwordFile().toString());
      flags.put("store.max_stale", MAX_STALE.toSeconds() + "s");
      GatehouseConfig config = ConfigLoader.load(null, false, Map.of(), flags, ConfigChecks.ALL);
      ApiKeys apiKeys = new ApiKeys(ServerSecret.loadOrCreate(dataDir));
      try (Stores stores = Stores.open(config.store(), dataDir);
          Gateway gw = Gateway.start(config, stores, apiKeys);
          PostgresStore cliStore = PostgresStore.open(config.store())) {
        String base = "http://127.0.0.1:" + gw.port();
        KeyService gatewayKeys = new KeyService(stores.keys(), apiKeys, Clock.systemUTC());
        KeyService cli = new KeyService(cliStore, apiKeys, Clock.systemUTC());
        String key = gatewayKeys.create("a", null, List.of(), List.of()).key();
        assertThat(get(base, "/api/tags", key).statusCode()).isEqualTo(200);
        // why: a key made through another process is known on the next request (NOTIFY)
        KeyService.Created other = cli.create("b", null, List.of(), List.of());
        assertThat(get(base, "/api/tags", other.key()).statusCode()).isEqualTo(200);
        // why: revoked through the CLI, refused on the very next request (the CLI waited)
        assertThat(cli.revoke(other.record().id())).isTrue();
        assertThat(get(base, "/api/tags", other.key()).statusCode()).isEqualTo(401);
        String unknown = "gh_" + "0".repeat(8) + "_" + "x".repeat(40);
        assertThat(get(base, "/api/tags", unknown).statusCode()).isEqualTo(401);
        assertThat(get(base, "/readyz", null).statusCode()).isEqualTo(200);
        int reached = forwarded(upstream);
        assertThat(reached).isEqualTo(2);

        pg.stop();
        long stopped = System.nanoTime();
        // why: within store.max_stale of the last good check, a known key is still served
        HttpResponse<String> inWindow = get(base, "/api/tags", key);
        long tookMs = (System.nanoTime() - stopped) / 1_000_000;
        if (tookMs < MAX_STALE.toMillis() - 1500) { // the window began before stop returned
          assertThat(inWindow.statusCode()).as("served from memory").isEqualTo(200);
          reached++;
        }
        // why: an unknown key is never let in, fresh or stale
        HttpResponse<String> unknownDown = get(base, "/api/tags", unknown);
        assertThat(unknownDown.statusCode()).isIn(401, 503);
        assertThat(forwarded(upstream)).isEqualTo(reached);

        HttpResponse<String> refused = null;
        for (int i = 0; i < 100; i++) {
          refused = get(base, "/api/tags", key);
          if (refused.statusCode() == 503) {
            break;
          }
          reached++;
          Thread.sleep(100);
        }
        long downMs = (System.nanoTime() - stopped) / 1_000_000;
        assertThat(refused.statusCode()).as("refused once stale").isEqualTo(503);
        assertThat(refused.body()).contains("\"code\":\"store.unavailable\"");
        // why: never later than the window (and a second of checking) after the outage began
        assertThat(downMs).isLessThan(MAX_STALE.toMillis() + 2500);
        assertThat(get(base, "/api/tags", unknown).statusCode()).isEqualTo(503);
        assertThat(get(base, "/v1/models", key).statusCode()).isEqualTo(503);
        assertThat(forwarded(upstream)).as("nothing forwarded while stale").isEqualTo(reached);
        assertThat(get(base, "/readyz", null).statusCode()).isEqualTo(503);
        String ready = readyz(gw.port());
        assertThat(ready).startsWith("HTTP/1.1 503");
        assertThat(ready).endsWith("{\"status\":\"store_unavailable\"}");

        pg.resume();
        // why: recovery needs no restart: the next check that reaches PostgreSQL lets traffic in
        HttpResponse<String> back = null;
        for (int i = 0; i < 300; i++) {
          back = get(base, "/api/tags", key);
          if (back.statusCode() == 200) {
            break;
          }
          Thread.sleep(100);
        }
        assertThat(back.statusCode()).isEqualTo(200);
        assertThat(get(base, "/api/tags", unknown).statusCode()).isEqualTo(401);
        assertThat(get(base, "/readyz", null).statusCode()).isEqualTo(200);
        assertThat(readyz(gw.port())).startsWith("HTTP/1.1 200");
        // why: the listening connection comes back too (within its reconnect backoff, at most
        // 5 s, which may be after the key ring's own once-a-second check has recovered): then a
        // revoke elsewhere is refused at once
        awaitListener(url);
        String later = cli.create("c", null, List.of(), List.of()).key();
        assertThat(get(base, "/api/tags", later).statusCode()).isEqualTo(200);
        assertThat(cli.revoke(apiKeysId(later))).isTrue();
        assertThat(get(base, "/api/tags", later).statusCode()).isEqualTo(401);
      }
    }
  }

  /** GET /readyz from {@link #PROBE_FROM}: the whole response as text. */
  private static String readyz(int port) throws Exception {
    try (java.net.Socket s = new java.net.Socket()) {
      s.bind(new java.net.InetSocketAddress(PROBE_FROM, 0));
      s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 10_000);
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              "GET /readyz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"
                  .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      return new String(
          s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
    }
  }

  /** Waits until a gateway's LISTEN connection to {@code url}'s database is open again. */
  private static void awaitListener(String url) throws Exception {
    for (int i = 0; i < 150; i++) {
      try (java.sql.Connection c =
              java.sql.DriverManager.getConnection(
                  url, PostgresServer.USER, PostgresServer.PASSWORD);
          java.sql.ResultSet rs =
              c.createStatement()
                  .executeQuery(
                      "SELECT count(*) FROM pg_stat_activity"
                          + " WHERE application_name = 'gatehouse-listen'"
                          + " AND datname = current_database()")) {
        if (rs.next() && rs.getInt(1) > 0) {
          return;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the gateway's LISTEN connection did not come back within 15 s");
  }

  /** Requests the upstream received for a client (not /readyz's health check of GET /). */
  private static int forwarded(FakeUpstream upstream) {
    return (int) upstream.requests().stream().filter(r -> !r.uri().equals("/")).count();
  }

  private static String apiKeysId(String key) {
    return java.util.Objects.requireNonNull(ApiKeys.idOf(key));
  }

  private HttpResponse<String> get(String base, String path, String key) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}

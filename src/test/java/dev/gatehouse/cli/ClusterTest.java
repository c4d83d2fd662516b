package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayProcess;
import dev.gatehouse.testing.PostgresServer;
import dev.gatehouse.testing.RedisServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two {@code gatehouse serve} processes on one real PostgreSQL ({@code store.kind: postgres}) and
 * one real Redis ({@code limits.kind: redis}), in front of one fake upstream that records what
 * reaches it: the limits hold across both gateways, a change made through one (or the CLI) is
 * refused by the other on its next request, each outage fails closed and recovers without a
 * restart, and {@code audit verify} checks both gateways' chains. The outages come last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MODEL = "llama3.2:3b";

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private @Nullable PostgresServer pg;
  private @Nullable RedisServer redis;
  private @Nullable FakeUpstream upstream;
  private @Nullable GatewayProcess a;
  private @Nullable GatewayProcess b;
  private String dbUrl = "";
  private Map<String, String> cliEnv = Map.of();

  @BeforeAll
  void startCluster() throws Exception {
    pg = PostgresServer.start();
    redis = RedisServer.start();
    upstream = new FakeUpstream();
    dbUrl = pg.newDatabase();
    Path shared = Files.createTempDirectory("gh-cluster");
    Path dirA = Files.createDirectories(shared.resolve("a"));
    Path dirB = Files.createDirectories(shared.resolve("b"));
    Map<String, String> common = new LinkedHashMap<>();
    common.put("GATEHOUSE_UPSTREAM", upstream.url());
    common.put("GATEHOUSE_STORE_KIND", "postgres");
    common.put("GATEHOUSE_STORE_URL", dbUrl);
    common.put("GATEHOUSE_STORE_USER", PostgresServer.USER);
    common.put("GATEHOUSE_STORE_PASSWORD_FILE", pg.passwordFile().toString());
    common.put("GATEHOUSE_STORE_MAX_STALE", "3s");
    common.put("GATEHOUSE_LIMITS_KIND", "redis");
    common.put("GATEHOUSE_REDIS_URL", redis.url());
    // one audit key for every gateway, so that any machine can verify every chain
    common.put("GATEHOUSE_AUDIT_HMAC_KEY_FILE", shared.resolve("audit-hmac.key").toString());
    common.put("GATEHOUSE_CONCURRENCY_QUEUE", "0");
    common.put("GATEHOUSE_HEALTH_INTERVAL", "0s");
    common.put("GATEHOUSE_BANS_NEVER", "127.0.0.1/32"); // 127.0.0.2 can be banned
    common.put("GATEHOUSE_BANS_AUTH_FAILURES", "0"); // the 401s asserted here must not ban
    Map<String, String> envA = new LinkedHashMap<>(common);
    envA.put("GATEHOUSE_INSTANCE_ID", "gw-a");
    a = GatewayProcess.start(null, dirA, envA);
    // Every gateway and the CLI hash keys with one server secret (docs/scale-out.md).
    Files.copy(dirA.resolve("server.secret"), dirB.resolve("server.secret"));
    Map<String, String> envB = new LinkedHashMap<>(common);
    envB.put("GATEHOUSE_INSTANCE_ID", "gw-b");
    b = GatewayProcess.start(null, dirB, envB);
    assertThat(a.adminToken()).as("the first gateway made the admin credential").isNotNull();
    assertThat(b.firstKey()).as("the second found keys in the shared store").isNull();
    Map<String, String> cli = new LinkedHashMap<>(common);
    cli.put("GATEHOUSE_HOME", dirA.toString());
    cli.put("GATEHOUSE_INSTANCE_ID", "gw-a");
    cliEnv = cli;
  }

  @AfterAll
  void stopCluster() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {a, b, upstream, redis, pg}) {
      if (c != null) {
        c.close();
      }
    }
  }

  @Test
  @Order(1)
  void aKeysRateLimitHoldsAcrossBothGateways() throws Exception {
    Key k = key("rate", "--rpm", "1", "--burst", "6");
    int before = reached();
    int admitted = 0;
    int limited = 0;
    for (int i = 0; i < 12; i++) {
      HttpResponse<String> r = get(i % 2 == 0 ? gwA() : gwB(), "/api/tags", k.secret());
      if (r.statusCode() == 200) {
        admitted++;
      } else {
        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(code(r)).isEqualTo("limit.rate");
        limited++;
      }
    }
    // why: one bucket for the key, wherever its requests land (per gateway it would be 12 of 12)
    assertThat(admitted).isEqualTo(6);
    assertThat(limited).isEqualTo(6);
    assertThat(reached() - before).isEqualTo(6);
  }

  @Test
  @Order(2)
  void aTokenBudgetSpentOnOneCutsAStreamOnTheOther() throws Exception {
    Key k = key("budget", "--tpd", "400");
    fake().streaming(100, 40);
    int before = reached();
    try {
      CompletableFuture<HttpResponse<String>> stream =
          http.sendAsync(
              post(gwB(), "/api/generate", k.secret(), generate(true)),
              HttpResponse.BodyHandlers.ofString());
      awaitReached(before + 1);
      // Each answer on A reports 7 + 100 tokens: four of them spend the day's 400.
      for (int i = 0; i < 4; i++) {
        HttpResponse<String> r = post(gwA(), "/api/generate", k.secret(), generate(false), http);
        assertThat(r.statusCode()).isEqualTo(200);
      }
      String body = stream.get(30, TimeUnit.SECONDS).body();
      long chunks = body.lines().filter(l -> l.contains("\"done\":false")).count();
      // why: B's own chunks (at most 107 tokens) never reach 400: only A's spending cuts it
      assertThat(chunks).as("cut before its end").isLessThan(100);
      assertThat(body.lines().reduce((x, y) -> y).orElse("")).contains("limit.token_budget");
      HttpResponse<String> next = post(gwB(), "/api/generate", k.secret(), generate(false), http);
      assertThat(next.statusCode()).isEqualTo(429);
      assertThat(code(next)).isEqualTo("limit.token_budget");
    } finally {
      fake().reset();
    }
  }

  @Test
  @Order(3)
  void aPerKeyConcurrencyCapHoldsAcrossBoth() throws Exception {
    Key k = key("conc", "--concurrency", "1");
    fake().streaming(40, 50);
    int before = reached();
    try {
      CompletableFuture<HttpResponse<String>> first =
          http.sendAsync(
              post(gwA(), "/api/generate", k.secret(), generate(true)),
              HttpResponse.BodyHandlers.ofString());
      awaitReached(before + 1);
      HttpResponse<String> second = post(gwB(), "/api/generate", k.secret(), generate(false), http);
      // why: A holds the key's one slot, and B sees it (a per-gateway cap would admit this)
      assertThat(second.statusCode()).isEqualTo(429);
      assertThat(code(second)).isEqualTo("limit.key_concurrency");
      assertThat(reached()).isEqualTo(before + 1);
      assertThat(first.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      HttpResponse<String> after = post(gwB(), "/api/generate", k.secret(), generate(false), http);
      assertThat(after.statusCode()).as("the slot came back").isEqualTo(200);
      fake().reset();
      // why: the slot is free on both before the last byte goes out, so a client that sends one
      // request after another, each through the other gateway, never meets its own last one
      for (int i = 0; i < 40; i++) {
        HttpResponse<String> r =
            post(
                i % 2 == 0 ? gwA() : gwB(), "/api/generate", k.secret(), generate(i % 4 < 2), http);
        assertThat(r.statusCode()).as("request %d, one after another", i).isEqualTo(200);
      }
    } finally {
      fake().reset();
    }
  }

  @Test
  @Order(4)
  void aRevokeOrBanThroughOneIsRefusedByTheOtherOnItsNextRequest() throws Exception {
    Key viaApi = key("revoke-api");
    Key viaCli = key("revoke-cli");
    assertThat(get(gwB(), "/api/tags", viaApi.secret()).statusCode()).isEqualTo(200);
    assertThat(get(gwA(), "/api/tags", viaCli.secret()).statusCode()).isEqualTo(200);
    // revoked through A's admin API: B refuses the very next request
    assertThat(admin(gwA(), "POST", "/api/v1/keys/" + viaApi.id() + "/revoke", "{}").statusCode())
        .isEqualTo(200);
    int before = reached();
    assertThat(get(gwB(), "/api/tags", viaApi.secret()).statusCode()).isEqualTo(401);
    assertThat(reached()).isEqualTo(before);
    // revoked through the CLI, on the store: both refuse the very next request
    CliRun revoke = CliRun.run(cliEnv, "keys", "revoke", viaCli.id());
    assertThat(revoke.code()).as(revoke.err()).isZero();
    assertThat(get(gwA(), "/api/tags", viaCli.secret()).statusCode()).isEqualTo(401);
    assertThat(get(gwB(), "/api/tags", viaCli.secret()).statusCode()).isEqualTo(401);

    // banned through A's admin API: B refuses that address on its next request, others pass
    Key k = key("banned");
    assertThat(raw(gwB(), "127.0.0.2", k.secret())).startsWith("HTTP/1.1 200");
    HttpResponse<String> ban =
        admin(gwA(), "POST", "/api/v1/bans", "{\"ip\":\"127.0.0.2\",\"duration\":\"1h\"}");
    assertThat(ban.statusCode()).as(ban.body()).isBetween(200, 201);
    int beforeBan = reached();
    String refused = raw(gwB(), "127.0.0.2", k.secret());
    assertThat(refused)
        .satisfiesAnyOf(
            r -> assertThat(r).isEmpty(), r -> assertThat(r).startsWith("HTTP/1.1 403"));
    assertThat(reached()).isEqualTo(beforeBan);
    assertThat(get(gwB(), "/api/tags", k.secret()).statusCode()).isEqualTo(200);
    assertThat(admin(gwB(), "DELETE", "/api/v1/bans/127.0.0.2", null).statusCode())
        .isBetween(200, 204);
    assertThat(raw(gwA(), "127.0.0.2", k.secret())).startsWith("HTTP/1.1 200");
  }

  @Test
  @Order(5)
  void auditVerifyPassesAcrossBothInstancesAndCatchesADeletedRow() throws Exception {
    Key k = key("audited");
    for (int i = 0; i < 6; i++) {
      assertThat(get(i % 2 == 0 ? gwA() : gwB(), "/api/tags", k.secret()).statusCode())
          .isEqualTo(200);
    }
    // the database copy follows each fsync within a second
    CliRun ok = null;
    for (int i = 0; i < 50; i++) {
      ok = CliRun.run(cliEnv, "audit", "verify");
      if (ok.code() == 0 && ok.out().contains("instance gw-b: OK")) {
        break;
      }
      Thread.sleep(200);
    }
    assertThat(Objects.requireNonNull(ok).code()).as(ok.out() + ok.err()).isZero();
    assertThat(ok.out()).contains("instance gw-a: OK").contains("instance gw-b: OK");

    long seq;
    try (Connection c =
        DriverManager.getConnection(dbUrl, PostgresServer.USER, PostgresServer.PASSWORD)) {
      try (var rs =
          c.createStatement()
              .executeQuery("SELECT max(seq) - 1 FROM audit_log WHERE instance = 'gw-b'")) {
        assertThat(rs.next()).isTrue();
        seq = rs.getLong(1);
      }
      try (PreparedStatement del =
          c.prepareStatement("DELETE FROM audit_log WHERE instance = 'gw-b' AND seq = ?")) {
        del.setLong(1, seq);
        assertThat(del.executeUpdate()).isEqualTo(1);
      }
    }
    CliRun bad = CliRun.run(cliEnv, "audit", "verify");
    assertThat(bad.code()).as(bad.out()).isNotZero();
    // why: the report names the chain that lost a record, and the other stays clean
    assertThat(bad.out()).contains("instance gw-a: OK");
    assertThat(bad.out()).containsPattern("instance gw-b: .*" + seq);
  }

  @Test
  @Order(6)
  void withRedisStoppedLimitedRequestsGet503AndTrafficRecoversWithoutARestart() throws Exception {
    Key k = key("redis-outage", "--rpm", "1000", "--burst", "100");
    assertThat(get(gwA(), "/api/tags", k.secret()).statusCode()).isEqualTo(200);
    int before = reached();
    Objects.requireNonNull(redis).stop();
    for (String gw : List.of(gwA(), gwB(), gwA(), gwB())) {
      HttpResponse<String> r = get(gw, "/api/tags", k.secret());
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(code(r)).isEqualTo("limits.unavailable");
    }
    // why: fail closed: no per-node fallback let anything through
    assertThat(reached()).isEqualTo(before);
    redis.resume();
    for (String gw : List.of(gwA(), gwB())) {
      assertThat(eventually(gw, k.secret(), 200)).as("recovered at " + gw).isTrue();
    }
  }

  @Test
  @Order(7)
  void withPostgresStoppedKnownKeysServeUntilStaleThenEveryRequestFailsClosed() throws Exception {
    Key k = key("pg-outage");
    String unknown = "gk_" + "0".repeat(8) + "_" + "x".repeat(40);
    assertThat(get(gwA(), "/api/tags", k.secret()).statusCode()).isEqualTo(200);
    assertThat(get(gwB(), "/api/tags", k.secret()).statusCode()).isEqualTo(200);
    Objects.requireNonNull(pg).stop();
    int unknownBefore = fake().requests().size();
    // an unknown key is never let in, before or after the store goes stale
    for (int i = 0; i < 3; i++) {
      assertThat(get(gwA(), "/api/tags", unknown).statusCode()).isIn(401, 503);
      assertThat(get(gwB(), "/api/tags", unknown).statusCode()).isIn(401, 503);
    }
    assertThat(fake().requests().size()).isEqualTo(unknownBefore);
    // after store.max_stale (3 s), the known key is refused too, with the documented code
    assertThat(eventually(gwA(), k.secret(), 503)).isTrue();
    assertThat(eventually(gwB(), k.secret(), 503)).isTrue();
    int stale = reached();
    HttpResponse<String> r = get(gwB(), "/api/tags", k.secret());
    assertThat(code(r)).isEqualTo("store.unavailable");
    assertThat(reached()).isEqualTo(stale);
    pg.resume();
    assertThat(eventually(gwA(), k.secret(), 200)).isTrue();
    assertThat(eventually(gwB(), k.secret(), 200)).isTrue();
    assertThat(get(gwB(), "/api/tags", unknown).statusCode()).isEqualTo(401);
  }

  // ---- helpers

  private record Key(String id, String secret) {}

  /** A key made through the CLI on the shared store, with these extra options. */
  private Key key(String name, String... options) throws IOException {
    List<String> args = new ArrayList<>(List.of("keys", "create", "--name", name, "--json"));
    args.addAll(List.of(options));
    CliRun r = CliRun.run(cliEnv, args.toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode o = JSON.readTree(r.out());
    return new Key(o.get("id").asText(), o.get("key").asText());
  }

  private String gwA() {
    return Objects.requireNonNull(a).baseUrl();
  }

  private String gwB() {
    return Objects.requireNonNull(b).baseUrl();
  }

  private FakeUpstream fake() {
    return Objects.requireNonNull(upstream);
  }

  /**
   * Requests the upstream has received in all: the tests run one at a time and nothing else calls
   * it (no health checks), so a difference is what one test's requests forwarded.
   */
  private int reached() {
    return fake().requests().size();
  }

  /** Waits until the upstream has received {@code total} requests in all. */
  private void awaitReached(int total) throws InterruptedException {
    for (int i = 0; i < 400 && reached() < total; i++) {
      Thread.sleep(25);
    }
    assertThat(reached()).isGreaterThanOrEqualTo(total);
  }

  private boolean eventually(String gw, String key, int status) throws Exception {
    for (int i = 0; i < 150; i++) {
      if (get(gw, "/api/tags", key).statusCode() == status) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

  private HttpResponse<String> get(String base, String path, String key) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Authorization", "Bearer " + key)
            .timeout(Duration.ofSeconds(30))
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest post(String base, String path, String key, String body) {
    return HttpRequest.newBuilder(URI.create(base + path))
        .header("Authorization", "Bearer " + key)
        .header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  private static HttpResponse<String> post(
      String base, String path, String key, String body, HttpClient http) throws Exception {
    return http.send(post(base, path, key, body), HttpResponse.BodyHandlers.ofString());
  }

  private static String generate(boolean stream) {
    return "{\"model\":\"" + MODEL + "\",\"prompt\":\"hi\",\"stream\":" + stream + "}";
  }

  private HttpResponse<String> admin(String gw, String method, String path, @Nullable String body)
      throws Exception {
    GatewayProcess owner = gw.equals(gwA()) ? Objects.requireNonNull(a) : Objects.requireNonNull(b);
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + owner.adminPort() + path))
            .header("Authorization", "Bearer " + Objects.requireNonNull(a).adminToken())
            .timeout(Duration.ofSeconds(30));
    if (body != null) {
      r.header("Content-Type", "application/json");
    }
    r.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** GET /api/tags as raw bytes from a given local address; "" when the connection is closed. */
  private static String raw(String base, String from, String key) throws IOException {
    int port = URI.create(base).getPort();
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("GET /api/tags HTTP/1.1\r\nHost: 127.0.0.1:"
                  + port
                  + "\r\nAuthorization: Bearer "
                  + key
                  + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      try {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (java.net.SocketException e) {
        return ""; // reset: the connection was closed without an answer
      }
    }
  }

  private static String code(HttpResponse<String> r) throws IOException {
    JsonNode o = JSON.readTree(r.body());
    // OpenAI's dialect nests the error; Ollama's puts the code beside a text "error"
    JsonNode e = o.path("error").isObject() ? o.get("error") : o;
    return e.path("code").asText();
  }
}

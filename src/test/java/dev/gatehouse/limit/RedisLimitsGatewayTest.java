package dev.gatehouse.limit;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.keys.KeyService;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.LaggyRelay;
import dev.gatehouse.testing.RedisServer;
import io.vertx.core.Vertx;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A gateway with {@code limits.kind: redis} in front of a real Redis: it fails closed, and loudly,
 * while Redis is down, and recovers by itself when Redis is back; a password-protected Redis works
 * with the right password file, and a wrong one fails closed.
 */
class RedisLimitsGatewayTest {

  private static final String CHAT = RateLimiterContract.CHAT;
  private static final ObjectMapper JSON = new ObjectMapper();

  private static RedisServer redis;
  private static RedisServer locked;

  @BeforeAll
  static void start() throws Exception {
    redis = RedisServer.start();
    locked = RedisServer.start("s3cret-for-tests");
  }

  @AfterAll
  static void stop() {
    redis.close();
    locked.close();
  }

  private static HttpResponse<String> until(
      java.util.concurrent.Callable<HttpResponse<String>> call,
      Predicate<HttpResponse<String>> done)
      throws Exception {
    long deadline = System.nanoTime() + 15_000_000_000L;
    HttpResponse<String> r = call.call();
    while (!done.test(r) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      r = call.call();
    }
    return r;
  }

  @Test
  void withRedisStoppedLimitedRequestsAreRefusedAndTrafficRecoversWithoutARestart()
      throws Exception {
    // why: the fail-closed rule: no silent per-gateway fallback while Redis is down, the
    // upstream sees nothing, /readyz says why, and no restart is needed once Redis is back
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of(
                "limits.kind", "redis",
                "redis.url", redis.url(),
                "redis.key_prefix", RedisTesting.prefix(),
                "rate.key_rpm", "6000",
                "rate.key_burst", "100"))) {
      String key = gw.newKey();
      assertThat(gw.post("/api/chat", key, CHAT).statusCode()).isEqualTo(200);
      assertThat(gw.get("/readyz", null).body()).contains("\"ready\"");
      int reached = gw.upstream.requests().size();

      redis.stop();
      HttpResponse<String> refused = gw.post("/api/chat", key, CHAT);
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.body()).contains("\"code\":\"limits.unavailable\"");
      assertThat(gw.upstream.requests()).as("nothing reached the upstream").hasSize(reached);
      HttpResponse<String> ready =
          until(() -> gw.get("/readyz", null), r -> r.body().contains("limits_unavailable"));
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.body()).isEqualTo("{\"status\":\"limits_unavailable\"}");
      assertThat(gw.gateway().metrics().scrape()).contains("gatehouse_limits_up 0.0");

      redis.resume();
      HttpResponse<String> back =
          until(() -> gw.post("/api/chat", key, CHAT), r -> r.statusCode() == 200);
      assertThat(back.statusCode()).as("recovered without a restart").isEqualTo(200);
      assertThat(until(() -> gw.get("/readyz", null), r -> r.statusCode() == 200).body())
          .contains("\"ready\"");
      assertThat(gw.gateway().metrics().scrape()).contains("gatehouse_limits_up 1.0");
    }
  }

  // A client that sends one request after another, through any gateway, must find its slot back
  // and its tokens spent. In these two tests every write from the gateway to Redis is held 60 ms on
  // the way, so a slot freed, or usage settled, only after the last byte (or without waiting for
  // Redis) is not yet there when the client, through the other gateway (here a gate and a ledger
  // straight on Redis), asks again at once. The answer waits only for what a next request's
  // decision reads: a slot that filled a cap, and a key's usage when the key has a budget.

  @Test
  void aSlotThatFilledACapIsFreeOnEveryGatewayBeforeTheClientHasItsWholeAnswer() throws Exception {
    // why: with a cap of 1, every slot fills it; a per-gateway release after the answer made
    // ClusterTest's next request through the other gateway 429 in CI
    sequentially(
        Map.of("concurrency.global", "1", "concurrency.queue", "0"),
        (i, used, elsewhere) -> {
          ConcurrencyGate.Slot next = elsewhere.gate().acquire("next", 1);
          assertThat(next.granted().toCompletionStage().toCompletableFuture().get(5, SECONDS))
              .as("answer %d: its slot is free everywhere", i)
              .isNull();
          next.release().await(5, TimeUnit.SECONDS);
        });
  }

  @Test
  void aBudgetedKeysTokensAreCountedOnEveryGatewayBeforeTheClientHasItsWholeAnswer()
      throws Exception {
    // why: its next request is checked against those totals; the slot fills no cap here, so only
    // the settlement is waited for
    long[] spent = {0};
    sequentially(
        Map.of("budget.tokens_per_day", "1000000"),
        (i, used, elsewhere) -> {
          spent[0] += used;
          assertThat(used).as("the fake reported usage").isGreaterThan(0);
          assertThat(elsewhere.ledger().used(elsewhere.keyId()).await(5, TimeUnit.SECONDS).day())
              .as("answer %d: its tokens are counted everywhere", i)
              .isEqualTo(spent[0]);
        });
  }

  /** What a test checks after each answer: its number, the tokens it reported, the other side. */
  private interface AfterEach {
    void check(int i, long tokens, Elsewhere elsewhere) throws Exception;
  }

  /** The other gateway, as far as these tests need it: a gate and a ledger straight on Redis. */
  private record Elsewhere(RedisConcurrencyGate gate, RedisUsageLedger ledger, String keyId) {}

  /**
   * Four chats, one after another (plain and streamed in turn), through a gateway whose writes to
   * Redis are held 60 ms, each followed at once by {@code after}.
   */
  private static void sequentially(Map<String, String> settings, AfterEach after) throws Exception {
    String prefix = RedisTesting.prefix();
    Vertx other = Vertx.vertx();
    try (LaggyRelay slow = LaggyRelay.to(redis.port(), Duration.ofMillis(60))) {
      Map<String, String> all = new HashMap<>(settings);
      all.put("limits.kind", "redis");
      all.put("redis.url", "redis://127.0.0.1:" + slow.port());
      all.put("redis.key_prefix", prefix);
      try (GatewayFixture gw = GatewayFixture.start(all)) {
        RedisLink link = RedisLink.open(other, RedisTesting.settings(redis.url(), prefix, null));
        link.start(SharedLimits.SCRIPTS).await(10, TimeUnit.SECONDS);
        KeyService.Created k = gw.keys.create("seq", null, List.of(), List.of());
        Elsewhere e =
            new Elsewhere(
                new RedisConcurrencyGate(other, link, 1, 0, 1_000),
                new RedisUsageLedger(other, link, Clock.systemUTC()),
                k.record().id());
        gw.upstream.streaming(5, 1);
        for (int i = 0; i < 4; i++) {
          boolean stream = i % 2 == 1;
          HttpResponse<String> r =
              gw.post("/api/chat", k.key(), stream ? CHAT.replace("false", "true") : CHAT);
          assertThat(r.statusCode()).isEqualTo(200);
          JsonNode last = JSON.readTree(r.body().strip().lines().reduce((a, b) -> b).orElseThrow());
          assertThat(last.path("done").asBoolean()).isTrue();
          after.check(
              i, last.path("prompt_eval_count").asLong() + last.path("eval_count").asLong(), e);
        }
      }
    } finally {
      other.close().await();
    }
  }

  @Test
  void aPasswordFileOpensAProtectedRedisAndAWrongOneFailsClosed() throws Exception {
    Path right = Files.createTempFile("redis-pw", ".txt");
    Files.writeString(right, "s3cret-for-tests\n");
    Path wrong = Files.createTempFile("redis-pw", ".txt");
    Files.writeString(wrong, "not-the-password\n");
    Map<String, String> settings =
        Map.of(
            "limits.kind",
            "redis",
            "redis.url",
            locked.url(),
            "redis.key_prefix",
            RedisTesting.prefix(),
            "rate.key_rpm",
            "600");
    try (GatewayFixture gw = GatewayFixture.start(with(settings, right))) {
      assertThat(gw.post("/api/chat", gw.newKey(), CHAT).statusCode()).isEqualTo(200);
    }
    try (GatewayFixture gw = GatewayFixture.start(with(settings, wrong))) {
      HttpResponse<String> r = gw.post("/api/chat", gw.newKey(), CHAT);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).contains("\"code\":\"limits.unavailable\"");
      assertThat(r.body()).doesNotContain("not-the-password");
      assertThat(gw.upstream.requests()).isEmpty();
    }
  }

  private static Map<String, String> with(Map<String, String> settings, Path passwordFile) {
    Map<String, String> m = new HashMap<>(settings);
    m.put("redis.password_file", passwordFile.toString());
    return m;
  }
}

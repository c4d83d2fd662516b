package dev.gatehouse.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.MutableClock;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Alerts from a real gateway, delivered to a real local HTTP receiver: the payload, the signature,
 * the retry after a failure, order, and that a stuck receiver never holds up a request.
 */
class AlertsDeliveryTest {

  static final ObjectMapper JSON = new ObjectMapper();

  /** A webhook receiver that records every POST, failing the first {@code failFirst} with 503. */
  static final class Receiver implements AutoCloseable {
    record Hit(Map<String, String> headers, String body) {
      JsonNode json() throws Exception {
        return JSON.readTree(body);
      }
    }

    final HttpServer server;
    final LinkedBlockingQueue<Hit> hits = new LinkedBlockingQueue<>();
    final AtomicInteger failFirst;
    volatile CountDownLatch hold = new CountDownLatch(0);

    Receiver(int failures) throws Exception {
      this.failFirst = new AtomicInteger(failures);
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
      server.createContext(
          "/hook",
          ex -> {
            Map<String, String> h = new LinkedHashMap<>();
            ex.getRequestHeaders()
                .forEach((k, v) -> h.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            hits.add(new Hit(h, body));
            try {
              hold.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            int status = failFirst.getAndDecrement() > 0 ? 503 : 204;
            ex.sendResponseHeaders(status, -1);
            ex.close();
          });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    Hit next() throws InterruptedException {
      Hit h = hits.poll(20, TimeUnit.SECONDS);
      assertThat(h).as("a webhook POST within 20 s").isNotNull();
      return h;
    }

    @Override
    public void close() {
      hold.countDown();
      server.stop(0);
    }
  }

  final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  <T extends AutoCloseable> T keep(T t) {
    open.add(t);
    return t;
  }

  @Test
  void anAlertIsRetriedAfterTheReceiverFailsOnceAndArrivesSigned() throws Exception {
    Receiver receiver = keep(new Receiver(1));
    Path secret = Files.createTempFile("webhook", ".secret");
    Files.writeString(secret, "s3cret-for-signing\n");
    GatewayFixture gw =
        keep(
            GatewayFixture.start(
                Map.of(
                    "alerts.webhook", receiver.url(),
                    "alerts.webhook_secret_file", secret.toString(),
                    "alerts.webhook_backoff", "100ms")));
    for (int i = 0; i < 5; i++) {
      assertThat(gw.get("/api/tags", "gk_aaaaaaaaaaaa_" + "b".repeat(40)).statusCode())
          .isEqualTo(401);
    }
    assertThat(gw.upstream.requests()).as("refused requests never reach the upstream").isEmpty();

    Receiver.Hit first = receiver.next();
    Receiver.Hit retry = receiver.next();
    assertThat(first.headers().get("x-gatehouse-attempt")).isEqualTo("1");
    assertThat(retry.headers().get("x-gatehouse-attempt")).isEqualTo("2");
    assertThat(retry.headers().get("x-gatehouse-alert-id"))
        .isEqualTo(first.headers().get("x-gatehouse-alert-id"));
    assertThat(retry.body()).isEqualTo(first.body());
    assertThat(retry.headers().get("content-type")).isEqualTo("application/json");

    JsonNode a = retry.json();
    assertThat(a.get("alert").asText()).isEqualTo("auth_failures_per_ip");
    assertThat(a.get("severity").asText()).isEqualTo("warning");
    assertThat(a.get("group").get("by").asText()).isEqualTo("ip");
    assertThat(a.get("group").get("value").asText()).isEqualTo("127.0.0.1");
    assertThat(a.get("value").asLong()).isEqualTo(5);
    assertThat(a.get("threshold").asLong()).isEqualTo(5);
    assertThat(a.get("window_seconds").asLong()).isEqualTo(60);
    assertThat(a.get("summary").asText())
        .isEqualTo("auth_failures_per_ip: 5 requests from ip 127.0.0.1 in 1m (threshold >= 5)");
    assertThat(a.get("event").get("reason").asText()).isEqualTo("auth.key_invalid");
    assertThat(a.get("event").get("path").asText()).isEqualTo("/api/tags");
    assertThat(a.get("id").asText()).isEqualTo(first.headers().get("x-gatehouse-alert-id"));
    assertThat(retry.body())
        .as("never key material")
        .doesNotContain("gk_")
        .doesNotContain("bbbbbbbbbb");

    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(
        new SecretKeySpec("s3cret-for-signing".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    String expected =
        "sha256="
            + HexFormat.of().formatHex(mac.doFinal(retry.body().getBytes(StandardCharsets.UTF_8)));
    assertThat(retry.headers().get("x-gatehouse-signature")).isEqualTo(expected);

    Webhook w = gw.gateway().alerts().webhook();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (w.delivered() < 1 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(w.delivered()).isEqualTo(1);
    assertThat(w.failedAttempts()).isEqualTo(1);
    assertThat(w.dropped()).isZero();
    assertThat(receiver.hits).as("no third attempt, no second alert").isEmpty();
  }

  @Test
  void aStuckReceiverNeverHoldsUpRequestsAndAlertsArriveInOrder() throws Exception {
    Receiver receiver = keep(new Receiver(0));
    receiver.hold = new CountDownLatch(1); // the receiver takes each POST and does not answer
    GatewayFixture gw =
        keep(
            GatewayFixture.start(
                Map.of(
                    "alerts.webhook", receiver.url(),
                    "alerts.default_rules", "false",
                    "alerts.rules",
                        "every_tags: count requests where path=/api/tags by ip >= 1 in 1m cooldown 0s")));
    String key = gw.newKey();
    assertThat(gw.get("/api/tags", key).statusCode()).isEqualTo(200);
    Receiver.Hit held = receiver.next(); // the first delivery now hangs in the receiver
    // Every further request raises an alert, and each completes while the first delivery hangs.
    for (int i = 0; i < 30; i++) {
      assertThat(gw.get("/api/tags", key).statusCode()).isEqualTo(200);
    }
    assertThat(receiver.hold.getCount()).as("the receiver still holds the first POST").isEqualTo(1);
    assertThat(receiver.hits).as("one delivery at a time").isEmpty();
    assertThat(gw.gateway().alerts().engine().fired()).isEqualTo(31);

    receiver.hold.countDown();
    List<String> requestIds = new ArrayList<>();
    requestIds.add(held.json().get("event").get("request_id").asText());
    for (int i = 0; i < 30; i++) {
      requestIds.add(receiver.next().json().get("event").get("request_id").asText());
    }
    assertThat(requestIds).doesNotHaveDuplicates().hasSize(31);
  }

  @Test
  void theShippedRulesFireOnRealTraffic() throws Exception {
    Receiver receiver = keep(new Receiver(0));
    // Sunday 03:00 UTC: outside the default model-management hours (Mon-Fri 08:00-18:00)
    MutableClock clock = new MutableClock(Instant.parse("2026-11-22T03:00:05Z"));
    GatewayFixture gw =
        keep(
            GatewayFixture.start(
                Map.of(
                    "alerts.webhook", receiver.url(),
                    "alerts.timezone", "UTC",
                    "health.interval", "200ms",
                    "network.trusted_proxies", ""),
                null,
                null,
                clock));
    String admin = gw.newKey(List.of(), List.of("models.manage", "models.read"));
    String ordinary = gw.newKey();
    String budget =
        gw.keys
            .create(
                "budget",
                null,
                List.of(),
                List.of(),
                new KeyLimits(null, null, 20L, null, null, null))
            .key();

    assertThat(gw.post("/api/pull", admin, "{\"model\":\"llama3.2:3b\"}").statusCode())
        .isEqualTo(200);
    String chat =
        "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":false}";
    assertThat(gw.post("/api/chat", budget, chat).statusCode()).isEqualTo(200);
    assertThat(gw.post("/api/chat", budget, chat).statusCode()).isEqualTo(200);
    assertThat(gw.post("/api/chat", budget, chat).statusCode()).isEqualTo(429);
    assertThat(gw.upstream.requests())
        .as("the refused third chat never reached the upstream")
        .filteredOn(r -> r.uri().equals("/api/chat"))
        .hasSize(2);
    // the ordinary key, used from 127.0.0.1 and then from another /24
    assertThat(gw.get("/api/tags", ordinary).statusCode()).isEqualTo(200);
    GatewayFixture.RawResponse other =
        gw.raw(
            "GET /api/tags HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + ordinary
                + "\r\nConnection: close\r\n\r\n",
            "127.0.1.5");
    assertThat(other.status()).isEqualTo(200);
    for (int i = 0; i < 20; i++) {
      gw.get("/api/version", ordinary);
    }

    Map<String, JsonNode> byName = new LinkedHashMap<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    List<String> wanted =
        List.of(
            "models_manage",
            "models_manage_off_hours",
            "budget_exhausted",
            "key_new_network",
            "requests_per_ip");
    while (!byName.keySet().containsAll(wanted) && System.nanoTime() < deadline) {
      Receiver.Hit h = receiver.hits.poll(200, TimeUnit.MILLISECONDS);
      if (h != null) {
        byName.putIfAbsent(h.json().get("alert").asText(), h.json());
      }
    }
    assertThat(byName).containsKeys(wanted.toArray(String[]::new));
    assertThat(byName.get("models_manage_off_hours").get("severity").asText())
        .isEqualTo("critical");
    assertThat(byName.get("models_manage").get("event").get("path").asText())
        .isEqualTo("/api/pull");
    assertThat(byName.get("budget_exhausted").get("group").get("value").asText())
        .isEqualTo(budget.substring(3, 15));
    JsonNode net = byName.get("key_new_network").get("event");
    assertThat(net.get("network").asText()).isEqualTo("127.0.1.0/24");
    assertThat(net.get("known_networks").asText()).contains("127.0.0.0/24");
    assertThat(net.get("ip").asText()).isEqualTo("127.0.1.5");
    assertThat(byName.get("requests_per_ip").get("value").asLong()).isEqualTo(21);
    assertThat(byName).doesNotContainKey("upstream_down");

    // the upstream goes away: the health check notices within a few checks
    gw.upstream.close();
    JsonNode down = null;
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (down == null && System.nanoTime() < deadline) {
      Receiver.Hit h = receiver.hits.poll(200, TimeUnit.MILLISECONDS);
      if (h != null && h.json().get("alert").asText().equals("upstream_down")) {
        down = h.json();
      }
    }
    assertThat(down).as("an upstream_down alert").isNotNull();
    assertThat(down.get("severity").asText()).isEqualTo("critical");
    assertThat(down.get("event").get("upstream").asText()).isEqualTo(gw.upstream.url());
  }
}

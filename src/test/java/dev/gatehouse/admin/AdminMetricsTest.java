package dev.gatehouse.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.GatewayFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin listener's {@code /metrics}, scraped over HTTP and read with the official Prometheus
 * Python client's text-format parser ({@code tests/prometheus/parse.py}; Debian's
 * python3-prometheus-client, which CI installs), after real traffic through a real gateway.
 */
class AdminMetricsTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static AdminFixture fixture;
  static GatewayFixture gw;
  static AdminServer admin;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    fixture = AdminFixture.start(Map.of("health.interval", "1s"));
    gw = fixture.gw;
    admin = fixture.server;
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  /** A request with a viewer's credential (Prometheus sends one as a bearer token). */
  static HttpResponse<String> adminGet(String method, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .header("Authorization", "Bearer " + fixture.tokens.get(Role.VIEWER))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A parsed scrape: its families by name, and every sample. */
  record Scrape(Map<String, JsonNode> families, java.util.List<JsonNode> samples) {

    /**
     * The value of the sample with this name whose labels include all of {@code labels}, or null.
     */
    Double value(String sample, Map<String, String> labels) {
      for (JsonNode s : samples) {
        JsonNode l = s.path("labels");
        if (s.get("name").asText().equals(sample)
            && labels.entrySet().stream()
                .allMatch(e -> e.getValue().equals(l.path(e.getKey()).asText(null)))) {
          return s.get("value").asDouble();
        }
      }
      return null;
    }

    String type(String family) {
      return families.get(family).get("type").asText();
    }
  }

  /** Scrapes /metrics and parses it with the Prometheus client's parser. */
  static Scrape scrape() throws Exception {
    HttpResponse<String> r = adminGet("GET", "/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(ct -> assertThat(ct).startsWith("text/plain; version=0.0.4"));
    Path file = Files.createTempFile("gatehouse-metrics", ".txt");
    try {
      Files.writeString(file, r.body());
      Process p =
          new ProcessBuilder("/usr/bin/python3", "tests/prometheus/parse.py", file.toString())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      String out =
          new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(p.waitFor())
          .as("the Prometheus parser rejected the scrape:\n%s", r.body())
          .isZero();
      Map<String, JsonNode> byName = new java.util.TreeMap<>();
      java.util.List<JsonNode> samples = new java.util.ArrayList<>();
      for (JsonNode family : JSON.readTree(out)) {
        byName.put(family.get("name").asText(), family);
        family.get("samples").forEach(samples::add);
      }
      return new Scrape(byName, samples);
    } finally {
      Files.delete(file);
    }
  }

  @Test
  void trafficShowsUpInTheMetricsAndOnlyOnTheAdminListener() throws Exception {
    String key = gw.newKey();
    String keyId = key.substring(3, 15);
    assertThat(gw.get("/api/tags", key).statusCode()).isEqualTo(200);
    assertThat(
            gw.post(
                    "/api/generate",
                    key,
                    "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\",\"stream\":false}")
                .statusCode())
        .isEqualTo(200);
    assertThat(gw.get("/api/tags", null).statusCode()).isEqualTo(401);
    assertThat(gw.post("/api/push", key, "{\"model\":\"x\"}").statusCode()).isEqualTo(403);

    // a stream held open shows as active
    gw.upstream.streaming(40, 50);
    CompletableFuture<HttpResponse<String>> streaming =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/api/generate"))
                .header("Authorization", "Bearer " + key)
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"llama3.2:3b\",\"prompt\":\"long\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (gw.upstream.requests().stream().noneMatch(r -> r.body().contains("long"))
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    Scrape during = scrape();
    assertThat(during.value("gatehouse_active_streams", Map.of())).isEqualTo(1.0);
    assertThat(streaming.get().statusCode()).isEqualTo(200);
    gw.upstream.streaming(5, 20);

    // the upstream health check has run by now (it runs at start, then every second)
    deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    Scrape m = scrape();
    while (!Double.valueOf(1.0).equals(m.value("gatehouse_upstream_up", Map.of()))
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
      m = scrape();
    }
    assertThat(m.value("gatehouse_upstream_up", Map.of())).isEqualTo(1.0);
    assertThat(m.value("gatehouse_active_streams", Map.of())).isEqualTo(0.0);

    assertThat(m.type("gatehouse_requests")).isEqualTo("counter");
    assertThat(
            m.value(
                "gatehouse_requests_total",
                Map.of("op", "models.read", "status", "200", "key", keyId)))
        .isEqualTo(1.0);
    assertThat(
            m.value(
                "gatehouse_requests_total",
                Map.of("op", "inference", "status", "200", "key", keyId)))
        .isEqualTo(2.0);
    assertThat(
            m.value(
                "gatehouse_requests_total", Map.of("op", "none", "status", "401", "key", "none")))
        .isEqualTo(1.0);
    assertThat(
            m.value(
                "gatehouse_requests_total",
                Map.of("op", "models.manage", "status", "403", "key", keyId)))
        .isEqualTo(1.0);
    assertThat(m.value("gatehouse_refusals_total", Map.of("reason", "auth.key_invalid")))
        .isEqualTo(1.0);
    assertThat(m.value("gatehouse_refusals_total", Map.of("reason", "policy.endpoint_denied")))
        .isEqualTo(1.0);

    // tokens from the upstream's own figures: 7 in and 5 out (non-streamed), 7 in and 40 out
    // (streamed)
    assertThat(
            m.value(
                "gatehouse_tokens_total",
                Map.of("direction", "in", "key", keyId, "model", "llama3.2:3b")))
        .isEqualTo(14.0);
    assertThat(
            m.value(
                "gatehouse_tokens_total",
                Map.of("direction", "out", "key", keyId, "model", "llama3.2:3b")))
        .isEqualTo(45.0);

    // latency histograms, time to first byte included
    for (String h :
        new String[] {
          "gatehouse_request_duration_seconds",
          "gatehouse_time_to_first_byte_seconds",
          "gatehouse_upstream_duration_seconds"
        }) {
      assertThat(m.type(h)).as(h).isEqualTo("histogram");
      assertThat(m.value(h + "_count", Map.of("op", "inference"))).as(h + " count").isEqualTo(2.0);
      assertThat(m.value(h + "_bucket", Map.of("op", "inference", "le", "+Inf")))
          .as(h + " +Inf")
          .isEqualTo(2.0);
      assertThat(m.value(h + "_sum", Map.of("op", "inference"))).as(h + " sum").isPositive();
    }
    // the streamed request took 40 chunks x 50 ms: above 1 s; the other one and both first bytes
    // well below
    assertThat(
            m.value(
                "gatehouse_request_duration_seconds_bucket",
                Map.of("op", "inference", "le", "1.0")))
        .isEqualTo(1.0);
    assertThat(
            m.value(
                "gatehouse_time_to_first_byte_seconds_bucket",
                Map.of("op", "inference", "le", "1.0")))
        .isEqualTo(2.0);

    assertThat(m.value("gatehouse_bans_active", Map.of())).isEqualTo(0.0);
    assertThat(m.value("gatehouse_bans_issued_total", Map.of())).isEqualTo(0.0);
    assertThat(m.value("gatehouse_audit_write_lag_seconds_count", Map.of()))
        .isGreaterThanOrEqualTo(5.0);
    assertThat(m.value("gatehouse_audit_records_total", Map.of())).isGreaterThanOrEqualTo(5.0);
    assertThat(m.value("gatehouse_audit_queue", Map.of())).isNotNull();
    assertThat(m.value("gatehouse_alerts_total", Map.of())).isNotNull();
    assertThat(m.families()).containsKey("jvm_memory_used_bytes");

    // On the public listener /metrics is the upstream's own (llama.cpp, vLLM), a models.inspect
    // route this key may not use; Gatehouse's metrics are never served there.
    HttpResponse<String> pub = gw.get("/metrics", key);
    assertThat(pub.statusCode()).isEqualTo(403);
    assertThat(pub.body())
        .contains("policy.endpoint_denied")
        .doesNotContain("gatehouse_requests_total");
    assertThat(gw.upstream.requests()).noneMatch(r -> r.uri().startsWith("/metrics"));
  }

  @Test
  void theAdminListenerAnswersOnlyItsOwnPaths() throws Exception {
    assertThat(adminGet("GET", "/api/tags").statusCode()).isEqualTo(404);
    HttpResponse<String> post = adminGet("POST", "/metrics");
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
    assertThat(adminGet("GET", "/healthz").body()).isEqualTo("{\"status\":\"ok\"}");
  }

  @Test
  void metricsAndHealthNeedAViewerCredential() throws Exception {
    // why: the scrape names keys, models and traffic; since the admin listener has credentials,
    // a scraper authenticates like everyone else
    for (String path : new String[] {"/metrics", "/healthz"}) {
      HttpResponse<String> r = fixture.send("GET", path, null, null);
      assertThat(r.statusCode()).as(path).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate"))
          .hasValue("Bearer realm=\"gatehouse-admin\"");
      assertThat(r.body()).doesNotContain("gatehouse_requests_total");
    }
  }
}

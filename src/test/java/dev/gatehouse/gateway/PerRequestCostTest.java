package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.abuse.ProbeDetector;
import dev.gatehouse.account.AccessLog;
import dev.gatehouse.alerts.AlertEngine;
import dev.gatehouse.alerts.Alerts;
import dev.gatehouse.alerts.KeyNetworks;
import dev.gatehouse.alerts.ManageHours;
import dev.gatehouse.audit.AuditRecord;
import dev.gatehouse.audit.AuditTimes;
import dev.gatehouse.authorize.RouteTable;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.GatehouseConfig.AuditPrompt;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.RequestTarget;
import dev.gatehouse.metrics.GatewayMetrics;
import dev.gatehouse.testing.Allocation;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the account stage's per-request fan-out allocates: the bytes each consumer of a finished
 * request (metrics, alert rules, probe scoring, the access log) allocates per request, measured
 * with the thread's allocation counter over many requests that reuse one real Vert.x request. Only
 * the audit record itself should allocate; each consumer is bounded here (allocation is
 * deterministic enough to bound; time never is, so it is left to {@code bench/}). The figures are
 * printed so a change can be compared before and after.
 */
class PerRequestCostTest {

  static final int WARMUP = 30_000;
  static final int N = 20_000;

  /** Slack for the JIT: a component that allocates nothing may still show a byte or two. */
  static final double NOTHING = 16;

  static Vertx vertx;
  static HttpServer server;
  static HttpServerRequest request;

  @BeforeAll
  static void startARequest() throws Exception {
    vertx = Vertx.vertx();
    CompletableFuture<HttpServerRequest> got = new CompletableFuture<>();
    server =
        vertx
            .createHttpServer()
            .requestHandler(
                r -> {
                  r.pause();
                  got.complete(r);
                })
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1) // as clients reach the gateway
        .build()
        .sendAsync(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.actualPort() + "/api/chat"))
                .header("Authorization", "Bearer gh_0123456789abcdef")
                .header("User-Agent", "ollama-python/0.4")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.discarding());
    request = got.get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** An authenticated chat request answered 200: the common case. */
  static Exchange served() throws Exception {
    Exchange x =
        new Exchange(request, "r-0001", System.currentTimeMillis(), System.nanoTime(), null);
    x.targeted(Objects.requireNonNull(RequestTarget.parse("/api/chat")));
    x.identified(
        new Principal(
            "k1",
            "ci",
            Set.of("inference"),
            new ModelGlobs(List.of("*")),
            (java.time.Instant) null));
    x.routed(
        Objects.requireNonNull(RouteTable.standard().match("POST", "/api/chat").route()), null);
    JsonNode json =
        new ObjectMapper()
            .readTree(
                "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"Why is the sky blue?\"}]}");
    x.bodyRead(Buffer.buffer("{}"), json, "llama3.2:3b");
    request.response().setStatusCode(200);
    return x;
  }

  /** A request refused for lack of a valid key: what a scanner's requests are. */
  static Exchange refused() {
    Exchange x =
        new Exchange(request, "r-0002", System.currentTimeMillis(), System.nanoTime(), null);
    x.targeted(Objects.requireNonNull(RequestTarget.parse("/api/tags")));
    x.refused(Problem.KEY_INVALID, null);
    request.response().setStatusCode(401);
    return x;
  }

  static Alerts alerts() {
    return new Alerts(
        new AlertEngine(Alerts.rules(true, List.of()), a -> {}),
        new KeyNetworks(24, 48),
        ManageHours.parse("Mon-Fri 08:00-18:00", ZoneOffset.UTC),
        Clock.systemUTC(),
        null);
  }

  static ProbeDetector probes() {
    return new ProbeDetector(
        new GatehouseConfig.Probes(
            GatehouseConfig.ProbeAction.LOG, 10, Duration.ofMinutes(15), Duration.ofSeconds(5)),
        null);
  }

  /** Bytes the current thread allocates per run of {@code work}, after a warm-up. */
  static double bytesPer(Runnable work) {
    return Allocation.bytesPer(work, WARMUP, N);
  }

  static Map<String, Double> measure(Exchange x) {
    AuditTimes times = new AuditTimes();
    AuditRecord r = AuditRecord.of(x, x.response().getStatusCode(), AuditPrompt.NONE, times);
    GatewayMetrics metrics = new GatewayMetrics();
    Alerts alerts = alerts();
    ProbeDetector probes = probes();
    AccessLog log = new AccessLog();
    Consumer<AuditRecord> alertSink = alerts::request;
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(
        "record (AuditRecord.of)",
        bytesPer(() -> AuditRecord.of(x, x.response().getStatusCode(), AuditPrompt.NONE, times)));
    m.put("metrics", bytesPer(() -> metrics.record(r)));
    m.put("alerts", bytesPer(() -> alertSink.accept(r)));
    m.put("probes", bytesPer(() -> probes.observe(x)));
    // The line is built and handed to the logger, which writes it nowhere here.
    java.util.logging.Logger access = java.util.logging.Logger.getLogger("gatehouse.access");
    boolean parents = access.getUseParentHandlers();
    access.setUseParentHandlers(false);
    try {
      m.put("access log", bytesPer(() -> log.record(x)));
    } finally {
      access.setUseParentHandlers(parents);
    }
    return m;
  }

  static void print(String what, Map<String, Double> m) {
    StringBuilder b = new StringBuilder("bytes allocated per request, " + what + ":");
    m.forEach((k, v) -> b.append(String.format(java.util.Locale.ROOT, "%n  %-24s %8.1f", k, v)));
    System.out.println(b);
  }

  // Before the account fan-out was made allocation-free (bytes per request, HTTP/1.1, JDK 25):
  // served: metrics 56, alerts 272, probes 899; refused: metrics 72, alerts 272, probes 376.

  @Test
  void aServedRequestAllocatesOnlyItsRecord() throws Exception {
    Map<String, Double> m = measure(served());
    print("served (200, key, inference)", m);
    assertThat(m.get("record (AuditRecord.of)")).isGreaterThan(0); // the counter counts
    assertThat(m.get("metrics")).isLessThan(NOTHING);
    assertThat(m.get("alerts")).isLessThan(NOTHING);
    // JsonFields.get of an absent field (here "prompt", in a chat) walks the body's fields with an
    // iterator, which the JIT usually removes; at most that one is left.
    assertThat(m.get("probes")).isLessThan(48);
    assertThat(m.get("access log")).isLessThan(NOTHING); // not logged: FINE is off
  }

  @Test
  void aRefusedRequestAllocatesLittleBeyondItsRecord() {
    Map<String, Double> m = measure(refused());
    print("refused (401, no key)", m);
    assertThat(m.get("record (AuditRecord.of)")).isGreaterThan(0);
    assertThat(m.get("metrics")).isLessThan(NOTHING);
    assertThat(m.get("alerts")).isLessThan(NOTHING);
    // A refusal is scored in full: its observation (40 bytes) is all it builds.
    assertThat(m.get("probes")).isLessThan(64);
    // Refusals are logged at INFO: the line and its log record.
    assertThat(m.get("access log")).isLessThan(1024);
  }
}

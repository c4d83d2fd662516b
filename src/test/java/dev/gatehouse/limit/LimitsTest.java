package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.MutableClock;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each limit shown holding (429, honest Retry-After, upstream untouched) and then releasing. */
class LimitsTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String CHAT =
      "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  private static void awaitUpstreamRequests(GatewayFixture gw, int n) throws InterruptedException {
    for (int i = 0; i < 200 && gw.upstream.requests().size() < n; i++) {
      Thread.sleep(10);
    }
    assertThat(gw.upstream.requests()).hasSize(n);
  }

  private static long retryAfter(HttpResponse<String> r) {
    return Long.parseLong(r.headers().firstValue("retry-after").orElseThrow());
  }

  @Test
  void perKeyRateHoldsThenReleasesAfterRetryAfter() throws Exception {
    // why: a stolen or greedy key must not get unlimited requests; the 429 says when to retry
    try (GatewayFixture gw =
        GatewayFixture.start(Map.of("rate.key_rpm", "60", "rate.key_burst", "2"))) {
      String key = gw.newKey();
      assertThat(gw.post("/v1/chat/completions", key, CHAT).statusCode()).isEqualTo(200);
      assertThat(gw.post("/v1/chat/completions", key, CHAT).statusCode()).isEqualTo(200);
      HttpResponse<String> limited = gw.post("/v1/chat/completions", key, CHAT);
      assertThat(limited.statusCode()).isEqualTo(429);
      assertThat(JSON.readTree(limited.body()).at("/error/code").asText()).isEqualTo("limit.rate");
      assertThat(JSON.readTree(limited.body()).at("/error/type").asText())
          .isEqualTo("rate_limit_error");
      long wait = retryAfter(limited);
      assertThat(wait).isBetween(1L, 2L); // 60 per minute: one more request each second
      assertThat(gw.upstream.requests()).hasSize(2);
      Thread.sleep(wait * 1000);
      assertThat(gw.post("/v1/chat/completions", key, CHAT).statusCode()).isEqualTo(200);
      // Another key is not affected by the first one's bucket.
      assertThat(gw.post("/v1/chat/completions", gw.newKey(), CHAT).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aKeysOwnRateOverridesTheGlobalOne() throws Exception {
    // why: keys create --rpm lets one client be held tighter than the rest
    try (GatewayFixture gw = GatewayFixture.start(Map.of())) {
      String tight =
          gw.keys
              .create(
                  "tight", null, List.of(), List.of(), new KeyLimits(60, 1, null, null, null, null))
              .key();
      assertThat(gw.get("/api/tags", tight).statusCode()).isEqualTo(200);
      HttpResponse<String> r = gw.get("/api/tags", tight);
      assertThat(r.statusCode()).isEqualTo(429);
      assertThat(r.body()).contains("\"code\":\"limit.rate\"");
      assertThat(gw.get("/api/tags", gw.newKey()).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void unauthenticatedClientsMeetAMuchLowerPerAddressLimit() throws Exception {
    // why: guessing keys must get expensive fast; the refusal is the same on every path
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of("rate.anonymous_ip_rpm", "60", "rate.anonymous_ip_burst", "3"))) {
      for (int i = 0; i < 3; i++) {
        assertThat(
                gw.get(i % 2 == 0 ? "/api/tags" : "/nope", "gk_aaaaaaaaaaaa_" + "B".repeat(40))
                    .statusCode())
            .isEqualTo(401);
      }
      HttpResponse<String> limited = gw.get("/api/push", null);
      assertThat(limited.statusCode()).isEqualTo(429);
      Thread.sleep(retryAfter(limited) * 1000);
      assertThat(gw.get("/api/tags", null).statusCode()).isEqualTo(401);
      assertThat(gw.get("/api/tags", gw.newKey()).statusCode())
          .as("valid keys are not slowed")
          .isEqualTo(200);
      assertThat(gw.upstream.requests()).hasSize(1);
    }
  }

  @Test
  void aFailingLimiterDeniesRatherThanAllows() throws Exception {
    // why: fail closed; the proxy whose limiter swallowed its own error let everything through
    RateLimiter broken =
        (subject, perMinute, burst) -> {
          throw new IllegalStateException("limiter backend down");
        };
    try (GatewayFixture gw =
        GatewayFixture.start(Map.of("rate.key_rpm", "600"), null, broken, null)) {
      HttpResponse<String> r = gw.post("/api/chat", gw.newKey(), CHAT);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).contains("\"code\":\"limit.unavailable\"");
      assertThat(gw.upstream.requests()).isEmpty();
    }
  }

  @Test
  void aLimiterThatNeverAnswersRefusesOnceItsWaitIsOver() throws Exception {
    // why: a remote limiter that hangs must neither hold the request forever nor let it through
    RateLimiter silent =
        (subject, perMinute, burst) -> io.vertx.core.Promise.<RateLimiter.Take>promise().future();
    try (GatewayFixture gw =
        GatewayFixture.start(Map.of("rate.key_rpm", "600"), null, silent, null)) {
      long start = System.nanoTime();
      HttpResponse<String> r = gw.post("/api/chat", gw.newKey(), CHAT);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).contains("\"code\":\"limit.unavailable\"");
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isGreaterThanOrEqualTo(Duration.ofMillis(Limiter.REMOTE_ANSWER_MILLIS));
      assertThat(gw.upstream.requests()).isEmpty();
    }
  }

  @Test
  void tokenBudgetIsCountedFromRealUsageAndReleasesWithTheWindow() throws Exception {
    // why: budgets must follow what the model server actually spent, and reopen on time
    MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:05Z"));
    try (GatewayFixture gw = GatewayFixture.start(Map.of(), null, null, clock)) {
      String key =
          gw.keys
              .create(
                  "budget",
                  null,
                  List.of(),
                  List.of(),
                  new KeyLimits(null, null, 20L, null, null, null))
              .key();
      // Each non-streamed answer of the fake reports 7 prompt + 5 output tokens.
      assertThat(gw.post("/api/chat", key, CHAT).statusCode()).isEqualTo(200);
      assertThat(gw.post("/v1/chat/completions", key, CHAT).statusCode()).isEqualTo(200);
      HttpResponse<String> spent = gw.post("/api/chat", key, CHAT);
      assertThat(spent.statusCode()).isEqualTo(429);
      assertThat(spent.body()).contains("\"code\":\"limit.token_budget\"");
      assertThat(retryAfter(spent))
          .isEqualTo(55L); // to the end of the UTC minute on the gateway's clock
      assertThat(gw.upstream.requests()).hasSize(2);
      assertThat(gw.get("/api/tags", key).statusCode())
          .as("reading the model list costs no tokens")
          .isEqualTo(200);
      clock.advance(Duration.ofSeconds(56));
      assertThat(gw.post("/api/chat", key, CHAT).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aStreamThatSpendsTheBudgetIsCutWithAFinalErrorInItsDialect() throws Exception {
    // why: LiteLLM does not enforce budgets on streams and Envoy lets them overshoot
    try (GatewayFixture gw = GatewayFixture.start(Map.of())) {
      gw.upstream.streaming(40, 30);
      String key =
          gw.keys
              .create(
                  "small",
                  null,
                  List.of(),
                  List.of(),
                  new KeyLimits(null, null, null, 10L, null, null))
              .key();
      HttpResponse<String> ollama =
          gw.post("/api/chat", key, "{\"model\":\"llama3.2:3b\",\"messages\":[]}");
      List<String> lines = ollama.body().lines().toList();
      assertThat(lines).hasSize(11); // ten tokens, then the error object
      assertThat(lines.get(10)).contains("\"code\":\"limit.token_budget\"");
      assertThat(gw.upstream.nextEvent(3000))
          .isEqualTo("client-closed"); // the upstream stopped generating

      String key2 =
          gw.keys
              .create(
                  "small2",
                  null,
                  List.of(),
                  List.of(),
                  new KeyLimits(null, null, null, 5L, null, null))
              .key();
      HttpResponse<String> sse =
          gw.post(
              "/v1/chat/completions",
              key2,
              "{\"model\":\"llama3.2:3b\",\"stream\":true,\"messages\":[]}");
      List<String> events = sse.body().lines().filter(l -> l.startsWith("data: ")).toList();
      assertThat(events).hasSize(6);
      assertThat(events.get(5))
          .startsWith("data: {\"error\":{")
          .contains("\"code\":\"limit.token_budget\"");
      assertThat(gw.post("/api/chat", key2, CHAT).statusCode())
          .as("and the next request is refused up front")
          .isEqualTo(429);
    }
  }

  @Test
  void openAiStreamsAreAskedForUsageWhichIsHiddenFromClientsThatDidNotAsk() throws Exception {
    // why: without include_usage an OpenAI stream carries no token counts at all
    try (GatewayFixture gw = GatewayFixture.start(Map.of())) {
      String key = gw.newKey();
      HttpResponse<String> plain =
          gw.post(
              "/v1/chat/completions",
              key,
              "{\"model\":\"llama3.2:3b\",\"stream\":true,\"messages\":[]}");
      JsonNode sent = JSON.readTree(gw.upstream.requests().get(0).body());
      assertThat(sent.at("/stream_options/include_usage").asBoolean()).isTrue();
      assertThat(plain.body()).doesNotContain("\"usage\"").endsWith("data: [DONE]\n\n");
      HttpResponse<String> asked =
          gw.post(
              "/v1/chat/completions",
              key,
              "{\"model\":\"llama3.2:3b\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[]}");
      assertThat(asked.body()).contains("\"usage\":{\"prompt_tokens\":7");
    }
  }

  @Test
  void usageSurvivesARestartAndCountsAgainstTheDayBudget() throws Exception {
    // why: a restart must not hand every key a fresh daily budget
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("gh-usage");
    String key;
    try (GatewayFixture gw = GatewayFixture.start(Map.of(), dir, null, null)) {
      key =
          gw.keys
              .create(
                  "daily",
                  null,
                  List.of(),
                  List.of(),
                  new KeyLimits(null, null, null, 30L, null, null))
              .key();
      assertThat(gw.post("/api/chat", key, CHAT).statusCode()).isEqualTo(200);
      assertThat(gw.post("/api/chat", key, CHAT).statusCode()).isEqualTo(200);
    }
    try (GatewayFixture gw = GatewayFixture.start(Map.of(), dir, null, null)) {
      assertThat(gw.post("/api/chat", key, CHAT).statusCode())
          .isEqualTo(200); // 24 of 30 used so far
      HttpResponse<String> r = gw.post("/api/chat", key, CHAT);
      assertThat(r.statusCode()).isEqualTo(429);
      assertThat(r.body()).contains("tokens-per-day");
    }
  }

  @Test
  void concurrencyCapQueuesThenRefusesAtOnceWhenTheQueueIsFull() throws Exception {
    // why: a full queue must answer immediately, never hang; a freed slot goes to the next waiter
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of("concurrency.queue", "1", "concurrency.queue_timeout", "10s"))) {
      gw.upstream.streaming(10, 100); // about one second per stream
      String key =
          gw.keys
              .create(
                  "one", null, List.of(), List.of(), new KeyLimits(null, null, null, null, 1, null))
              .key();
      var client = java.net.http.HttpClient.newHttpClient();
      var req =
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(gw.baseUrl() + "/api/generate"))
              .header("Authorization", "Bearer " + key)
              .POST(
                  java.net.http.HttpRequest.BodyPublishers.ofString(
                      "{\"model\":\"llama3.2:3b\",\"prompt\":\"x\"}"))
              .build();
      var first = client.sendAsync(req, HttpResponse.BodyHandlers.ofString());
      awaitUpstreamRequests(gw, 1); // first holds the key's only slot
      var second = client.sendAsync(req, HttpResponse.BodyHandlers.ofString());
      Thread.sleep(500); // second waits in the queue (it cannot reach the upstream yet)
      assertThat(gw.upstream.requests()).hasSize(1);
      long t0 = System.nanoTime();
      HttpResponse<String> third =
          gw.post("/api/generate", key, "{\"model\":\"llama3.2:3b\",\"prompt\":\"x\"}");
      assertThat((System.nanoTime() - t0) / 1_000_000).as("refused at once").isLessThan(500);
      assertThat(third.statusCode()).isEqualTo(429);
      assertThat(third.body()).contains("\"code\":\"limit.key_concurrency\"");
      assertThat(third.headers().firstValue("retry-after")).isPresent();
      assertThat(first.get().statusCode()).isEqualTo(200);
      assertThat(second.get().statusCode()).isEqualTo(200);
      assertThat(second.get().body()).contains("\"done\":true");
      assertThat(gw.upstream.requests()).hasSize(2);
    }
  }

  @Test
  void aQueuedRequestGivesUpAfterTheQueueTimeout() throws Exception {
    // why: a queue without a timeout is just a slower hang
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of("concurrency.global", "1", "concurrency.queue_timeout", "300ms"))) {
      gw.upstream.streaming(20, 100);
      String key = gw.newKey();
      var client = java.net.http.HttpClient.newHttpClient();
      var slow =
          client.sendAsync(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create(gw.baseUrl() + "/api/generate"))
                  .header("Authorization", "Bearer " + key)
                  .POST(
                      java.net.http.HttpRequest.BodyPublishers.ofString(
                          "{\"model\":\"llama3.2:3b\",\"prompt\":\"x\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      awaitUpstreamRequests(gw, 1); // the stream holds the only slot
      HttpResponse<String> waited = gw.get("/api/tags", gw.newKey());
      assertThat(waited.statusCode()).isEqualTo(503);
      assertThat(waited.body()).contains("\"code\":\"limit.gateway_busy\"");
      assertThat(slow.get().statusCode()).isEqualTo(200);
      assertThat(gw.get("/api/tags", key).statusCode())
          .as("released after the stream")
          .isEqualTo(200);
    }
  }

  @Test
  void anOptionSpelledInAnotherCaseDoesNotStandInForTheOutputCap() throws Exception {
    // why: Ollama reads options by exact name and ignores NUM_PREDICT, so the upstream must get
    // the cap as num_predict whatever other spelling the client sent; the body's bytes are
    // otherwise forwarded as sent
    try (GatewayFixture gw = GatewayFixture.start(Map.of("caps.max_output_tokens", "64"))) {
      String key = gw.newKey();
      for (String options :
          List.of("{\"NUM_PREDICT\":5}", "{\"Num_Predict\":5,\"NUM_CTX\":1}", "{ }")) {
        String body = "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"options\":" + options + "}";
        HttpResponse<String> r = gw.post("/api/generate", key, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        List<dev.gatehouse.testing.FakeUpstream.Recorded> got = gw.upstream.requests();
        JsonNode sent = new ObjectMapper().readTree(got.get(got.size() - 1).body());
        assertThat(sent.at("/options/num_predict").asInt()).as(options).isEqualTo(64);
      }
    }
  }

  @Test
  void anOutputCapUnderAnotherSpellingIsAlsoSentUnderItsExactName() throws Exception {
    // why: vLLM and llama.cpp match field names exactly: {"MAX_TOKENS":5} is no cap to them, so
    // the gateway must not take it for one; Ollama's Go decoder reads both, the last one wins
    try (GatewayFixture gw = GatewayFixture.start(Map.of("caps.max_output_tokens", "64"))) {
      String key = gw.newKey();
      for (String[] c :
          new String[][] {
            {"/v1/chat/completions", "\"MAX_TOKENS\":5", "max_tokens", "5"},
            {"/v1/chat/completions", "\"Max_Tokens\":4096", "max_tokens", "64"},
            {"/v1/completions", "\"max_Tokens\":null", "max_tokens", "64"},
            {"/completion", "\"N_PREDICT\":7", "n_predict", "7"},
            {"/v1/responses", "\"MAX_OUTPUT_TOKENS\":9", "max_output_tokens", "9"},
          }) {
        String body =
            "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"hi\"}],"
                + c[1]
                + "}";
        HttpResponse<String> r = gw.post(c[0], key, body);
        assertThat(r.statusCode()).as(c[0] + " " + c[1] + ": " + r.body()).isEqualTo(200);
        List<dev.gatehouse.testing.FakeUpstream.Recorded> got = gw.upstream.requests();
        String sent = got.get(got.size() - 1).body();
        JsonNode tree = new ObjectMapper().readTree(sent);
        assertThat(tree.path(c[2]).asText()).as(c[1] + " -> " + sent).isEqualTo(c[3]);
        // the last spelling is the exact one, as a last-match-wins decoder reads it
        assertThat(sent.lastIndexOf("\"" + c[2] + "\""))
            .as(sent)
            .isGreaterThan(sent.toLowerCase(java.util.Locale.ROOT).indexOf("\"" + c[2] + "\""));
      }
    }
  }

  @Test
  void aModelNamedUnderAnotherSpellingIsSentUnderItsExactName() throws Exception {
    // why: a key limited to one model is checked against "MODEL"; vLLM matches names exactly,
    // would see no model and serve its default one, which the key may not use
    try (GatewayFixture gw = GatewayFixture.start(Map.of())) {
      String key = gw.newKey(List.of("llama3.2:3b"), List.of("inference"));
      String body =
          "{\"MODEL\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
      HttpResponse<String> r = gw.post("/v1/chat/completions", key, body);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      List<dev.gatehouse.testing.FakeUpstream.Recorded> got = gw.upstream.requests();
      String sent = got.get(got.size() - 1).body();
      assertThat(new ObjectMapper().readTree(sent).path("model").asText()).isEqualTo("llama3.2:3b");
      assertThat(sent.lastIndexOf("\"model\"")).as(sent).isGreaterThan(sent.indexOf("MODEL"));
    }
  }
}

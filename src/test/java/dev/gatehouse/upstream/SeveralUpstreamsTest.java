package dev.gatehouse.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.pins.ModelPins;
import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.Poll;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Several upstreams behind one gateway: real fake model servers on loopback, each recording what
 * reached it. Failover before a response starts, ejection and re-admission, model-aware routing,
 * key affinity, least-in-flight, merged listings, a stream cut when its upstream dies (never
 * replayed), and pins per upstream.
 */
class SeveralUpstreamsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private FakeUpstream fake(String... models) {
    FakeUpstream f = new FakeUpstream();
    if (models.length > 0) {
      f.listing(models);
    }
    open.add(f);
    return f;
  }

  /** A gateway in front of {@code fakes}, named a, b, c... in order. */
  private GatewayFixture gateway(Map<String, String> settings, FakeUpstream... fakes)
      throws Exception {
    StringBuilder list = new StringBuilder("[");
    for (int i = 0; i < fakes.length; i++) {
      list.append(i == 0 ? "" : ", ")
          .append("{url: \"")
          .append(fakes[i].url())
          .append("\", name: ")
          .append((char) ('a' + i))
          .append("}");
    }
    Map<String, String> s = new HashMap<>(settings);
    s.put("upstreams", list.append("]").toString());
    GatewayFixture gw = GatewayFixture.start(s);
    open.add(gw);
    // the model lists are read at start: wait for them, so routing by model is decided
    waitFor(
        () -> gw.gateway().upstreams().members().stream().allMatch(u -> u.catalog().size() >= 0));
    return gw;
  }

  private static String chat(String model, boolean stream) {
    return "{\"model\":\""
        + model
        + "\",\"stream\":"
        + stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  }

  private static long chats(FakeUpstream f) {
    return f.requests().stream()
        .filter(r -> r.uri().equals("/api/chat") || r.uri().equals("/v1/chat/completions"))
        .count();
  }

  private static Upstream member(GatewayFixture gw, String name) {
    return gw.gateway().upstreams().byName().get(name);
  }

  private static void waitFor(BooleanSupplier done) throws InterruptedException {
    Poll.until("the condition", Duration.ofSeconds(10), done);
  }

  @Test
  void aKilledUpstreamFailsOverIsEjectedAndComesBack() throws Exception {
    FakeUpstream a = fake();
    FakeUpstream b = fake();
    GatewayFixture gw =
        gateway(
            Map.of(
                "routing.eject_after", "2",
                "routing.eject_base", "300ms",
                "health.interval", "100ms"),
            a,
            b);
    String key = gw.newKey();
    for (int i = 0; i < 4; i++) {
      assertThat(gw.post("/api/chat", key, chat("llama3.2:3b", false)).statusCode()).isEqualTo(200);
    }
    assertThat(chats(a)).as("both serve").isPositive();
    assertThat(chats(b)).isPositive();

    a.stop();
    // why: a request not yet started when its upstream is gone is retried on the other: no error
    for (int i = 0; i < 10; i++) {
      HttpResponse<String> r = gw.post("/api/chat", key, chat("llama3.2:3b", false));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
    Upstream ua = member(gw, "a");
    waitFor(() -> ua.outlier().ejected() || ua.health().state() == 0);
    assertThat(ua.requests(Upstream.Outcome.FAILED)).as("no client saw a failure").isZero();

    // why: once it answers its health check again, after the backoff, it is back in rotation
    a.resume();
    waitFor(() -> ua.admitted());
    long before = chats(a);
    for (int i = 0; i < 6; i++) {
      assertThat(gw.post("/api/chat", key, chat("llama3.2:3b", false)).statusCode()).isEqualTo(200);
    }
    assertThat(chats(a)).as("re-admitted").isGreaterThan(before);
  }

  @Test
  void failuresInARowEjectAnUpstreamThatStillAcceptsConnections() throws Exception {
    // why: passive ejection needs no health check to notice: here the checks are off
    FakeUpstream a = fake();
    FakeUpstream b = fake();
    GatewayFixture gw =
        gateway(Map.of("routing.eject_after", "2", "routing.eject_base", "1m"), a, b);
    String key = gw.newKey();
    a.stop();
    for (int i = 0; i < 8; i++) {
      assertThat(gw.post("/api/chat", key, chat("llama3.2:3b", false)).statusCode()).isEqualTo(200);
    }
    Upstream ua = member(gw, "a");
    assertThat(ua.outlier().ejected()).isTrue();
    assertThat(ua.requests(Upstream.Outcome.FAILED_OVER)).isEqualTo(2);
    assertThat(chats(b)).isEqualTo(8);
  }

  @Test
  void aModelOnOneUpstreamAlwaysGoesThere() throws Exception {
    FakeUpstream a = fake("llama3.2:3b");
    FakeUpstream b = fake("qwen2.5:7b");
    GatewayFixture gw = gateway(Map.of(), a, b);
    String key = gw.newKey();
    for (int i = 0; i < 8; i++) {
      assertThat(gw.post("/api/chat", key, chat("qwen2.5:7b", false)).statusCode()).isEqualTo(200);
      assertThat(gw.post("/v1/chat/completions", key, chat("llama3.2:3b", false)).statusCode())
          .isEqualTo(200);
    }
    assertThat(a.requests()).noneMatch(r -> r.body().contains("qwen2.5:7b"));
    assertThat(b.requests()).noneMatch(r -> r.body().contains("llama3.2:3b"));
    assertThat(chats(a)).isEqualTo(8);
    assertThat(chats(b)).isEqualTo(8);

    // why: a model no upstream has is refused as Ollama would, in the client's dialect, and no
    // upstream is contacted
    HttpResponse<String> ollama = gw.post("/api/chat", key, chat("nope:1b", false));
    assertThat(ollama.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(ollama.body()).get("code").asText())
        .isEqualTo("upstream.model_not_found");
    HttpResponse<String> openai = gw.post("/v1/chat/completions", key, chat("nope:1b", false));
    assertThat(openai.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(openai.body()).get("error").get("code").asText())
        .isEqualTo("upstream.model_not_found");
    assertThat(chats(a) + chats(b)).isEqualTo(16);
  }

  @Test
  void affinityByKeyKeepsAKeyOnOneUpstream() throws Exception {
    FakeUpstream a = fake();
    FakeUpstream b = fake();
    FakeUpstream c = fake();
    GatewayFixture gw = gateway(Map.of("routing.affinity", "key"), a, b, c);
    List<FakeUpstream> all = List.of(a, b, c);
    Set<Integer> homes = new HashSet<>();
    for (int k = 0; k < 6; k++) {
      String key = gw.newKey();
      long[] before = all.stream().mapToLong(SeveralUpstreamsTest::chats).toArray();
      for (int i = 0; i < 5; i++) {
        assertThat(gw.post("/api/chat", key, chat("llama3.2:3b", false)).statusCode())
            .isEqualTo(200);
      }
      int served = 0;
      for (int u = 0; u < 3; u++) {
        long n = chats(all.get(u)) - before[u];
        if (n > 0) {
          served++;
          assertThat(n).as("all of one key's requests on one upstream").isEqualTo(5);
          homes.add(u);
        }
      }
      assertThat(served).isEqualTo(1);
    }
    assertThat(homes).as("keys spread over the upstreams").hasSizeGreaterThan(1);
  }

  @Test
  void leastInFlightSpreadsConcurrentStreams() throws Exception {
    FakeUpstream a = fake().streaming(30, 50);
    FakeUpstream b = fake().streaming(30, 50);
    GatewayFixture gw = gateway(Map.of(), a, b);
    String key = gw.newKey();
    HttpClient http = HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<String>>> streams = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      streams.add(
          http.sendAsync(
              HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/api/chat"))
                  .header("Authorization", "Bearer " + key)
                  .POST(HttpRequest.BodyPublishers.ofString(chat("llama3.2:3b", true)))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
      int started = i + 1;
      waitFor(() -> chats(a) + chats(b) == started);
    }
    assertThat(chats(a)).isEqualTo(2);
    assertThat(chats(b)).isEqualTo(2);
    for (var s : streams) {
      assertThat(s.get().statusCode()).isEqualTo(200);
    }
  }

  @Test
  void listingsAreMergedAndStillFilteredByTheKey() throws Exception {
    FakeUpstream a = fake("llama3.2:3b", "phi3:latest");
    FakeUpstream b = fake("qwen2.5:7b", "phi3:latest");
    GatewayFixture gw = gateway(Map.of(), a, b);
    String key = gw.newKey();
    JsonNode tags = JSON.readTree(gw.get("/api/tags", key).body()).get("models");
    List<String> names = new ArrayList<>();
    tags.forEach(m -> names.add(m.get("name").asText()));
    assertThat(names).containsExactly("llama3.2:3b", "phi3:latest", "qwen2.5:7b");
    JsonNode data = JSON.readTree(gw.get("/v1/models", key).body()).get("data");
    List<String> ids = new ArrayList<>();
    data.forEach(m -> ids.add(m.get("id").asText()));
    assertThat(ids).containsExactly("llama3.2:3b", "phi3:latest", "qwen2.5:7b");

    // why: a key limited to some models learns of no others, from any upstream
    String limited = gw.newKey(List.of("qwen*"), List.of("inference", "models.read"));
    JsonNode only = JSON.readTree(gw.get("/api/tags", limited).body()).get("models");
    assertThat(only).hasSize(1);
    assertThat(only.get(0).get("name").asText()).isEqualTo("qwen2.5:7b");
    JsonNode onlyIds = JSON.readTree(gw.get("/v1/models", limited).body()).get("data");
    assertThat(onlyIds).hasSize(1);
  }

  @Test
  void aStreamWhoseUpstreamDiesEndsCleanlyAndIsNotReplayed() throws Exception {
    // both have the model and both die mid-stream: whichever takes a stream, the other must
    // never receive it
    FakeUpstream a = fake().streaming(10, 20).dieAfter(3);
    FakeUpstream b = fake().streaming(10, 20).dieAfter(3);
    GatewayFixture gw = gateway(Map.of(), a, b);
    String key = gw.newKey();

    HttpResponse<String> ndjson = gw.post("/api/chat", key, chat("llama3.2:3b", true));
    assertThat(ndjson.statusCode()).isEqualTo(200);
    String[] lines = ndjson.body().strip().split("\n");
    assertThat(lines.length).isEqualTo(4);
    JsonNode last = JSON.readTree(lines[lines.length - 1]);
    assertThat(last.get("code").asText()).isEqualTo("upstream.failed");

    HttpResponse<String> sse = gw.post("/v1/chat/completions", key, chat("llama3.2:3b", true));
    assertThat(sse.statusCode()).isEqualTo(200);
    String[] events = sse.body().strip().split("\n\n");
    String lastEvent = events[events.length - 1];
    assertThat(lastEvent).startsWith("data: {\"error\":{");
    assertThat(JSON.readTree(lastEvent.substring(6)).get("error").get("code").asText())
        .isEqualTo("upstream.failed");

    assertThat(chats(a) + chats(b)).as("each stream sent once, never replayed").isEqualTo(2);
    assertThat(
            member(gw, "a").requests(Upstream.Outcome.BROKEN)
                + member(gw, "b").requests(Upstream.Outcome.BROKEN))
        .isEqualTo(2);
  }

  @Test
  void aPinHoldsPerUpstream() throws Exception {
    FakeUpstream a = fake("llama3.2:3b");
    FakeUpstream b = fake("llama3.2:3b");
    b.setDigest("llama3.2:3b", "d".repeat(64)); // b's copy is another model
    Path lock = Files.createTempFile("pins", ".json");
    ModelPins.of(Map.of("llama3.2:3b", "sha256:" + a.digestOf("llama3.2:3b"))).write(lock);
    GatewayFixture gw =
        gateway(Map.of("models.pinned", lock.toString(), "models.pin_refresh", "100ms"), a, b);
    String key = gw.newKey();
    for (int i = 0; i < 6; i++) {
      assertThat(gw.post("/api/chat", key, chat("llama3.2:3b", false)).statusCode()).isEqualTo(200);
    }
    assertThat(chats(a)).isEqualTo(6);
    assertThat(chats(b)).as("its copy differs from the pin").isZero();

    // why: when no upstream has the pinned copy, the request is refused, as with one upstream
    a.setDigest("llama3.2:3b", "e".repeat(64));
    Thread.sleep(150);
    HttpResponse<String> r = gw.post("/api/chat", key, chat("llama3.2:3b", false));
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("policy.model_pin_mismatch");
    assertThat(chats(a) + chats(b)).isEqualTo(6);
  }
}

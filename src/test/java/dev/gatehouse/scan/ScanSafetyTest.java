package dev.gatehouse.scan;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.doctor.Advisories;
import dev.gatehouse.doctor.ClassProbes;
import dev.gatehouse.doctor.JdkHttpProbe;
import dev.gatehouse.testing.FakeLlmServer;
import dev.gatehouse.testing.FakeLlmServer.Kind;
import dev.gatehouse.testing.FakeLlmServer.Recorded;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scan never sends a request that could change state or run a model. Each fake records what it
 * received and counts what would have acted on the real product; on top of that every recorded
 * request is checked against the rule itself: no management, account or cloud request with a
 * well-formed name, and no inference or embedding request with a usable prompt or a real model.
 */
class ScanSafetyTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static JdkHttpProbe http;

  /** Routes that act on the real server when they get the right method and a well-formed body. */
  static final Set<String> ACTING =
      Set.of(
          "POST /api/pull",
          "POST /api/push",
          "POST /api/create",
          "POST /api/copy",
          "DELETE /api/delete",
          "POST /api/signout",
          "POST /api/me",
          "POST /api/experimental/web_search",
          "POST /api/experimental/web_fetch",
          "POST /props",
          "POST /lora-adapters",
          "POST /models/apply",
          "POST /models/delete",
          "POST /backend/shutdown");

  /** Routes that run a model. */
  static final Set<String> INFERENCE =
      Set.of(
          "POST /api/generate",
          "POST /api/chat",
          "POST /api/embed",
          "POST /api/embeddings",
          "POST /v1/chat/completions",
          "POST /v1/completions",
          "POST /v1/responses",
          "POST /v1/messages",
          "POST /v1/embeddings",
          "POST /completion",
          "POST /completions",
          "POST /embedding",
          "POST /infill");

  @BeforeAll
  static void client() {
    http = new JdkHttpProbe(Duration.ofSeconds(5), "gatehouse-test");
  }

  @AfterAll
  static void close() {
    http.close();
  }

  static Stream<Arguments> servers() {
    return Stream.of(
        // why: the product with the most dangerous unauthenticated routes
        Arguments.of("ollama", (Supplier<FakeLlmServer>) () -> FakeLlmServer.ollama("0.1.33")),
        // why: its router answers a wrong method with 404, so the one POST to /api/pull is sent
        Arguments.of(
            "ollama, 404 router",
            (Supplier<FakeLlmServer>) () -> FakeLlmServer.ollamaWithout405("0.1.33")),
        // why: llama.cpp runs its loaded model whatever "model" says
        Arguments.of(
            "llama.cpp",
            (Supplier<FakeLlmServer>)
                () -> FakeLlmServer.start(Kind.LLAMA_CPP, "b4500", "127.0.0.1", null, false)),
        Arguments.of(
            "vllm",
            (Supplier<FakeLlmServer>)
                () -> FakeLlmServer.start(Kind.VLLM, "0.6.3", "127.0.0.1", null, false)),
        Arguments.of(
            "lm studio",
            (Supplier<FakeLlmServer>)
                () -> FakeLlmServer.start(Kind.LM_STUDIO, "0.3.14", "127.0.0.1", null, false)),
        // why: LocalAI installs gallery models on POST /models/apply
        Arguments.of(
            "localai",
            (Supplier<FakeLlmServer>)
                () -> FakeLlmServer.start(Kind.LOCALAI, "v2.20.1", "127.0.0.1", null, false)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void scanSendsNothingThatChangesStateOrRunsAModel(String name, Supplier<FakeLlmServer> start)
      throws Exception {
    try (FakeLlmServer server = start.get()) {
      Scanner scanner =
          new Scanner(
              http,
              Advisories.builtIn(),
              Clock.systemUTC(),
              new Scanner.Options(40, Duration.ofMillis(10), Duration.ofSeconds(5)));
      Scanner.Result r = scanner.scan(ScanTarget.parse(server.url()));
      assertThat(r.error()).isNull();
      List<Recorded> requests = server.requests();
      assertThat(requests).hasSizeBetween(5, 40);
      assertThat(server.stateChanges()).as("the fake saw an acting request").isEmpty();
      for (Recorded req : requests) {
        assertHarmless(req);
      }
      if (name.equals("ollama, 404 router")) {
        assertThat(requests)
            .anyMatch(q -> q.method().equals("POST") && q.path().equals("/api/pull"));
      }
    }
  }

  static void assertHarmless(Recorded r) throws Exception {
    String key = r.method() + " " + r.path();
    JsonNode body = r.body().isBlank() ? null : JSON.readTree(r.body());
    if (ACTING.contains(key)
        || (r.method().equals("POST") && r.path().startsWith("/api/blobs/"))
        || (r.method().equals("DELETE") && r.path().startsWith("/api/user/keys/"))
        || (r.method().equals("POST") && r.path().startsWith("/slots"))) {
      assertThat(body).as(key + " without a body could still act on some servers").isNotNull();
      for (String field :
          List.of("model", "name", "source", "destination", "from", "modelfile", "id", "url")) {
        assertThat(body.path(field).isTextual())
            .as(key + " names something in '" + field + "': " + r.body())
            .isFalse();
      }
    }
    if (INFERENCE.contains(key)) {
      assertThat(body).as(key).isNotNull();
      assertThat(body.path("model").asText())
          .as(key + " must name only the nonexistent model")
          .isEqualTo(ClassProbes.BOGUS_MODEL);
      for (String field : List.of("prompt", "messages", "input")) {
        JsonNode v = body.get(field);
        assertThat(v == null || !(v.isTextual() || v.isArray()))
            .as(key + " carries a usable " + field + ": " + r.body())
            .isTrue();
      }
    }
    assertThat(r.method()).as(key).isIn("GET", "HEAD", "POST", "DELETE");
  }
}

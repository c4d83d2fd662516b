package dev.gatehouse.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayFixture;
import io.github.ollama4j.Ollama;
import io.github.ollama4j.exceptions.OllamaException;
import io.github.ollama4j.models.chat.OllamaChatMessageRole;
import io.github.ollama4j.models.chat.OllamaChatRequest;
import io.github.ollama4j.models.chat.OllamaChatResult;
import io.github.ollama4j.models.generate.OllamaGenerateRequest;
import io.github.ollama4j.models.generate.OllamaGenerateStreamObserver;
import io.github.ollama4j.models.request.ThinkMode;
import io.github.ollama4j.models.response.Model;
import io.github.ollama4j.models.response.OllamaResult;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ollama4j Java client (Ollama's native API), configured with a bearer key, against a real
 * gateway.
 */
class Ollama4jClientTest {

  static GatewayFixture gw;
  static String key;
  static String qwenKey;

  @BeforeAll
  static void start() throws Exception {
    gw =
        GatewayFixture.start(
            java.util.Map.of(
                "guard.mode", "block")); // ordinary chats pass the prompt guard in block mode
    key = gw.newKey();
    qwenKey = gw.newKey(List.of("qwen*"), List.of());
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  /**
   * A client as a user configures one for a server behind a gateway; null sends no Authorization.
   */
  static Ollama client(String bearer) {
    Ollama o = new Ollama(gw.baseUrl());
    if (bearer != null) {
      o.setBearerAuth(bearer);
    }
    o.setRequestTimeoutSeconds(20);
    return o;
  }

  static OllamaGenerateRequest generate(String model) {
    return OllamaGenerateRequest.builder()
        .withModel(model)
        .withPrompt("Say hello")
        .withThink(ThinkMode.DISABLED)
        .build();
  }

  static OllamaChatRequest chat(String model) {
    return OllamaChatRequest.builder()
        .withModel(model)
        .withMessage(OllamaChatMessageRole.USER, "Say hello")
        .build();
  }

  /**
   * The Authorization header the upstream saw on each request (the gateway must not forward the
   * key).
   */
  static List<String> forwardedAuth() {
    return gw.upstream.requests().stream().map(r -> r.headers().get("Authorization")).toList();
  }

  // ollama4j's listModels (GET /api/tags) must parse the gateway's answer and list every model.
  @Test
  void listModels() throws Exception {
    List<String> names = client(key).listModels().stream().map(Model::getName).toList();
    assertThat(names).containsExactlyInAnyOrderElementsOf(FakeUpstream.MODELS);
    assertThat(gw.upstream.requests())
        .extracting(FakeUpstream.Recorded::uri)
        .containsExactly("/api/tags");
  }

  // Non-streaming chat (POST /api/chat, stream=false) returns the model's whole answer.
  @Test
  void chatNonStreaming() throws Exception {
    OllamaChatResult r = client(key).chat(chat("llama3.2:3b"), null);
    assertThat(r.getResponseModel().getMessage().getResponse()).isEqualTo("Hello from the fake.");
    assertThat(gw.upstream.requests()).hasSize(1);
    assertThat(gw.upstream.requests().get(0).uri()).isEqualTo("/api/chat");
    assertThat(gw.upstream.requests().get(0).body()).contains("\"stream\":false");
  }

  // Non-streaming generate (POST /api/generate) returns the model's whole answer.
  @Test
  void generateNonStreaming() throws Exception {
    OllamaResult r =
        client(key).generate(generate("llama3.2:3b"), new OllamaGenerateStreamObserver(null, null));
    assertThat(r.getResponse()).isEqualTo("Hello from the fake.");
    assertThat(gw.upstream.requests())
        .extracting(FakeUpstream.Recorded::uri)
        .containsExactly("/api/generate");
  }

  // Streaming generate: the NDJSON stream relayed by the gateway reaches the handler as several
  // parts, in order.
  @Test
  void generateStreamingDeliversSeveralParts() throws Exception {
    List<String> parts = new CopyOnWriteArrayList<>();
    OllamaResult r =
        client(key)
            .generate(generate("llama3.2:3b"), new OllamaGenerateStreamObserver(null, parts::add));
    List<String> nonEmpty = parts.stream().filter(p -> !p.isEmpty()).toList();
    assertThat(nonEmpty).containsExactly("tok0 ", "tok1 ", "tok2 ", "tok3 ", "tok4 ");
    assertThat(r.getResponse()).isEqualTo("tok0 tok1 tok2 tok3 tok4 ");
    assertThat(gw.upstream.requests()).hasSize(1);
    assertThat(gw.upstream.requests().get(0).body()).contains("\"stream\":true");
  }

  // Streaming chat: each NDJSON message chunk reaches the token handler separately.
  @Test
  void chatStreamingDeliversSeveralParts() throws Exception {
    List<String> parts = new CopyOnWriteArrayList<>();
    OllamaChatResult r =
        client(key).chat(chat("llama3.2:3b"), part -> parts.add(part.getMessage().getResponse()));
    List<String> nonEmpty = parts.stream().filter(p -> p != null && !p.isEmpty()).toList();
    assertThat(nonEmpty).containsExactly("tok0 ", "tok1 ", "tok2 ", "tok3 ", "tok4 ");
    assertThat(r.getResponseModel().getMessage().getResponse())
        .isEqualTo("tok0 tok1 tok2 tok3 tok4 ");
    assertThat(gw.upstream.requests()).hasSize(1);
  }

  // The client's bearer key is for the gateway only; it must not be relayed to the model server.
  @Test
  void bearerKeyIsNotForwardedUpstream() throws Exception {
    client(key).chat(chat("llama3.2:3b"), null);
    assertThat(forwardedAuth()).hasSize(1).allSatisfy(h -> assertThat(h).isNull());
  }

  /**
   * ollama4j reports a 401 differently per call: listModels as "401 - <body>", chat as its own
   * "Unauthorized", generate as the gateway's error text. Any of these proves the refusal.
   */
  static final String UNAUTHORIZED = "(?s).*(401|Unauthorized|missing or invalid API key).*";

  // A wrong key (well-formed, wrong secret) fails every ollama4j call with a 401, and nothing
  // reaches the model server.
  @Test
  void wrongKeyFailsAndNothingReachesUpstream() {
    String wrong = key.substring(0, key.length() - 1) + (key.endsWith("A") ? "B" : "A");
    Ollama bad = client(wrong);
    assertThatThrownBy(bad::listModels)
        .isInstanceOf(OllamaException.class)
        .hasMessageContaining("401")
        .hasMessageContaining("auth.key_invalid");
    assertThatThrownBy(() -> bad.chat(chat("llama3.2:3b"), null))
        .isInstanceOf(OllamaException.class)
        .hasMessageMatching(UNAUTHORIZED);
    assertThatThrownBy(() -> bad.chat(chat("llama3.2:3b"), part -> {}))
        .isInstanceOf(OllamaException.class)
        .hasMessageMatching(UNAUTHORIZED);
    assertThatThrownBy(
            () ->
                bad.generate(
                    generate("llama3.2:3b"), new OllamaGenerateStreamObserver(null, t -> {})))
        .isInstanceOf(OllamaException.class)
        .hasMessageMatching(UNAUTHORIZED);
    assertThatThrownBy(
            () ->
                bad.generate(generate("llama3.2:3b"), new OllamaGenerateStreamObserver(null, null)))
        .isInstanceOf(OllamaException.class)
        .hasMessageMatching(UNAUTHORIZED);
    assertThat(gw.upstream.requests()).isEmpty();
  }

  // A client with no key configured at all is refused the same way, and nothing is relayed.
  @Test
  void missingKeyFailsAndNothingReachesUpstream() {
    Ollama none = client(null);
    assertThatThrownBy(none::listModels)
        .isInstanceOf(OllamaException.class)
        .hasMessageContaining("401");
    assertThatThrownBy(() -> none.chat(chat("llama3.2:3b"), null))
        .isInstanceOf(OllamaException.class)
        .hasMessageMatching(UNAUTHORIZED);
    assertThatThrownBy(
            () ->
                none.generate(
                    generate("llama3.2:3b"), new OllamaGenerateStreamObserver(null, t -> {})))
        .isInstanceOf(OllamaException.class)
        .hasMessageMatching(UNAUTHORIZED);
    assertThat(gw.upstream.requests()).isEmpty();
  }

  // A key limited to qwen* sees only qwen2.5:7b in listModels and is refused llama3.2:3b without a
  // relay.
  @Test
  void modelLimitedKey() throws Exception {
    Ollama limited = client(qwenKey);
    assertThat(limited.listModels()).extracting(Model::getName).containsExactly("qwen2.5:7b");
    gw.upstream.reset();
    // ollama4j 1.1.6's chat drops the status and body of a 403 (it names only 400/401/404/500), so
    // the exception alone cannot show 403; the upstream staying empty shows it was a refusal.
    assertThatThrownBy(() -> limited.chat(chat("llama3.2:3b"), null))
        .isInstanceOf(OllamaException.class);
    assertThatThrownBy(() -> limited.chat(chat("llama3.2:3b"), part -> {}))
        .isInstanceOf(OllamaException.class);
    assertThatThrownBy(
            () ->
                limited.generate(
                    generate("llama3.2:3b"), new OllamaGenerateStreamObserver(null, t -> {})))
        .isInstanceOf(OllamaException.class);
    assertThat(gw.upstream.requests()).isEmpty();
    assertThat(limited.chat(chat("qwen2.5:7b"), null).getResponseModel().getMessage().getResponse())
        .isEqualTo("Hello from the fake.");
  }
}

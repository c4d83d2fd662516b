package dev.gatehouse.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.PermissionDeniedException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayFixture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK (OkHttp transport) used against a real gateway, as a user would. */
class OpenAiJavaClientTest {

  static GatewayFixture gw;
  static String key;
  static String qwenKey;
  static final List<OpenAIClient> clients = new ArrayList<>();

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
    clients.forEach(OpenAIClient::close);
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  /** A client as a user configures one; no retries, so a refusal is exactly one request. */
  static OpenAIClient client(String apiKey) {
    OpenAIClient c =
        OpenAIOkHttpClient.builder()
            .baseUrl(gw.baseUrl() + "/v1")
            .apiKey(apiKey)
            .maxRetries(0)
            .timeout(Duration.ofSeconds(20))
            .build();
    clients.add(c);
    return c;
  }

  static ChatCompletionCreateParams chat(String model) {
    return ChatCompletionCreateParams.builder().model(model).addUserMessage("Say hello").build();
  }

  // The basic promise: an SDK chat call with a valid key reaches the model and gets its answer.
  @Test
  void chatCompletionWithValidKey() {
    ChatCompletion c = client(key).chat().completions().create(chat("llama3.2:3b"));
    assertThat(c.choices()).hasSize(1);
    assertThat(c.choices().get(0).message().content()).contains("Hello from the fake.");
    assertThat(gw.upstream.requests()).hasSize(1);
    FakeUpstream.Recorded r = gw.upstream.requests().get(0);
    assertThat(r.uri()).isEqualTo("/v1/chat/completions");
    assertThat(r.body()).contains("\"model\":\"llama3.2:3b\"");
  }

  // Streaming through the gateway must arrive as several SSE chunks the SDK can parse, in order.
  @Test
  void streamingChatCompletionYieldsSeveralChunks() {
    List<String> pieces = new ArrayList<>();
    try (StreamResponse<ChatCompletionChunk> stream =
        client(key).chat().completions().createStreaming(chat("llama3.2:3b"))) {
      stream.stream()
          .forEach(
              chunk -> chunk.choices().forEach(ch -> ch.delta().content().ifPresent(pieces::add)));
    }
    List<String> nonEmpty = pieces.stream().filter(s -> !s.isEmpty()).toList();
    assertThat(nonEmpty).hasSizeGreaterThanOrEqualTo(5);
    assertThat(String.join("", pieces)).isEqualTo("tok0 tok1 tok2 tok3 tok4 ");
    assertThat(gw.upstream.requests()).hasSize(1);
    assertThat(gw.upstream.requests().get(0).body()).contains("\"stream\":true");
  }

  // models.list() must parse the gateway's /v1/models and, for an unrestricted key, show every
  // model.
  @Test
  void modelsListShowsEveryModelForUnrestrictedKey() {
    List<String> ids = client(key).models().list().data().stream().map(Model::id).toList();
    assertThat(ids).containsExactlyInAnyOrderElementsOf(FakeUpstream.MODELS);
  }

  // Embeddings are a separate route and scope; the SDK call must work end to end.
  @Test
  void embeddingsWithValidKey() {
    CreateEmbeddingResponse e =
        client(key)
            .embeddings()
            .create(EmbeddingCreateParams.builder().model("qwen2.5:7b").input("hello").build());
    assertThat(e.data()).hasSize(1);
    assertThat(e.data().get(0).embedding()).containsExactly(0.1f, 0.2f);
    assertThat(gw.upstream.requests())
        .extracting(FakeUpstream.Recorded::uri)
        .containsExactly("/v1/embeddings");
  }

  /**
   * A well-formed key with a real id whose secret is wrong: the hardest wrong key to tell apart.
   */
  static String tampered(String valid) {
    char last = valid.charAt(valid.length() - 1);
    return valid.substring(0, valid.length() - 1) + (last == 'A' ? 'B' : 'A');
  }

  // A wrong key (well-formed with a wrong secret, or not a key at all) must surface as the SDK's
  // 401
  // exception, streaming or not, and the request must never reach the model.
  @Test
  void wrongKeyRaisesUnauthorizedAndNothingReachesUpstream() {
    for (String wrong : List.of(tampered(key), "sk-not-a-gatehouse-key")) {
      OpenAIClient bad = client(wrong);
      assertThatThrownBy(() -> bad.chat().completions().create(chat("llama3.2:3b")))
          .isInstanceOfSatisfying(
              UnauthorizedException.class,
              e -> {
                assertThat(e.statusCode()).isEqualTo(401);
                assertThat(e.code()).contains("auth.key_invalid");
              });
      assertThatThrownBy(
              () -> {
                try (var s = bad.chat().completions().createStreaming(chat("llama3.2:3b"))) {
                  s.stream().count();
                }
              })
          .isInstanceOf(UnauthorizedException.class);
      assertThatThrownBy(() -> bad.models().list()).isInstanceOf(UnauthorizedException.class);
      assertThatThrownBy(
              () ->
                  bad.embeddings()
                      .create(
                          EmbeddingCreateParams.builder().model("qwen2.5:7b").input("x").build()))
          .isInstanceOf(UnauthorizedException.class);
    }
    assertThat(gw.upstream.requests()).isEmpty();
  }

  // A client that sends no Authorization header at all gets the same 401, and nothing is relayed.
  @Test
  void missingKeyRaisesUnauthorizedAndNothingReachesUpstream() {
    OpenAIClient none =
        OpenAIOkHttpClient.builder()
            .baseUrl(gw.baseUrl() + "/v1")
            .apiKey("unused")
            .maxRetries(0)
            .addInterceptor(
                chain ->
                    chain.proceed(
                        chain.request().newBuilder().removeHeader("Authorization").build()))
            .build();
    clients.add(none);
    assertThatThrownBy(() -> none.chat().completions().create(chat("llama3.2:3b")))
        .isInstanceOfSatisfying(
            UnauthorizedException.class, e -> assertThat(e.statusCode()).isEqualTo(401));
    assertThat(gw.upstream.requests()).isEmpty();
  }

  // A key limited to qwen* must get the SDK's 403 for another model, streaming or not, and nothing
  // is relayed.
  @Test
  void modelLimitedKeyIsDeniedOtherModels() {
    OpenAIClient limited = client(qwenKey);
    assertThatThrownBy(() -> limited.chat().completions().create(chat("llama3.2:3b")))
        .isInstanceOfSatisfying(
            PermissionDeniedException.class,
            e -> {
              assertThat(e.statusCode()).isEqualTo(403);
              assertThat(e.code()).contains("policy.model_denied");
            });
    assertThatThrownBy(
            () -> {
              try (var s = limited.chat().completions().createStreaming(chat("llama3.2:3b"))) {
                s.stream().count();
              }
            })
        .isInstanceOf(PermissionDeniedException.class);
    assertThatThrownBy(
            () ->
                limited
                    .embeddings()
                    .create(
                        EmbeddingCreateParams.builder().model("llama3.2:3b").input("x").build()))
        .isInstanceOf(PermissionDeniedException.class);
    assertThat(gw.upstream.requests()).isEmpty();
  }

  // The same limited key may still use the models it is allowed, proving the 403 above is about the
  // model.
  @Test
  void modelLimitedKeyMayUseItsModel() {
    ChatCompletion c = client(qwenKey).chat().completions().create(chat("qwen2.5:7b"));
    assertThat(c.choices().get(0).message().content()).contains("Hello from the fake.");
    assertThat(gw.upstream.requests()).hasSize(1);
  }

  // A limited key never learns that other models exist: models.list() shows only qwen2.5:7b.
  @Test
  void modelsListForLimitedKeyShowsOnlyAllowedModels() {
    List<String> ids = client(qwenKey).models().list().data().stream().map(Model::id).toList();
    assertThat(ids).containsExactly("qwen2.5:7b");
  }
}

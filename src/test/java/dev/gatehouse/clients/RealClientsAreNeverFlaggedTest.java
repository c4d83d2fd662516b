package dev.gatehouse.clients;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.ModelRetrieveParams;
import dev.gatehouse.testing.AccessLogCapture;
import dev.gatehouse.testing.GatewayFixture;
import io.github.ollama4j.Ollama;
import io.github.ollama4j.models.chat.OllamaChatMessageRole;
import io.github.ollama4j.models.chat.OllamaChatRequest;
import io.github.ollama4j.models.generate.OllamaGenerateRequest;
import io.github.ollama4j.models.generate.OllamaGenerateStreamObserver;
import io.github.ollama4j.models.request.ThinkMode;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The promise of probe detection: a real client using a valid key in the normal way is never
 * flagged. openai-java and ollama4j are driven through every call they make in ordinary use, many
 * rounds, against a gateway with detection set to ban, auth-failure bans on, nothing exempt
 * (loopback included) and the automatic Host check: the product defaults, except the action. Then:
 * no detection log line, no ban, and still served.
 */
class RealClientsAreNeverFlaggedTest {

  static GatewayFixture gw;
  static String key;
  static AccessLogCapture abuse;
  static AccessLogCapture access;

  @BeforeAll
  static void start() throws Exception {
    gw =
        GatewayFixture.start(
            Map.of("probes.action", "ban", "bans.never", "", "network.allowed_hosts", ""));
    key = gw.newKey();
    gw.upstream.streaming(5, 1); // streams as usual, just faster: the test is about many calls
    abuse = new AccessLogCapture("gatehouse.abuse");
    access = new AccessLogCapture();
  }

  @AfterAll
  static void stop() {
    abuse.close();
    access.close();
    gw.close();
  }

  @Test
  void openAiJavaAndOllama4jInOrdinaryUseAreNeverFlagged() throws Exception {
    OpenAIClient openai =
        OpenAIOkHttpClient.builder()
            .baseUrl(gw.baseUrl() + "/v1")
            .apiKey(key)
            .maxRetries(0)
            .timeout(Duration.ofSeconds(20))
            .build();
    Ollama ollama = new Ollama(gw.baseUrl());
    ollama.setBearerAuth(key);
    ollama.setRequestTimeoutSeconds(20);
    try {
      for (int round = 0; round < 8; round++) {
        // openai-java: list and look up models, chat (plain and streamed), embed
        assertThat(openai.models().list().data()).isNotEmpty();
        openai.models().retrieve(ModelRetrieveParams.builder().model("llama3.2:3b").build());
        ChatCompletionCreateParams chat =
            ChatCompletionCreateParams.builder()
                .model("llama3.2:3b")
                .addUserMessage("Say hello")
                .maxCompletionTokens(64)
                .build();
        assertThat(openai.chat().completions().create(chat).choices()).hasSize(1);
        try (StreamResponse<ChatCompletionChunk> s =
            openai.chat().completions().createStreaming(chat)) {
          assertThat(s.stream().count()).isPositive();
        }
        openai
            .embeddings()
            .create(EmbeddingCreateParams.builder().model("qwen2.5:7b").input("hello").build());

        // ollama4j: ping, version, list, chat and generate (plain and streamed)
        assertThat(ollama.ping()).isTrue();
        assertThat(ollama.getVersion()).isNotBlank();
        assertThat(ollama.listModels()).isNotEmpty();
        OllamaChatRequest ochat =
            OllamaChatRequest.builder()
                .withModel("llama3.2:3b")
                .withMessage(OllamaChatMessageRole.USER, "hello")
                .build();
        ollama.chat(ochat, null);
        ollama.chat(ochat, part -> {});
        OllamaGenerateRequest gen =
            OllamaGenerateRequest.builder()
                .withModel("llama3.2:3b")
                .withPrompt("hi")
                .withThink(ThinkMode.DISABLED)
                .build();
        ollama.generate(gen, new OllamaGenerateStreamObserver(null, null));
        ollama.generate(gen, new OllamaGenerateStreamObserver(null, t -> {}));
      }
    } finally {
      openai.close();
    }
    assertThat(abuse.lines()).as("gatehouse.abuse log").isEmpty();
    assertThat(gw.store.listBans()).isEmpty();
    assertThat(gw.get("/api/tags", key).statusCode()).isEqualTo(200);
    assertThat(gw.upstream.requests().size()).isGreaterThanOrEqualTo(8 * 12);
    // Stronger than no verdict: not one request was refused, so no signal scored at all.
    assertThat(access.lines())
        .isNotEmpty()
        .noneMatch(l -> l.contains("decision=deny") || l.contains("decision=error"));
  }
}

package dev.gatehouse.authorize;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every route of shared/reference/llm-endpoints.md has exactly the operation the issue assigns. */
class RouteTableTest {

  static final RouteTable TABLE = RouteTable.standard();

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource({
    // Ollama native API
    "GET, /, models.read", "HEAD, /, models.read",
    "GET, /api/version, models.read", "HEAD, /api/version, models.read",
    "GET, /api/status, account",
    "GET, /api/tags, models.read", "HEAD, /api/tags, models.read",
    "POST, /api/show, models.inspect",
    "GET, /api/ps, models.read",
    "POST, /api/generate, inference", "POST, /api/chat, inference",
    "POST, /api/embed, embeddings", "POST, /api/embeddings, embeddings",
    "POST, /api/pull, models.manage", "POST, /api/push, models.manage", "POST, /api/create, models.manage",
    "HEAD, /api/blobs/sha256:abc, models.manage", "POST, /api/blobs/sha256:abc, models.manage",
    "POST, /api/copy, models.manage", "DELETE, /api/delete, models.manage",
    "POST, /api/signout, account", "DELETE, /api/user/keys/ssh-ed25519, account", "POST, /api/me, account",
    "POST, /api/experimental/web_search, cloud", "POST, /api/experimental/web_fetch, cloud",
    "GET, /api/experimental/model-recommendations, cloud",
    // OpenAI-compatible
    "GET, /v1/models, models.read", "GET, /v1/models/llama3.2:3b, models.read",
    "POST, /v1/chat/completions, inference", "POST, /v1/completions, inference", "POST, /v1/responses, inference",
    "POST, /v1/messages, inference", "POST, /v1/embeddings, embeddings", "POST, /v1/audio/transcriptions, inference",
    // llama.cpp server and vLLM extras
    "GET, /health, models.read", "GET, /version, models.read",
    "GET, /props, models.inspect", "POST, /props, models.manage",
    "GET, /slots, models.inspect", "POST, /slots/0, models.manage", "GET, /metrics, models.inspect",
    "POST, /completion, inference", "POST, /tokenize, inference", "POST, /detokenize, inference",
    "POST, /embedding, embeddings", "POST, /infill, inference", "POST, /rerank, embeddings",
    "POST, /apply-template, inference", "GET, /lora-adapters, models.inspect", "POST, /lora-adapters, models.manage",
    "POST, /pooling, embeddings", "POST, /score, embeddings",
  })
  void everyReferenceRouteIsClassified(String method, String path, String scope) {
    RouteTable.Match m = TABLE.match(method, path);
    assertThat(m.route()).as(method + " " + path).isNotNull();
    assertThat(m.route().operation().scope).isEqualTo(scope);
  }

  @Test
  void unknownPathsAndMethodsAreNotRoutes() {
    // why: deny by default; case and trailing slashes never alias
    assertThat(TABLE.match("POST", "/API/PUSH").pathKnown()).isFalse();
    assertThat(TABLE.match("GET", "/api/tags/").pathKnown()).isFalse();
    assertThat(TABLE.match("GET", "/api/blobs/").pathKnown()).isFalse();
    assertThat(TABLE.match("GET", "/api/blobs/a/b").pathKnown()).isFalse();
    assertThat(TABLE.match("GET", "/v2/models").pathKnown()).isFalse();
    RouteTable.Match wrongMethod = TABLE.match("GET", "/api/chat");
    assertThat(wrongMethod.route()).isNull();
    assertThat(wrongMethod.pathKnown()).isTrue();
    assertThat(wrongMethod.allowedMethods()).containsExactly("POST");
  }

  @Test
  void ordinaryScopesNeverIncludeManagementInspectionAccountOrCloud() {
    // why: the default key must not be able to push, pull, delete, read system prompts or use the owner's account
    assertThat(Operation.DEFAULT_SCOPES).containsExactlyInAnyOrder(Operation.INFERENCE, Operation.EMBEDDINGS, Operation.MODELS_READ);
  }
}

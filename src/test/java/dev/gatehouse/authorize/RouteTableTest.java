package dev.gatehouse.authorize;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.exchange.Operation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every route of shared/reference/llm-endpoints.md has exactly the operation the issue assigns. */
class RouteTableTest {

  static final RouteTable TABLE = RouteTable.standard();

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource({
    // Ollama native API
    "GET, /, models.read",
    "HEAD, /, models.read",
    "GET, /api/version, models.read",
    "HEAD, /api/version, models.read",
    "GET, /api/status, account",
    "GET, /api/tags, models.read",
    "HEAD, /api/tags, models.read",
    "POST, /api/show, models.inspect",
    "GET, /api/ps, models.read",
    "POST, /api/generate, inference",
    "POST, /api/chat, inference",
    "POST, /api/embed, embeddings",
    "POST, /api/embeddings, embeddings",
    "POST, /api/pull, models.manage",
    "POST, /api/push, models.manage",
    "POST, /api/create, models.manage",
    "HEAD, /api/blobs/sha256:abc, models.manage",
    "POST, /api/blobs/sha256:abc, models.manage",
    "POST, /api/copy, models.manage",
    "DELETE, /api/delete, models.manage",
    "POST, /api/signout, account",
    "DELETE, /api/user/keys/ssh-ed25519, account",
    "POST, /api/me, account",
    "POST, /api/experimental/web_search, cloud",
    "POST, /api/experimental/web_fetch, cloud",
    "GET, /api/experimental/model-recommendations, cloud",
    // OpenAI-compatible
    "GET, /v1/models, models.read",
    "GET, /v1/models/llama3.2:3b, models.read",
    "POST, /v1/chat/completions, inference",
    "POST, /v1/completions, inference",
    "POST, /v1/responses, inference",
    "POST, /v1/messages, inference",
    "POST, /v1/embeddings, embeddings",
    "POST, /v1/audio/transcriptions, inference",
    // llama.cpp server and vLLM extras
    "GET, /health, models.read",
    "GET, /version, models.read",
    "GET, /props, models.inspect",
    "POST, /props, models.manage",
    "GET, /slots, models.inspect",
    "POST, /slots/0, models.manage",
    "GET, /metrics, models.inspect",
    "POST, /completion, inference",
    "POST, /tokenize, inference",
    "POST, /detokenize, inference",
    "POST, /embedding, embeddings",
    "POST, /infill, inference",
    "POST, /rerank, embeddings",
    "POST, /apply-template, inference",
    "GET, /lora-adapters, models.inspect",
    "POST, /lora-adapters, models.manage",
    "POST, /pooling, embeddings",
    "POST, /score, embeddings",
  })
  void everyReferenceRouteIsClassified(String method, String path, String scope) {
    RouteTable.Match m = TABLE.match(method, path);
    assertThat(m.route()).as(method + " " + path).isNotNull();
    assertThat(m.route().operation().scope).isEqualTo(scope);
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource({
    // llama.cpp: token counting, reranking, health
    "POST, /v1/messages/count_tokens, inference",
    "POST, /v1/responses/input_tokens, inference",
    "POST, /v1/chat/completions/input_tokens, inference",
    "POST, /reranking, embeddings",
    "GET, /v1/health, models.read",
    // vLLM
    "POST, /v1/audio/translations, inference",
    "POST, /classify, embeddings",
    "POST, /v2/rerank, embeddings",
    "POST, /v2/embed, embeddings",
    // LocalAI
    "POST, /v1/audio/speech, inference",
    "POST, /v1/images/generations, inference",
    "POST, /v1/tokenize, inference",
    // LM Studio REST API v0
    "GET, /api/v0/models, models.read",
    "GET, /api/v0/models/qwen2-vl-7b-instruct, models.read",
    "POST, /api/v0/chat/completions, inference",
    "POST, /api/v0/completions, inference",
    "POST, /api/v0/embeddings, embeddings",
  })
  void todaysServersClientRoutesAreClassifiedAndCheckTheirModel(
      String method, String path, String scope) {
    // why: real clients of these servers got 404; each new route names its model and it is checked
    RouteTable.Match m = TABLE.match(method, path);
    assertThat(m.route()).as(method + " " + path).isNotNull();
    assertThat(m.route().operation().scope).isEqualTo(scope);
    if (method.equals("POST")) {
      assertThat(m.route().modelFields()).as(path).containsExactly("model");
    }
  }

  @ParameterizedTest(name = "{0} {1} stays unknown")
  @CsvSource({
    // why: these list or replay other callers' data
    "GET, /v1/streams",
    "GET, /v1/stream/abc",
    "GET, /v1/responses/resp_123",
    "DELETE, /v1/responses/resp_123",
    // why: admin and state-changing routes of shared/reference/llm-endpoints.md
    "POST, /models",
    "DELETE, /models",
    "POST, /models/load",
    "POST, /models/unload",
    "POST, /tools",
    "POST, /cors-proxy",
    "POST, /predict",
    "POST, /sleep",
    "POST, /wake_up",
    "GET, /is_sleeping",
    "GET, /server_info",
    "POST, /reset_prefix_cache",
    "POST, /collective_rpc",
    "POST, /start_profile",
    "POST, /v1/load_lora_adapter",
    "POST, /v1/unload_lora_adapter",
    "POST, /pause",
    "POST, /update_weights",
    "POST, /abort_requests",
    "POST, /invocations",
    "POST, /models/apply",
    "POST, /backend/load",
    "POST, /backend/shutdown",
    "GET, /system",
    "GET, /api/traces",
    "POST, /api/p2p/token",
    "POST, /api/v1/models/load",
    "POST, /api/v1/models/unload",
    "POST, /api/v1/models/download",
    "POST, /api/v1/chat",
    "POST, /api/v0/models/load",
  })
  void routesThatExposeOthersOrAdministerStayUnknown(String method, String path) {
    RouteTable.Match m = TABLE.match(method, path);
    assertThat(m.route()).as(method + " " + path).isNull();
    assertThat(m.pathKnown() && m.allowedMethods().contains(method)).isFalse();
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
    // why: the default key must not be able to push, pull, delete, read system prompts or use the
    // owner's account
    assertThat(Operation.DEFAULT_SCOPES)
        .containsExactlyInAnyOrder(
            Operation.INFERENCE, Operation.EMBEDDINGS, Operation.MODELS_READ);
  }
}

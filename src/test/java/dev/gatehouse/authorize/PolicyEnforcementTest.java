package dev.gatehouse.authorize;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.AccessLogCapture;
import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a key may do, shown end to end: scopes, model allowlists, filtered inventories, headers. */
class PolicyEnforcementTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static GatewayFixture gw;
  static String key;
  static String qwenKey;
  static AccessLogCapture log;

  @BeforeAll
  static void start() throws Exception {
    gw =
        GatewayFixture.start(
            Map.of(
                "policy.allowed_registries",
                "registry.example:5000",
                "policy.allow_cloud_models",
                "false"));
    key = gw.newKey();
    qwenKey = gw.newKey(List.of("qwen*"), List.of());
    log = new AccessLogCapture();
  }

  @AfterAll
  static void stop() {
    log.close();
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  private static List<String> names(String body, String array, String field) throws Exception {
    List<String> out = new ArrayList<>();
    for (JsonNode n : JSON.readTree(body).get(array)) {
      out.add(n.get(field).asText());
    }
    return out;
  }

  @Test
  void inventoriesListOnlyTheModelsAKeyMayUse() throws Exception {
    // why: a limited key must not even learn which other models exist
    assertThat(names(gw.get("/api/tags", qwenKey).body(), "models", "name"))
        .containsExactly("qwen2.5:7b");
    assertThat(names(gw.get("/api/ps", qwenKey).body(), "models", "model"))
        .containsExactly("qwen2.5:7b");
    assertThat(names(gw.get("/v1/models", qwenKey).body(), "data", "id"))
        .containsExactly("qwen2.5:7b");
    assertThat(names(gw.get("/api/tags", key).body(), "models", "name"))
        .containsExactlyElementsOf(FakeUpstream.MODELS);
  }

  @Test
  void modelAllowlistAppliesInBothNamespacesAndToModelPaths() throws Exception {
    // why: the allowlist is enforced on the model field of every inference and embedding request
    assertThat(
            gw.post("/api/chat", qwenKey, "{\"model\":\"qwen2.5:7b\",\"stream\":false}")
                .statusCode())
        .isEqualTo(200);
    assertThat(
            gw.post("/v1/embeddings", qwenKey, "{\"model\":\"QWEN2.5:7b\",\"input\":\"x\"}")
                .statusCode())
        .isEqualTo(200);
    assertThat(gw.get("/v1/models/qwen2.5:7b", qwenKey).statusCode()).isEqualTo(200);
    int relayed = gw.upstream.requests().size();
    HttpResponse<String> chat = gw.post("/api/chat", qwenKey, "{\"model\":\"llama3.2:3b\"}");
    HttpResponse<String> openai =
        gw.post("/v1/chat/completions", qwenKey, "{\"model\":\"llama3.2:3b\",\"messages\":[]}");
    HttpResponse<String> embed =
        gw.post("/api/embed", qwenKey, "{\"model\":\"llama3.2:3b\",\"input\":\"x\"}");
    HttpResponse<String> modelPath = gw.get("/v1/models/llama3.2%3A3b", qwenKey);
    assertThat(
            List.of(
                chat.statusCode(), openai.statusCode(), embed.statusCode(), modelPath.statusCode()))
        .containsOnly(403);
    assertThat(JSON.readTree(chat.body()).get("code").asText()).isEqualTo("policy.model_denied");
    assertThat(JSON.readTree(openai.body()).at("/error/code").asText())
        .isEqualTo("policy.model_denied");
    assertThat(JSON.readTree(openai.body()).at("/error/type").asText())
        .isEqualTo("permission_error");
    assertThat(gw.upstream.requests()).hasSize(relayed);
  }

  @Test
  void transcriptionModelIsCheckedInsideTheMultipartForm() throws Exception {
    // why: /v1/audio/transcriptions names its model in a form field, not JSON
    String boundary = "gh-boundary";
    String denied = form(boundary, "whisper-1");
    String allowed = form(boundary, "qwen-audio");
    HttpClient c = HttpClient.newHttpClient();
    for (String[] tc : new String[][] {{denied, "403"}, {allowed, "200"}}) {
      HttpResponse<String> r =
          c.send(
              HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/v1/audio/transcriptions"))
                  .header("Authorization", "Bearer " + qwenKey)
                  .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                  .POST(HttpRequest.BodyPublishers.ofString(tc[0]))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(Integer.parseInt(tc[1]));
    }
    assertThat(gw.upstream.requests()).hasSize(1);
    assertThat(gw.upstream.requests().get(0).body()).contains("qwen-audio");
  }

  private static String form(String boundary, String model) {
    return "--"
        + boundary
        + "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n"
        + model
        + "\r\n"
        + "--"
        + boundary
        + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF....\r\n"
        + "--"
        + boundary
        + "--\r\n";
  }

  @Test
  void explicitScopesOpenTheirEndpointsAndNothingElse() throws Exception {
    // why: models.inspect reveals system prompts, so it must be granted explicitly
    String inspector = gw.newKey(List.of(), List.of("models.inspect"));
    assertThat(gw.post("/api/show", inspector, "{\"model\":\"llama3.2:3b\"}").statusCode())
        .isEqualTo(200);
    assertThat(gw.post("/api/show", key, "{\"model\":\"llama3.2:3b\"}").statusCode())
        .isEqualTo(403);
    assertThat(gw.post("/api/chat", inspector, "{\"model\":\"llama3.2:3b\"}").statusCode())
        .isEqualTo(403);
    assertThat(gw.upstream.requests())
        .extracting(FakeUpstream.Recorded::uri)
        .containsExactly("/api/show");
  }

  @Test
  void managementMayNameOnlyAllowedRegistriesAndNeverCloudModels() throws Exception {
    // why: a registry host in pull/push/create is how models are exfiltrated or poisoned
    String admin = gw.newKey(List.of(), List.of("models.manage"));
    assertThat(gw.post("/api/pull", admin, "{\"model\":\"llama3.2:3b\"}").statusCode())
        .isEqualTo(200);
    assertThat(
            gw.post("/api/pull", admin, "{\"model\":\"registry.example:5000/ns/m:1\"}")
                .statusCode())
        .isEqualTo(200);
    HttpResponse<String> evil = gw.post("/api/push", admin, "{\"model\":\"evil.example/ns/m\"}");
    assertThat(evil.statusCode()).isEqualTo(403);
    assertThat(evil.body()).contains("policy.registry_denied");
    assertThat(gw.post("/api/chat", key, "{\"model\":\"gpt-oss:120b-cloud\"}").body())
        .contains("policy.cloud_model_denied");
    assertThat(gw.upstream.requests())
        .extracting(FakeUpstream.Recorded::uri)
        .containsExactly("/api/pull", "/api/pull");
  }

  @Test
  void credentialsNeverTravelUpstreamAndUpstreamBannersNeverComeBack() throws Exception {
    // why: the model server must not see gateway keys; scanners must not see the model server
    HttpResponse<String> r = gw.get("/api/version", key);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("server")).isEmpty();
    assertThat(r.headers().firstValue("x-ollama-version")).isEmpty();
    assertThat(r.headers().firstValue("x-request-id")).isPresent();
    FakeUpstream.Recorded seen = gw.upstream.requests().get(0);
    assertThat(seen.headers().get("authorization")).isNull();
    assertThat(seen.headers().get("x-api-key")).isNull();
    assertThat(seen.headers().get("host")).isEqualTo("127.0.0.1:" + gw.upstream.port());
    assertThat(seen.headers().get("x-request-id"))
        .isEqualTo(r.headers().firstValue("x-request-id").orElseThrow());
  }

  @Test
  void keysWorkAsBearerAsXApiKeyAndAsBasicPassword() throws Exception {
    // why: tools that cannot set a Bearer header still need a way in
    HttpClient c = HttpClient.newHttpClient();
    String basic =
        Base64.getEncoder().encodeToString(("user:" + key).getBytes(StandardCharsets.UTF_8));
    for (String[] h :
        new String[][] {
          {"x-api-key", key},
          {"Authorization", "Basic " + basic},
          {"Authorization", "bearer " + key}
        }) {
      HttpResponse<String> r =
          c.send(
              HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/api/tags"))
                  .header(h[0], h[1])
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(h[0]).isEqualTo(200);
    }
  }

  @Test
  void unauthenticatedRootIsNotABannerAndErrorsCarryALoggedRequestId() throws Exception {
    // why: "Ollama is running" is what scanners look for; the request id ties a report to the log
    HttpResponse<String> root = gw.get("/", null);
    assertThat(root.statusCode()).isEqualTo(401);
    assertThat(root.body()).doesNotContain("Ollama");
    String id = JSON.readTree(root.body()).get("request_id").asText();
    assertThat(root.headers().firstValue("x-request-id")).contains(id);
    HttpResponse<String> v1 = gw.get("/v1/models", "gk_aaaaaaaaaaaa_" + "A".repeat(40));
    JsonNode err = JSON.readTree(v1.body()).get("error");
    assertThat(err.get("code").asText()).isEqualTo("auth.key_invalid");
    assertThat(err.get("type").asText()).isEqualTo("invalid_request_error");
    assertThat(err.has("message")).isTrue();
    assertThat(log.await("id=" + id, "reason=auth.key_invalid")).isNotNull();
    assertThat(log.lines()).noneMatch(l -> l.contains(key));
    assertThat(gw.upstream.requests()).isEmpty();
  }

  @Test
  void readinessReflectsTheUpstreamAndLivenessRevealsNothing() throws Exception {
    // why: orchestrators need both, without credentials, and neither may leak the backend
    assertThat(gw.get("/healthz", null).body()).isEqualTo("{\"status\":\"ok\"}");
    assertThat(gw.get("/readyz", null).statusCode()).isEqualTo(200);
  }
}

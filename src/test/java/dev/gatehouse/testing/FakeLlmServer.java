package dev.gatehouse.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for one model server product (Ollama, llama.cpp, vLLM, LM Studio, LocalAI) that
 * imitates the responses doctor and scan identify it by: banners, {@code Server} headers, version
 * endpoints, error shapes, and how each treats a wrong method, an unknown model and a malformed
 * body. Optionally behind an API key the way each product (or an auth proxy) applies one. It
 * records every request, and counts the requests that would have changed state or run a model on
 * the real product, so tests can prove that a scan sent none.
 */
public final class FakeLlmServer implements AutoCloseable {

  /** Which product to imitate. */
  public enum Kind {
    OLLAMA,
    LLAMA_CPP,
    VLLM,
    LM_STUDIO,
    LOCALAI
  }

  /** One request as received. */
  public record Recorded(String method, String path, Map<String, String> headers, String body) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> MODELS = List.of("llama3.2:3b", "qwen2.5:7b");

  private final Kind kind;
  private final String version;
  private final String apiKey;
  private final boolean corsWildcard;
  private final boolean wrongMethodIs404;
  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;
  private final List<Recorded> requests = new CopyOnWriteArrayList<>();
  private final List<String> stateChanges = new CopyOnWriteArrayList<>();

  private FakeLlmServer(
      Kind kind,
      String version,
      String host,
      String apiKey,
      boolean corsWildcard,
      boolean wrongMethodIs404) {
    this.kind = kind;
    this.version = version;
    this.apiKey = apiKey;
    this.corsWildcard = corsWildcard;
    this.wrongMethodIs404 = wrongMethodIs404;
    this.server = vertx.createHttpServer().requestHandler(this::handle);
    try {
      server.listen(0, host).await();
    } catch (RuntimeException e) {
      vertx.close().await();
      throw e;
    }
  }

  /** Starts a fake of this product on a free port of {@code host}. */
  public static FakeLlmServer start(
      Kind kind, String version, String host, String apiKey, boolean corsWildcard) {
    return new FakeLlmServer(kind, version, host, apiKey, corsWildcard, false);
  }

  /**
   * An Ollama whose router answers a wrong method with 404, as gin does without
   * HandleMethodNotAllowed: the method probes are inconclusive and the fallback probe runs.
   */
  public static FakeLlmServer ollamaWithout405(String version) {
    return new FakeLlmServer(Kind.OLLAMA, version, "127.0.0.1", null, false, true);
  }

  /** An Ollama with no authentication on 127.0.0.1. */
  public static FakeLlmServer ollama(String version) {
    return start(Kind.OLLAMA, version, "127.0.0.1", null, false);
  }

  public int port() {
    return server.actualPort();
  }

  public String url() {
    return "http://127.0.0.1:" + port();
  }

  public List<Recorded> requests() {
    return List.copyOf(requests);
  }

  /** Requests that would have changed state or run a model on the real product. */
  public List<String> stateChanges() {
    return List.copyOf(stateChanges);
  }

  private void handle(HttpServerRequest req) {
    req.body()
        .onSuccess(
            buf -> {
              Map<String, String> headers = new LinkedHashMap<>();
              req.headers().forEach(e -> headers.put(e.getKey().toLowerCase(), e.getValue()));
              String body = buf.toString();
              requests.add(new Recorded(req.method().name(), req.path(), headers, body));
              HttpServerResponse resp = req.response();
              if (corsWildcard && headers.containsKey("origin")) {
                resp.putHeader("Access-Control-Allow-Origin", "*");
              }
              switch (kind) {
                case OLLAMA -> ollama(req, resp, body);
                case LLAMA_CPP -> llamaCpp(req, resp, body);
                case VLLM -> vllm(req, resp, body);
                case LM_STUDIO -> lmStudio(req, resp, body);
                case LOCALAI -> localAi(req, resp, body);
              }
            });
  }

  private boolean authorized(HttpServerRequest req) {
    return apiKey == null || ("Bearer " + apiKey).equals(req.getHeader("Authorization"));
  }

  // ---- Ollama: gin router with HandleMethodNotAllowed, no authentication of its own ----

  private static final Map<String, Set<String>> OLLAMA_ROUTES =
      Map.ofEntries(
          Map.entry("/", Set.of("GET", "HEAD")),
          Map.entry("/api/version", Set.of("GET", "HEAD")),
          Map.entry("/api/tags", Set.of("GET", "HEAD")),
          Map.entry("/api/ps", Set.of("GET")),
          Map.entry("/api/show", Set.of("POST")),
          Map.entry("/api/generate", Set.of("POST")),
          Map.entry("/api/chat", Set.of("POST")),
          Map.entry("/api/embed", Set.of("POST")),
          Map.entry("/api/pull", Set.of("POST")),
          Map.entry("/api/push", Set.of("POST")),
          Map.entry("/api/create", Set.of("POST")),
          Map.entry("/api/copy", Set.of("POST")),
          Map.entry("/api/delete", Set.of("DELETE")),
          Map.entry("/api/me", Set.of("POST")),
          Map.entry("/api/signout", Set.of("POST")),
          Map.entry("/api/experimental/web_search", Set.of("POST")),
          Map.entry("/v1/models", Set.of("GET")),
          Map.entry("/v1/chat/completions", Set.of("POST")),
          Map.entry("/v1/embeddings", Set.of("POST")));

  private void ollama(HttpServerRequest req, HttpServerResponse resp, String body) {
    if (!authorized(req)) {
      // An auth proxy (nginx auth_request, Caddy basicauth) in front of Ollama.
      resp.setStatusCode(401).putHeader("WWW-Authenticate", "Bearer").end("Unauthorized");
      return;
    }
    String path = req.path();
    String method = req.method().name();
    Set<String> methods =
        path.startsWith("/api/blobs/") ? Set.of("HEAD", "POST") : OLLAMA_ROUTES.get(path);
    if (methods == null) {
      text(resp, 404, "404 page not found");
      return;
    }
    if (!methods.contains(method)) {
      text(
          resp,
          wrongMethodIs404 ? 404 : 405,
          wrongMethodIs404 ? "404 page not found" : "405 method not allowed");
      return;
    }
    JsonNode json = parse(body);
    switch (path) {
      case "/" -> text(resp, 200, "Ollama is running");
      case "/api/version" -> json(resp, 200, "{\"version\":\"" + version + "\"}");
      case "/api/tags", "/api/ps" ->
          json(
              resp,
              200,
              "{\"models\":[{\"name\":\"llama3.2:3b\",\"model\":\"llama3.2:3b\",\"size\":2019393189,"
                  + "\"digest\":\"sha256:a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72\"}]}");
      case "/v1/models" ->
          json(
              resp,
              200,
              "{\"object\":\"list\",\"data\":[{\"id\":\"llama3.2:3b\",\"object\":\"model\",\"created\":1730000000,\"owned_by\":\"library\"}]}");
      case "/api/show" -> {
        String model = stringField(json, "model");
        if (json == null || (json.has("model") && model == null)) {
          json(
              resp,
              400,
              "{\"error\":\"json: cannot unmarshal into Go struct field ShowRequest.model of type string\"}");
        } else {
          json(resp, 404, "{\"error\":\"model '" + model + "' not found\"}");
        }
      }
      case "/api/generate", "/api/chat", "/api/embed" -> {
        String field =
            path.equals("/api/generate")
                ? "prompt"
                : path.equals("/api/chat") ? "messages" : "input";
        JsonNode v = json == null ? null : json.get(field);
        boolean typeOk =
            v == null
                || (field.equals("messages")
                    ? v.isArray()
                    : v.isTextual() || (field.equals("input") && v.isArray()));
        String model = stringField(json, "model");
        if (json == null || !typeOk || (json.has("model") && model == null)) {
          json(
              resp,
              400,
              "{\"error\":\"json: cannot unmarshal object into Go struct field of type string\"}");
        } else if (!MODELS.contains(model)) {
          json(resp, 404, "{\"error\":\"model '" + model + "' not found\"}");
        } else {
          stateChanges.add(method + " " + path + " ran model " + model);
          json(resp, 200, "{\"model\":\"" + model + "\",\"response\":\"hi\",\"done\":true}");
        }
      }
      case "/v1/chat/completions", "/v1/embeddings" -> {
        String field = path.endsWith("completions") ? "messages" : "input";
        JsonNode v = json == null ? null : json.get(field);
        boolean typeOk = v != null && (v.isArray() || (field.equals("input") && v.isTextual()));
        String model = stringField(json, "model");
        if (json == null || !typeOk || model == null) {
          json(
              resp,
              400,
              "{\"error\":{\"message\":\"invalid request\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
        } else if (!MODELS.contains(model)) {
          json(
              resp,
              404,
              "{\"error\":{\"message\":\"model \\\""
                  + model
                  + "\\\" not found, try pulling it first\",\"type\":\"api_error\",\"param\":null,\"code\":null}}");
        } else {
          stateChanges.add(method + " " + path + " ran model " + model);
          json(resp, 200, "{\"object\":\"chat.completion\",\"model\":\"" + model + "\"}");
        }
      }
      default -> manage(resp, method, path, json);
    }
  }

  /** Ollama's management, account and cloud routes: a well-formed name would act on it. */
  private void manage(HttpServerResponse resp, String method, String path, JsonNode json) {
    List<String> fields =
        path.equals("/api/copy") ? List.of("source", "destination") : List.of("model", "name");
    if (path.startsWith("/api/blobs/")
        || path.equals("/api/me")
        || path.equals("/api/signout")
        || path.startsWith("/api/experimental/")) {
      stateChanges.add(method + " " + path);
      json(resp, 200, "{}");
      return;
    }
    if (json == null) {
      json(resp, 400, "{\"error\":\"missing request body\"}");
      return;
    }
    for (String f : fields) {
      if (json.has(f) && !json.get(f).isTextual()) {
        json(
            resp,
            400,
            "{\"error\":\"json: cannot unmarshal number into Go struct field of type string\"}");
        return;
      }
    }
    String name = stringField(json, fields.get(0));
    if (name == null || name.isBlank()) {
      json(resp, 400, "{\"error\":\"invalid model name\"}");
      return;
    }
    stateChanges.add(method + " " + path + " " + name);
    json(resp, 200, "{\"status\":\"success\"}");
  }

  // ---- llama.cpp's llama-server: Server header, /props, --api-key leaves /health and /v1/models
  // public ----

  private void llamaCpp(HttpServerRequest req, HttpServerResponse resp, String body) {
    resp.putHeader("Server", "llama.cpp");
    String path = req.path();
    Set<String> publicPaths = Set.of("/", "/health", "/v1/models", "/models");
    if (!publicPaths.contains(path) && !authorized(req)) {
      json(
          resp,
          401,
          "{\"error\":{\"code\":401,\"message\":\"Invalid API Key\",\"type\":\"authentication_error\"}}");
      return;
    }
    JsonNode json = parse(body);
    String method = req.method().name();
    switch (method + " " + path) {
      case "GET /" ->
          resp.putHeader("Content-Type", "text/html")
              .end("<!doctype html><title>llama.cpp - chat</title>");
      case "GET /health" -> json(resp, 200, "{\"status\":\"ok\"}");
      case "GET /props" ->
          json(
              resp,
              200,
              "{\"default_generation_settings\":{\"n_ctx\":4096},\"total_slots\":1,"
                  + "\"chat_template\":\"{{ messages }}\",\"build_info\":\""
                  + version
                  + "-1a2b3c4d\"}");
      case "GET /slots" ->
          json(resp, 200, "[{\"id\":0,\"prompt\":\"You are a helpful assistant\"}]");
      case "GET /metrics" ->
          json(
              resp,
              501,
              "{\"error\":{\"code\":501,\"message\":\"This server does not support metrics endpoint.\",\"type\":\"not_supported_error\"}}");
      case "GET /v1/models", "GET /models" ->
          json(
              resp,
              200,
              "{\"object\":\"list\",\"data\":[{\"id\":\"model.gguf\",\"object\":\"model\",\"owned_by\":\"llamacpp\"}]}");
      case "POST /v1/chat/completions",
          "POST /completion",
          "POST /v1/embeddings",
          "POST /embedding" -> {
        // llama-server ignores "model": it serves the one it loaded. Only the body's shape stops
        // it.
        String field =
            path.contains("chat") ? "messages" : path.contains("embed") ? "input" : "prompt";
        JsonNode v = json == null ? null : json.get(field);
        boolean ok = v != null && (v.isArray() || (!field.equals("messages") && v.isTextual()));
        if (!ok) {
          json(
              resp,
              400,
              "{\"error\":{\"code\":400,\"message\":\"'"
                  + field
                  + "' must be provided and valid\",\"type\":\"invalid_request_error\"}}");
        } else {
          stateChanges.add(method + " " + path + " ran the loaded model");
          json(resp, 200, "{\"object\":\"chat.completion\"}");
        }
      }
      case "POST /props", "POST /lora-adapters" -> {
        stateChanges.add(method + " " + path);
        json(resp, 200, "{\"success\":true}");
      }
      default ->
          json(
              resp,
              404,
              "{\"error\":{\"code\":404,\"message\":\"File Not Found\",\"type\":\"not_found_error\"}}");
    }
  }

  // ---- vLLM: FastAPI under uvicorn; --api-key covers only /v1 ----

  private void vllm(HttpServerRequest req, HttpServerResponse resp, String body) {
    resp.putHeader("Server", "uvicorn");
    String path = req.path();
    if (path.startsWith("/v1/") && !authorized(req)) {
      json(resp, 401, "{\"error\":\"Unauthorized\"}");
      return;
    }
    JsonNode json = parse(body);
    String method = req.method().name();
    switch (method + " " + path) {
      case "GET /version" -> json(resp, 200, "{\"version\":\"" + version + "\"}");
      case "GET /health" -> resp.setStatusCode(200).end();
      case "GET /metrics" ->
          resp.putHeader("Content-Type", "text/plain")
              .end("vllm:num_requests_running{model_name=\"m\"} 0.0\n");
      case "GET /v1/models" ->
          json(
              resp,
              200,
              "{\"object\":\"list\",\"data\":[{\"id\":\"Qwen/Qwen2.5-7B-Instruct\",\"object\":\"model\",\"owned_by\":\"vllm\"}]}");
      case "POST /v1/chat/completions", "POST /v1/embeddings" -> {
        String field = path.contains("chat") ? "messages" : "input";
        JsonNode v = json == null ? null : json.get(field);
        String model = stringField(json, "model");
        if (v == null || !(v.isArray() || (field.equals("input") && v.isTextual()))) {
          json(
              resp,
              400,
              "{\"object\":\"error\",\"message\":\"[{'type': 'list_type', 'loc': ('body', '"
                  + field
                  + "')}]\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}");
        } else if (!"Qwen/Qwen2.5-7B-Instruct".equals(model)) {
          json(
              resp,
              404,
              "{\"object\":\"error\",\"message\":\"The model `"
                  + model
                  + "` does not exist.\",\"type\":\"NotFoundError\",\"param\":null,\"code\":404}");
        } else {
          stateChanges.add(method + " " + path + " ran model " + model);
          json(resp, 200, "{\"object\":\"chat.completion\"}");
        }
      }
      default -> {
        boolean known =
            Set.of(
                    "/version",
                    "/health",
                    "/metrics",
                    "/v1/models",
                    "/v1/chat/completions",
                    "/v1/embeddings")
                .contains(path);
        json(
            resp,
            known ? 405 : 404,
            known ? "{\"detail\":\"Method Not Allowed\"}" : "{\"detail\":\"Not Found\"}");
      }
    }
  }

  // ---- LM Studio: Express; answers unknown paths and methods with 200 and an error ----

  private void lmStudio(HttpServerRequest req, HttpServerResponse resp, String body) {
    resp.putHeader("X-Powered-By", "Express");
    if (!authorized(req)) {
      json(resp, 401, "{\"error\":\"Invalid or missing API token\"}");
      return;
    }
    JsonNode json = parse(body);
    String method = req.method().name();
    String path = req.path();
    switch (method + " " + path) {
      case "GET /api/v0/models" ->
          json(
              resp,
              200,
              "{\"object\":\"list\",\"data\":[{\"id\":\"qwen2.5-7b-instruct\",\"object\":\"model\",\"type\":\"llm\","
                  + "\"publisher\":\"lmstudio-community\",\"arch\":\"qwen2\",\"compatibility_type\":\"gguf\",\"quantization\":\"Q4_K_M\",\"state\":\"not-loaded\"}]}");
      case "GET /v1/models" ->
          json(
              resp,
              200,
              "{\"object\":\"list\",\"data\":[{\"id\":\"qwen2.5-7b-instruct\",\"object\":\"model\",\"owned_by\":\"organization_owner\"}]}");
      case "POST /v1/chat/completions", "POST /v1/embeddings" -> {
        String field = path.contains("chat") ? "messages" : "input";
        JsonNode v = json == null ? null : json.get(field);
        if (v == null || !(v.isArray() || (field.equals("input") && v.isTextual()))) {
          json(resp, 400, "{\"error\":\"'" + field + "' field is required and must be an array\"}");
        } else {
          stateChanges.add(method + " " + path);
          json(resp, 200, "{}");
        }
      }
      default ->
          json(
              resp,
              200,
              "{\"error\":\"Unexpected endpoint or method. (" + method + " " + path + ")\"}");
    }
  }

  // ---- LocalAI: echo router, web UI at /, /version with a v prefix, gallery installs at
  // /models/apply ----

  private void localAi(HttpServerRequest req, HttpServerResponse resp, String body) {
    if (!authorized(req)) {
      json(
          resp,
          401,
          "{\"error\":{\"code\":401,\"message\":\"An authentication key is required\",\"type\":\"invalid_request_error\"}}");
      return;
    }
    JsonNode json = parse(body);
    String method = req.method().name();
    String path = req.path();
    switch (method + " " + path) {
      case "GET /" ->
          resp.putHeader("Content-Type", "text/html")
              .end("<!doctype html><title>LocalAI API - " + version + "</title>");
      case "GET /version" -> json(resp, 200, "{\"version\":\"" + version + " (a1b2c3d)\"}");
      case "GET /v1/models" ->
          json(
              resp,
              200,
              "{\"object\":\"list\",\"data\":[{\"id\":\"phi-2\",\"object\":\"model\"}]}");
      case "POST /models/apply" -> {
        stateChanges.add(method + " " + path);
        json(resp, 200, "{\"uuid\":\"x\"}");
      }
      case "POST /v1/chat/completions", "POST /v1/embeddings" -> {
        String field = path.contains("chat") ? "messages" : "input";
        JsonNode v = json == null ? null : json.get(field);
        if (v == null || !(v.isArray() || (field.equals("input") && v.isTextual()))) {
          json(resp, 400, "{\"error\":{\"code\":400,\"message\":\"bad request\",\"type\":\"\"}}");
        } else {
          stateChanges.add(method + " " + path);
          json(resp, 200, "{}");
        }
      }
      default -> {
        boolean known =
            path.equals("/models/apply") || path.equals("/version") || path.equals("/v1/models");
        json(
            resp,
            known ? 405 : 404,
            known ? "{\"message\":\"Method Not Allowed\"}" : "{\"message\":\"Not Found\"}");
      }
    }
  }

  private static JsonNode parse(String body) {
    if (body == null || body.isBlank()) {
      return null;
    }
    try {
      JsonNode n = JSON.readTree(body);
      return n != null && n.isObject() ? n : null;
    } catch (java.io.IOException e) {
      return null;
    }
  }

  private static String stringField(JsonNode json, String field) {
    return json != null && json.path(field).isTextual() ? json.get(field).asText() : null;
  }

  private static void text(HttpServerResponse resp, int status, String body) {
    resp.setStatusCode(status).putHeader("Content-Type", "text/plain; charset=utf-8").end(body);
  }

  private static void json(HttpServerResponse resp, int status, String body) {
    resp.setStatusCode(status)
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .end(body);
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}

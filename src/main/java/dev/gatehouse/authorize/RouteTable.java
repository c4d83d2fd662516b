package dev.gatehouse.authorize;

import static dev.gatehouse.exchange.Operation.ACCOUNT;
import static dev.gatehouse.exchange.Operation.CLOUD;
import static dev.gatehouse.exchange.Operation.EMBEDDINGS;
import static dev.gatehouse.exchange.Operation.INFERENCE;
import static dev.gatehouse.exchange.Operation.MODELS_INSPECT;
import static dev.gatehouse.exchange.Operation.MODELS_MANAGE;
import static dev.gatehouse.exchange.Operation.MODELS_READ;

import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Route;
import dev.gatehouse.exchange.Route.Body;
import dev.gatehouse.exchange.Route.Response;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Every endpoint Gatehouse lets through, classified into an {@link Operation}: Ollama's native API,
 * the OpenAI-compatible API, and the extra routes of llama.cpp's server, vLLM, LocalAI and LM
 * Studio (see {@code shared/reference/llm-endpoints.md}). Deny by default: a path not listed here
 * is 404 and never reaches the upstream. Matching is exact and case-sensitive on the normalised
 * path.
 */
public final class RouteTable {

  private static final List<String> MODEL = List.of("model");
  private static final List<String> NAME = List.of("model", "name");
  private static final List<String> NONE = List.of();

  /** The result of a lookup: a route, or why there is none. */
  public record Match(@Nullable Route route, boolean pathKnown, Set<String> allowedMethods) {}

  private final Map<String, List<Route>> exact = new HashMap<>();
  private final List<Route> prefixed = new ArrayList<>();

  /** The standard table. */
  public static RouteTable standard() {
    RouteTable t = new RouteTable();
    // Ollama native API
    t.add("GET,HEAD", "/", MODELS_READ, Body.NONE, NONE);
    t.add("GET,HEAD", "/api/version", MODELS_READ, Body.NONE, NONE);
    t.add("GET", "/api/status", ACCOUNT, Body.NONE, NONE);
    t.add("GET,HEAD", "/api/tags", MODELS_READ, Body.NONE, NONE, Response.FILTER_OLLAMA_MODELS);
    t.add("GET", "/api/ps", MODELS_READ, Body.NONE, NONE, Response.FILTER_OLLAMA_MODELS);
    t.add("POST", "/api/show", MODELS_INSPECT, Body.JSON, NAME);
    t.add("POST", "/api/generate", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/api/chat", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/api/embed", EMBEDDINGS, Body.JSON, MODEL);
    t.add("POST", "/api/embeddings", EMBEDDINGS, Body.JSON, MODEL);
    t.add("POST", "/api/pull", MODELS_MANAGE, Body.JSON, NAME);
    t.add("POST", "/api/push", MODELS_MANAGE, Body.JSON, NAME);
    t.add("POST", "/api/create", MODELS_MANAGE, Body.JSON, List.of("model", "name", "from"));
    t.add("POST", "/api/copy", MODELS_MANAGE, Body.JSON, List.of("source", "destination"));
    t.add("DELETE", "/api/delete", MODELS_MANAGE, Body.JSON, NAME);
    t.param("HEAD,POST", "/api/blobs/", MODELS_MANAGE, Body.STREAM, false);
    t.add("POST", "/api/signout", ACCOUNT, Body.JSON_OPTIONAL, NONE);
    t.add("POST", "/api/me", ACCOUNT, Body.JSON_OPTIONAL, NONE);
    t.param("DELETE", "/api/user/keys/", ACCOUNT, Body.NONE, false);
    t.add("POST", "/api/experimental/web_search", CLOUD, Body.JSON, NONE);
    t.add("POST", "/api/experimental/web_fetch", CLOUD, Body.JSON, NONE);
    t.add("GET", "/api/experimental/model-recommendations", CLOUD, Body.NONE, NONE);

    // OpenAI-compatible API (Ollama, llama.cpp, vLLM, LM Studio, LocalAI)
    t.add("GET", "/v1/models", MODELS_READ, Body.NONE, NONE, Response.FILTER_OPENAI_MODELS);
    t.param("GET", "/v1/models/", MODELS_READ, Body.NONE, true);
    t.add("POST", "/v1/chat/completions", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/v1/completions", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/v1/responses", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/v1/messages", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/v1/embeddings", EMBEDDINGS, Body.JSON, MODEL);
    t.add("POST", "/v1/audio/transcriptions", INFERENCE, Body.MULTIPART, MODEL);
    t.add("POST", "/v1/rerank", EMBEDDINGS, Body.JSON, MODEL);
    t.add("POST", "/v1/score", EMBEDDINGS, Body.JSON, MODEL);

    // llama.cpp server and vLLM extras. /props and /slots can reveal prompts, so reading them is
    // inspection; writing them changes the running server, so that is management.
    t.add("GET", "/health", MODELS_READ, Body.NONE, NONE);
    t.add("GET", "/version", MODELS_READ, Body.NONE, NONE);
    t.add("GET", "/props", MODELS_INSPECT, Body.NONE, NONE);
    t.add("POST", "/props", MODELS_MANAGE, Body.JSON, NONE);
    t.add("GET", "/slots", MODELS_INSPECT, Body.NONE, NONE);
    t.param("POST", "/slots/", MODELS_MANAGE, Body.JSON_OPTIONAL, false);
    t.add("GET", "/metrics", MODELS_INSPECT, Body.NONE, NONE);
    t.add("GET", "/lora-adapters", MODELS_INSPECT, Body.NONE, NONE);
    t.add("POST", "/lora-adapters", MODELS_MANAGE, Body.JSON, NONE);
    for (String p :
        List.of(
            "/completion",
            "/completions",
            "/infill",
            "/tokenize",
            "/detokenize",
            "/apply-template")) {
      t.add("POST", p, INFERENCE, Body.JSON, MODEL);
    }
    for (String p : List.of("/embedding", "/embeddings", "/pooling", "/rerank", "/score")) {
      t.add("POST", p, EMBEDDINGS, Body.JSON, MODEL);
    }

    // Today's client routes of the other servers. Each names its model in "model" (a form field
    // on the multipart audio routes), checked like every other model field. Routes that list or
    // replay other callers' data (llama.cpp /v1/streams and /v1/stream/:id, vLLM
    // GET /v1/responses/{id}) and every admin route (router-mode /models*, LocalAI /models/*,
    // /backend*, LM Studio /api/v1/models/load|unload|download, vLLM /sleep, ...) stay unknown.
    // llama.cpp: token counting for the Anthropic and OpenAI shapes, reranking, health
    t.add("POST", "/v1/messages/count_tokens", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/v1/responses/input_tokens", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/v1/chat/completions/input_tokens", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/reranking", EMBEDDINGS, Body.JSON, MODEL);
    t.add("GET", "/v1/health", MODELS_READ, Body.NONE, NONE);
    // vLLM: translation, classification and the Cohere-style v2 rerank and embed
    t.add("POST", "/v1/audio/translations", INFERENCE, Body.MULTIPART, MODEL);
    t.add("POST", "/classify", EMBEDDINGS, Body.JSON, MODEL);
    t.add("POST", "/v2/rerank", EMBEDDINGS, Body.JSON, MODEL);
    t.add("POST", "/v2/embed", EMBEDDINGS, Body.JSON, MODEL);
    // LocalAI: speech, images, tokenizer
    t.add("POST", "/v1/audio/speech", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/v1/images/generations", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/v1/tokenize", INFERENCE, Body.JSON, MODEL);
    // LM Studio's REST API v0 (its v1 load, unload and download routes stay unknown)
    t.add("GET", "/api/v0/models", MODELS_READ, Body.NONE, NONE, Response.FILTER_OPENAI_MODELS);
    t.param("GET", "/api/v0/models/", MODELS_READ, Body.NONE, true);
    t.add("POST", "/api/v0/chat/completions", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/api/v0/completions", INFERENCE, Body.JSON, MODEL);
    t.add("POST", "/api/v0/embeddings", EMBEDDINGS, Body.JSON, MODEL);
    return t;
  }

  private void add(String methods, String path, Operation op, Body body, List<String> models) {
    add(methods, path, op, body, models, Response.RELAY);
  }

  private void add(
      String methods,
      String path,
      Operation op,
      Body body,
      List<String> models,
      Response response) {
    Route r = new Route(Set.of(methods.split(",")), path, false, op, body, response, models, false);
    exact.computeIfAbsent(path, k -> new ArrayList<>()).add(r);
  }

  private void param(String methods, String prefix, Operation op, Body body, boolean pathModel) {
    prefixed.add(
        new Route(
            Set.of(methods.split(",")), prefix, true, op, body, Response.RELAY, NONE, pathModel));
  }

  /** Finds the route for a method and normalised path. */
  public Match match(String method, String path) {
    List<Route> candidates = exact.get(path);
    if (candidates == null) {
      candidates = new ArrayList<>(1);
      for (Route r : prefixed) {
        if (path.length() > r.path().length()
            && path.startsWith(r.path())
            && path.indexOf('/', r.path().length()) < 0) {
          candidates.add(r);
        }
      }
    }
    if (candidates.isEmpty()) {
      return new Match(null, false, Set.of());
    }
    Set<String> allowed = new java.util.TreeSet<>();
    for (Route r : candidates) {
      if (r.methods().contains(method)) {
        return new Match(r, true, Set.of());
      }
      allowed.addAll(r.methods());
    }
    return new Match(null, true, allowed);
  }

  /** Every route, for documentation and tests. */
  public List<Route> routes() {
    List<Route> all = new ArrayList<>();
    exact.values().forEach(all::addAll);
    all.addAll(prefixed);
    return all;
  }
}

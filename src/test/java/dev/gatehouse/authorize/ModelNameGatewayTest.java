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
 * Malformed model names, sent as raw bytes to a real gateway in front of a fake upstream that
 * records: each is refused in both namespaces with its status and stable code, and the upstream
 * receives nothing. A name is given as the JSON text of the value ({@code "tiny\u0000"} is a real
 * NUL inside the JSON string; {@code null} and {@code 5} are JSON values).
 */
class ModelNameGatewayTest {

  static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();
  static GatewayFixture gw;
  static final Map<String, String> KEYS = new LinkedHashMap<>();

  @BeforeAll
  static void start() throws Exception {
    gw = GatewayFixture.start(Map.of("policy.allow_cloud_models", "false"));
    KEYS.put("{KEY}", gw.newKey());
    KEYS.put("{TINY}", gw.newKey(List.of("tiny"), List.of()));
    KEYS.put(
        "{MANAGE}", gw.newKey(List.of(), List.of("models.manage", "inference", "models.inspect")));
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  static String post(String path, String key, String body) {
    byte[] utf8 = body.getBytes(StandardCharsets.UTF_8);
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: gatehouse.test\r\nAuthorization: Bearer "
        + key
        + "\r\nContent-Type: application/json\r\nContent-Length: "
        + utf8.length
        + "\r\nConnection: close\r\n\r\n"
        + new String(utf8, StandardCharsets.ISO_8859_1);
  }

  static String get(String target, String key) {
    return "GET "
        + target
        + " HTTP/1.1\r\nHost: gatehouse.test\r\nAuthorization: Bearer "
        + key
        + "\r\nConnection: close\r\n\r\n";
  }

  /** Every inference and embedding shape of both namespaces, with the model given as JSON text. */
  static List<String[]> everyRoute(String model) {
    String msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
    return List.of(
        new String[] {"/api/chat", "{\"model\":" + model + "," + msgs + ",\"stream\":false}"},
        new String[] {
          "/api/generate", "{\"model\":" + model + ",\"prompt\":\"hi\",\"stream\":false}"
        },
        new String[] {"/api/embed", "{\"model\":" + model + ",\"input\":\"hi\"}"},
        new String[] {"/v1/chat/completions", "{\"model\":" + model + "," + msgs + "}"},
        new String[] {"/v1/completions", "{\"model\":" + model + ",\"prompt\":\"hi\"}"},
        new String[] {"/v1/responses", "{\"model\":" + model + ",\"input\":\"hi\"}"},
        new String[] {"/v1/messages", "{\"model\":" + model + ",\"max_tokens\":10," + msgs + "}"},
        new String[] {"/v1/embeddings", "{\"model\":" + model + ",\"input\":\"hi\"}"},
        new String[] {"/v1/messages/count_tokens", "{\"model\":" + model + "," + msgs + "}"});
  }

  static Arguments c(String name, int status, String code, String request) {
    return Arguments.of(name, status, code, request);
  }

  static final String INVALID = "request.model_invalid";

  static Stream<Arguments> malformed() {
    Map<String, String> shapes = new LinkedHashMap<>();
    // why: Ollama's cloud source reads the trailing :cloud and runs tiny:latest on ollama.com
    shapes.put("\"tiny:latest:cloud\"", "policy.cloud_model_denied");
    // why: an empty part that Ollama's parser and a string compare read differently
    shapes.put("\"tiny::latest\"", INVALID);
    // why: path traversal into the model store's manifests directory
    shapes.put("\"tiny/../../x\"", INVALID);
    // why: a percent escape that a decoding reader turns into a NUL
    shapes.put("\"tiny%00\"", INVALID);
    // why: a real NUL inside the JSON string truncates the name for C readers
    shapes.put("\"tiny\\u0000\"", INVALID);
    // why: spaces, tabs, CR/LF and other control characters never belong to a name
    shapes.put("\"tiny x\"", INVALID);
    shapes.put("\"tiny\\tx\"", INVALID);
    shapes.put("\"tiny\\r\\nX-Injected: 1\"", INVALID);
    shapes.put("\"ti\\u0007ny\"", INVALID);
    // why: zero-width characters make two different names look the same
    shapes.put("\"ti\\u200bny\"", INVALID);
    shapes.put("\"ti\\u200cny\"", INVALID);
    shapes.put("\"ti\\u200dny\"", INVALID);
    shapes.put("\"\\ufefftiny\"", INVALID);
    // why: bidi controls reorder what an operator reads in a log
    shapes.put("\"tiny\\u202egpt\"", INVALID);
    // why: fullwidth and other non-ASCII letters are homoglyphs of allowed names
    shapes.put("\"\\uff54iny\"", INVALID);
    shapes.put("\"tin\\u0443\"", INVALID);
    // why: U+0130 folds to i in Unicode case folding, matching an allowlist entry tiny
    shapes.put("\"t\\u0130ny\"", INVALID);
    // why: a lone surrogate is not a character; decoders replace or drop it differently
    shapes.put("\"\\ud800\"", INVALID);
    shapes.put("\"tiny\\udc00\"", INVALID);
    // why: past Ollama's part length
    shapes.put("\"" + "a".repeat(300) + "\"", INVALID);
    shapes.put("\"tiny:" + "t".repeat(81) + "\"", INVALID);
    // why: empty, or whitespace the upstream might trim after the check
    shapes.put("\"\"", INVALID);
    shapes.put("\" tiny\"", INVALID);
    shapes.put("\"tiny \"", INVALID);
    shapes.put("\"tiny\\n\"", INVALID);
    // why: not a string at all: decoders coerce, ignore or fail differently
    shapes.put("null", INVALID);
    shapes.put("5", INVALID);
    shapes.put("[\"tiny\"]", INVALID);
    shapes.put("{}", INVALID);
    shapes.put("true", INVALID);
    // why: glob characters are patterns, not names
    shapes.put("\"tiny*\"", INVALID);
    // why: a backslash is a separator to Windows-minded readers
    shapes.put("\"tiny\\\\..\\\\x\"", INVALID);
    List<Arguments> t = new ArrayList<>();
    for (Map.Entry<String, String> shape : shapes.entrySet()) {
      int status = shape.getValue().equals(INVALID) ? 400 : 403;
      for (String[] route : everyRoute(shape.getKey())) {
        t.add(
            c(
                route[0] + " " + shape.getKey(),
                status,
                shape.getValue(),
                post(route[0], "{KEY}", route[1])));
      }
      // why: the same shapes under a key limited to exactly tiny
      t.add(
          c(
              "limited /api/chat " + shape.getKey(),
              status,
              shape.getValue(),
              post("/api/chat", "{TINY}", "{\"model\":" + shape.getKey() + ",\"messages\":[]}")));
    }
    // why: the model store routes read the same names: pull, push, create (model, from, FROM),
    // copy, show, delete
    t.add(
        c(
            "pull tiny::latest",
            400,
            INVALID,
            post("/api/pull", "{MANAGE}", "{\"model\":\"tiny::latest\"}")));
    t.add(
        c(
            "pull name tiny/../../x",
            400,
            INVALID,
            post("/api/pull", "{MANAGE}", "{\"name\":\"tiny/../../x\"}")));
    t.add(
        c(
            "pull model ok, name malformed",
            400,
            INVALID,
            post("/api/pull", "{MANAGE}", "{\"model\":\"tiny\",\"name\":\"ti\\u200bny\"}")));
    t.add(
        c(
            "pull tiny:latest:cloud",
            403,
            "policy.cloud_model_denied",
            post("/api/pull", "{MANAGE}", "{\"model\":\"tiny:latest:cloud\"}")));
    t.add(
        c("push tiny%00", 400, INVALID, post("/api/push", "{MANAGE}", "{\"model\":\"tiny%00\"}")));
    t.add(
        c(
            "create from malformed",
            400,
            INVALID,
            post("/api/create", "{MANAGE}", "{\"model\":\"mine\",\"from\":\"tiny::latest\"}")));
    t.add(
        c(
            "create model malformed",
            400,
            INVALID,
            post("/api/create", "{MANAGE}", "{\"model\":\"mi ne\",\"from\":\"tiny\"}")));
    t.add(
        c(
            "create modelfile FROM malformed",
            400,
            INVALID,
            post(
                "/api/create",
                "{MANAGE}",
                "{\"model\":\"mine\",\"modelfile\":\"FROM tiny:latest:latest\"}")));
    t.add(
        c(
            "create modelfile FROM cloud suffix",
            403,
            "policy.cloud_model_denied",
            post(
                "/api/create",
                "{MANAGE}",
                "{\"model\":\"mine\",\"modelfile\":\"FROM tiny:latest:cloud\"}")));
    t.add(
        c(
            "create from null",
            400,
            INVALID,
            post("/api/create", "{MANAGE}", "{\"model\":\"mine\",\"from\":null}")));
    t.add(
        c(
            "copy source malformed",
            400,
            INVALID,
            post("/api/copy", "{MANAGE}", "{\"source\":\"t\\u0130ny\",\"destination\":\"mine\"}")));
    t.add(
        c(
            "copy destination malformed",
            400,
            INVALID,
            post("/api/copy", "{MANAGE}", "{\"source\":\"tiny\",\"destination\":\"../../x\"}")));
    t.add(
        c(
            "copy destination cloud suffix",
            403,
            "policy.cloud_model_denied",
            post("/api/copy", "{MANAGE}", "{\"source\":\"tiny\",\"destination\":\"x:1:cloud\"}")));
    t.add(c("show name 5", 400, INVALID, post("/api/show", "{MANAGE}", "{\"name\":5}")));
    t.add(
        c(
            "delete model malformed",
            400,
            INVALID,
            ("DELETE /api/delete" + post("", "{MANAGE}", "{\"model\":\"tiny\\t\"}").substring(5))));
    // why: a model in the path of /v1/models/:model and LM Studio's /api/v0/models/:model
    t.add(c("path tiny::latest", 400, INVALID, get("/v1/models/tiny::latest", "{KEY}")));
    t.add(
        c(
            "path tiny:latest:cloud",
            403,
            "policy.cloud_model_denied",
            get("/v1/models/tiny:latest:cloud", "{KEY}")));
    t.add(c("LM Studio path tiny*", 400, INVALID, get("/api/v0/models/tiny*", "{KEY}")));
    // why: a model in the query of a llama.cpp router-mode GET route
    t.add(
        c("query model malformed", 400, INVALID, get("/props?model=tiny%3A%3Alatest", "{MANAGE}")));
    t.add(
        c(
            "query model cloud",
            403,
            "policy.cloud_model_denied",
            get("/props?model=tiny:latest:cloud", "{MANAGE}")));
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
  @MethodSource("malformed")
  void malformedNamesAreRefusedAndNeverForwarded(
      String name, int status, String code, String request) throws Exception {
    RawResponse r = send(request);
    assertThat(r.status()).as("%s%n%s%n%s", name, r.head(), r.body()).isEqualTo(status);
    assertThat(r.body()).as(name).contains("\"code\":\"" + code + "\"");
    assertThat(gw.upstream.requests()).as("forwarded: %s", name).isEmpty();
  }

  @Test
  void tableCoversBothNamespaces() {
    List<Arguments> all = malformed().toList();
    assertThat(all.stream().filter(a -> ((String) a.get()[3]).startsWith("POST /v1/")).count())
        .isGreaterThan(150);
    assertThat(all.stream().filter(a -> ((String) a.get()[3]).startsWith("POST /api/")).count())
        .isGreaterThan(100);
  }

  @Test
  void theSameKeysAndRoutesWorkWithGoodNames() throws Exception {
    // why: the refusals above are about the names, not the keys or routes
    for (String good :
        List.of(
            "\"tiny\"",
            "\"TINY\"",
            "\"tiny:latest\"",
            "\"library/tiny\"",
            "\"registry.ollama.ai/library/tiny:latest\"")) {
      for (String[] route : everyRoute(good)) {
        gw.upstream.reset();
        RawResponse r = send(post(route[0], "{TINY}", route[1]));
        assertThat(r.status()).as("%s %s%n%s", route[0], good, r.body()).isEqualTo(200);
        assertThat(gw.upstream.requests()).hasSize(1);
        assertThat(JSON.readTree(gw.upstream.requests().get(0).body()).get("model"))
            .as("the model forwarded as sent")
            .isEqualTo(JSON.readTree(route[1]).get("model"));
      }
    }
    gw.upstream.reset();
    assertThat(
            send(post("/api/chat", "{TINY}", "{\"model\":\"tiny:7b\",\"messages\":[]}")).status())
        .isEqualTo(403);
    assertThat(
            send(post("/api/chat", "{TINY}", "{\"model\":\"user/tiny\",\"messages\":[]}")).status())
        .isEqualTo(403);
    assertThat(
            send(post("/api/chat", "{TINY}", "{\"model\":\"tinyllama\",\"messages\":[]}")).status())
        .isEqualTo(403);
    assertThat(gw.upstream.requests()).isEmpty();
  }

  @Test
  void cloudSuffixIsAllowedOnlyWhereCloudModelsAre() throws Exception {
    // why: tiny:latest:cloud is a cloud model: refused above, allowed when the operator allows
    // cloud models
    try (GatewayFixture cloud = GatewayFixture.start(Map.of("policy.allow_cloud_models", "true"))) {
      String tinyKey = cloud.newKey(List.of("tiny*"), List.of());
      String otherKey = cloud.newKey(List.of("qwen*"), List.of());
      String body = "{\"model\":\"tiny:latest:cloud\",\"messages\":[]}";
      RawResponse ok = cloud.raw(post("/api/chat", tinyKey, body));
      assertThat(ok.status()).as(ok.body()).isEqualTo(200);
      assertThat(cloud.upstream.requests()).hasSize(1);
      assertThat(JSON.readTree(cloud.upstream.requests().get(0).body()).get("model").asText())
          .isEqualTo("tiny:latest:cloud");
      cloud.upstream.reset();
      RawResponse other = cloud.raw(post("/v1/chat/completions", otherKey, body));
      assertThat(other.status()).isEqualTo(403);
      assertThat(other.body()).contains("policy.model_denied");
      assertThat(
              cloud
                  .raw(
                      post(
                          "/v1/chat/completions",
                          tinyKey,
                          "{\"model\":\"tiny::cloud\",\"messages\":[]}"))
                  .status())
          .isEqualTo(400);
      assertThat(cloud.upstream.requests()).isEmpty();
    }
  }
}

package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.GatewayFixture;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Request-body caps, as the upstream receives them. */
class RequestCapsTest {

  static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode sent(GatewayFixture gw) throws Exception {
    var reqs = gw.upstream.requests();
    return JSON.readTree(reqs.get(reqs.size() - 1).body());
  }

  @Test
  void clampModeLowersWhatIsTooBigAndBoundsWhatIsUnbounded() throws Exception {
    // why: one request with num_ctx 1M or num_predict -1 can exhaust a GPU server
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of(
                "caps.max_output_tokens",
                "512",
                "caps.num_ctx",
                "8192",
                "caps.keep_alive_max",
                "10m"))) {
      String key = gw.newKey();
      assertThat(
              gw.post("/api/generate", key, "{\"model\":\"m\",\"prompt\":\"hi\",\"stream\":false}")
                  .statusCode())
          .isEqualTo(200);
      assertThat(sent(gw).at("/options/num_predict").asInt())
          .as("a default output cap is added")
          .isEqualTo(512);

      gw.post(
          "/api/chat",
          key,
          "{\"model\":\"m\",\"stream\":false,\"keep_alive\":-1,\"options\":{\"num_ctx\":1048576,\"num_predict\":-2}}");
      JsonNode chat = sent(gw);
      assertThat(chat.at("/options/num_ctx").asInt()).isEqualTo(8192);
      assertThat(chat.at("/options/num_predict").asInt()).isEqualTo(512);
      assertThat(chat.get("keep_alive").asText()).isEqualTo("600s");

      gw.post(
          "/api/chat",
          key,
          "{\"model\":\"m\",\"stream\":false,\"keep_alive\":\"5m\",\"options\":{\"num_predict\":100}}");
      assertThat(sent(gw).at("/options/num_predict").asInt())
          .as("within the cap: untouched")
          .isEqualTo(100);
      assertThat(sent(gw).get("keep_alive").asText()).isEqualTo("5m");

      gw.post("/v1/chat/completions", key, "{\"model\":\"m\",\"messages\":[],\"n\":5}");
      assertThat(sent(gw).get("max_tokens").asInt()).isEqualTo(512);
      assertThat(sent(gw).get("n").asInt()).isEqualTo(1);
      gw.post(
          "/v1/chat/completions",
          key,
          "{\"model\":\"m\",\"messages\":[],\"max_completion_tokens\":100000}");
      assertThat(sent(gw).get("max_completion_tokens").asInt()).isEqualTo(512);
      assertThat(sent(gw).has("max_tokens")).isFalse();
    }
  }

  @Test
  void rejectModeRefusesInsteadAndNothingReachesTheUpstream() throws Exception {
    // why: operators who prefer explicit failure over silent clamping
    try (GatewayFixture gw =
        GatewayFixture.start(Map.of("caps.mode", "reject", "caps.max_output_tokens", "512"))) {
      String key = gw.newKey();
      HttpResponse<String> r =
          gw.post(
              "/api/generate",
              key,
              "{\"model\":\"m\",\"prompt\":\"hi\",\"options\":{\"num_predict\":-1}}");
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(r.body()).contains("\"code\":\"limit.cap_exceeded\"").contains("num_predict");
      HttpResponse<String> forever =
          gw.post("/api/chat", key, "{\"model\":\"m\",\"keep_alive\":\"-1m\"}");
      assertThat(forever.statusCode()).isEqualTo(400);
      HttpResponse<String> openai =
          gw.post(
              "/v1/chat/completions", key, "{\"model\":\"m\",\"messages\":[],\"max_tokens\":9999}");
      assertThat(openai.statusCode()).isEqualTo(400);
      assertThat(gw.upstream.requests()).isEmpty();
      assertThat(
              gw.post("/api/generate", key, "{\"model\":\"m\",\"prompt\":\"hi\",\"stream\":false}")
                  .statusCode())
          .as("a request without any cap field still passes, with the default cap added")
          .isEqualTo(200);
    }
  }

  @Test
  void imageMessageAndPromptCapsAlwaysReject() throws Exception {
    // why: there is no faithful smaller version of such a request
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of(
                "caps.images",
                "1",
                "caps.image_bytes",
                "1KiB",
                "caps.messages",
                "2",
                "caps.prompt_chars",
                "100"))) {
      String key = gw.newKey();
      String img = "A".repeat(100);
      assertThat(
              gw.post(
                      "/api/generate",
                      key,
                      "{\"model\":\"m\",\"prompt\":\"x\",\"images\":[\""
                          + img
                          + "\",\""
                          + img
                          + "\"]}")
                  .statusCode())
          .isEqualTo(400);
      assertThat(
              gw.post(
                      "/api/generate",
                      key,
                      "{\"model\":\"m\",\"prompt\":\"x\",\"images\":[\""
                          + "A".repeat(2000)
                          + "\"]}")
                  .statusCode())
          .isEqualTo(400);
      assertThat(
              gw.post(
                      "/v1/chat/completions",
                      key,
                      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,"
                          + img
                          + "\"}},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,"
                          + img
                          + "\"}}]}]}")
                  .statusCode())
          .isEqualTo(400);
      assertThat(
              gw.post(
                      "/api/chat",
                      key,
                      "{\"model\":\"m\",\"messages\":[{\"content\":\"a\"},{\"content\":\"b\"},{\"content\":\"c\"}]}")
                  .statusCode())
          .isEqualTo(400);
      assertThat(
              gw.post(
                      "/api/generate",
                      key,
                      "{\"model\":\"m\",\"prompt\":\"" + "x".repeat(101) + "\"}")
                  .statusCode())
          .isEqualTo(400);
      assertThat(gw.upstream.requests()).isEmpty();
      assertThat(
              gw.post(
                      "/api/generate",
                      key,
                      "{\"model\":\"m\",\"prompt\":\"x\",\"stream\":false,\"images\":[\""
                          + img
                          + "\"]}")
                  .statusCode())
          .isEqualTo(200);
    }
  }

  @Test
  void keepAliveParsesOllamaForms() {
    assertThat(RequestCaps.parseKeepAlive(JSON.getNodeFactory().textNode("1h30m")))
        .isEqualTo(Duration.ofMinutes(90));
    assertThat(RequestCaps.parseKeepAlive(JSON.getNodeFactory().numberNode(300)))
        .isEqualTo(Duration.ofSeconds(300));
    assertThat(RequestCaps.parseKeepAlive(JSON.getNodeFactory().textNode("-1"))).isNegative();
    assertThat(RequestCaps.parseKeepAlive(JSON.getNodeFactory().textNode("soon"))).isNull();
  }
}

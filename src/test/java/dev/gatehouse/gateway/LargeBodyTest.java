package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.GatewayFixture;
import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A chat request carrying a 10 MB base64 image goes through every stage and reaches the upstream
 * byte for byte as the client sent it: the body reader keeps only the policy fields and measures
 * the image without decoding it, and nothing rewrites a body that is within every cap.
 */
class LargeBodyTest {

  static final ObjectMapper JSON = new ObjectMapper();

  /** Base64 of {@code n} random bytes (random, so that no run of it looks like a secret twice). */
  static String image(int n) {
    byte[] raw = new byte[n];
    new Random(42).nextBytes(raw);
    return Base64.getEncoder().encodeToString(raw);
  }

  private static String last(GatewayFixture gw) {
    List<dev.gatehouse.testing.FakeUpstream.Recorded> reqs = gw.upstream.requests();
    return reqs.get(reqs.size() - 1).body();
  }

  @Test
  void aTenMegabyteImageIsForwardedAsReceived() throws Exception {
    // why: a body within every cap is forwarded as received, not re-serialised from a tree
    try (GatewayFixture gw = GatewayFixture.start(Map.of("guard.secrets", "redact"))) {
      String key = gw.newKey();
      String openai =
          "{\"model\":\"llava\",\"stream\":false,\"max_tokens\":256,\"messages\":[{\"role\":\"user\","
              + "\"content\":[{\"type\":\"text\",\"text\":\"What is in this picture?\"},"
              + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,"
              + image(7_500_000)
              + "\"}}]}],\"temperature\":0.2,   \"top_p\" : 1.0}";
      assertThat(openai.length()).isGreaterThan(10_000_000);
      HttpResponse<String> r = gw.post("/v1/chat/completions", key, openai);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(last(gw)).isEqualTo(openai);

      String ollama =
          "{\"model\":\"llava\",\"stream\":false,\"options\":{\"num_predict\":128},"
              + "\"messages\":[{\"role\":\"user\",\"content\":\"Describe it.\",\"images\":[\""
              + image(7_500_000)
              + "\"]}]}";
      r = gw.post("/api/chat", key, ollama);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(last(gw)).isEqualTo(ollama);
    }
  }

  @Test
  void aBodyOverACapIsRewrittenWithItsImageIntact() throws Exception {
    // why: a rewrite (here, the default output cap added) must carry everything else, the image
    // included, unchanged
    try (GatewayFixture gw = GatewayFixture.start(Map.of("caps.max_output_tokens", "512"))) {
      String key = gw.newKey();
      String img = image(3_000_000);
      String body =
          "{\"model\":\"llava\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":"
              + "\"Describe it.\",\"images\":[\""
              + img
              + "\"]}]}";
      HttpResponse<String> r = gw.post("/api/chat", key, body);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode sent = JSON.readTree(last(gw));
      assertThat(sent.at("/options/num_predict").asInt()).isEqualTo(512);
      assertThat(sent.at("/messages/0/images/0").asText()).isEqualTo(img);
    }
  }

  @Test
  void aCapAddedToABodyIsSplicedIntoItsBytes() throws Exception {
    // why: the common rewrites (an Ollama chat without options gets the output cap, an OpenAI
    // stream gets include_usage) change only what they add: the image, the client's whitespace
    // and its field order reach the upstream as sent, with no tree of the body built
    try (GatewayFixture gw = GatewayFixture.start(Map.of("caps.max_output_tokens", "512"))) {
      String key = gw.newKey();
      String ollama =
          "{ \"model\" : \"llava\",\n  \"stream\":false, \"messages\":[{\"role\":\"user\","
              + "\"content\":\"Describe it.\",\"images\":[\""
              + image(3_000_000)
              + "\"]}]\n}";
      HttpResponse<String> r = gw.post("/api/chat", key, ollama);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(last(gw))
          .isEqualTo(
              ollama.substring(0, ollama.length() - 1) + ",\"options\":{\"num_predict\":512}}");

      String openai =
          "{\"model\":\"llava\",\t\"stream\":true,\"max_tokens\":9999,\"messages\":"
              + "[{\"role\":\"user\",\"content\":\"caf\\u00e9\"}],\"stream_options\":{ }}";
      r = gw.post("/v1/chat/completions", key, openai);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(last(gw))
          .isEqualTo(
              "{\"model\":\"llava\",\t\"stream\":true,\"max_tokens\":512,\"messages\":"
                  + "[{\"role\":\"user\",\"content\":\"caf\\u00e9\"}],"
                  + "\"stream_options\":{ \"include_usage\":true}}");
    }
  }
}

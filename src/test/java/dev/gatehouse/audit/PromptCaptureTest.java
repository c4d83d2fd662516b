package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.testing.GatewayFixture;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PromptCaptureTest {

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        // our own keys, whatever surrounds them
        "use gk_y5ytqbgwnpue_DQhg9Crvv5WUej7ZtUJMTR6y1Scx please | use [REDACTED:gatehouse_key] please",
        // OpenAI-style keys
        "key sk-proj-abcdefghijklmnop1234 here | key [REDACTED:api_key] here",
        // Authorization header values pasted into a prompt
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc | Authorization: Bearer [REDACTED]",
        // AWS access key ids
        "id AKIAIOSFODNN7EXAMPLE ok | id [REDACTED:aws_access_key_id] ok",
        // long hex secrets (tokens, digests)
        "token 0123456789abcdef0123456789abcdef! | token [REDACTED:hex]!",
        // long base64-like tokens
        "x=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTIzNDU2Nzg5MA== | x=[REDACTED:token]",
        // ordinary text stays as it is
        "What is the capital of France? | What is the capital of France?",
      })
  void redactsSecretShapedStrings(String in, String out) {
    assertThat(PromptCapture.redact(in)).isEqualTo(out);
  }

  @Test
  void anUnknownModeIsRefusedAtLoad() {
    assertThatThrownBy(
            () ->
                dev.gatehouse.config.ConfigLoader.load(
                    null, false, Map.of(), Map.of("audit.prompt", "everything"), ConfigChecks.ALL))
        .isInstanceOf(dev.gatehouse.config.ConfigException.class)
        .hasMessageContaining("audit.prompt")
        .hasMessageContaining("expected: none, sha256 or text");
  }

  @Test
  void textJoinsEveryTextFieldOfBothApis() throws Exception {
    ObjectMapper m = new ObjectMapper();
    assertThat(PromptCapture.text(m.readTree("{\"system\":\"be brief\",\"prompt\":\"hi\"}")))
        .isEqualTo("be brief\nhi");
    assertThat(
            PromptCapture.text(
                m.readTree(
                    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:x\"}}]},"
                        + "{\"role\":\"user\",\"content\":\"b\"}]}")))
        .isEqualTo("a\nb");
    assertThat(PromptCapture.text(m.readTree("{\"model\":\"x\"}"))).isNull();
  }

  @Test
  void gatewayRecordsAHashOrRedactedTextOnlyWhenAskedTo() throws Exception {
    // why: prompt text is sensitive; it is kept only by explicit choice, and never with secrets
    String body =
        "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"my key is sk-abcdefghijklmnopqrstu\"}]}";
    ObjectMapper m = new ObjectMapper();
    try (GatewayFixture gw = GatewayFixture.start(Map.of("audit.prompt", "sha256"))) {
      gw.post("/api/chat", gw.newKey(), body);
      JsonNode last =
          m.readTree(Files.readAllLines(gw.dataDir.resolve(AuditWriter.FILE)).getLast());
      assertThat(last.path("prompt_sha256").asText())
          .isEqualTo(PromptCapture.sha256("my key is sk-abcdefghijklmnopqrstu"));
      assertThat(last.has("prompt_text")).isFalse();
    }
    try (GatewayFixture gw = GatewayFixture.start(Map.of("audit.prompt", "text"))) {
      gw.post("/api/chat", gw.newKey(), body);
      JsonNode last =
          m.readTree(Files.readAllLines(gw.dataDir.resolve(AuditWriter.FILE)).getLast());
      assertThat(last.path("prompt_text").asText()).isEqualTo("my key is [REDACTED:api_key]");
      assertThat(last.has("prompt_sha256")).isFalse();
    }
    try (GatewayFixture gw = GatewayFixture.start(Map.of())) {
      gw.post("/api/chat", gw.newKey(), body);
      String log = Files.readString(gw.dataDir.resolve(AuditWriter.FILE));
      assertThat(log).doesNotContain("prompt_").doesNotContain("my key is");
    }
  }
}

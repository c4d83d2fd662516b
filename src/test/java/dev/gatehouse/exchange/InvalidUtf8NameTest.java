package dev.gatehouse.exchange;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.testing.GatewayFixture;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A member name holding a 0xFF byte is refused, whatever names the reader has seen before. Jackson
 * looks a name up by its bytes, in 4-byte groups whose last one it pads with 0xFF, and checks the
 * UTF-8 only of a name it has not seen: "mode\xFFl" was read as "model" once a body had carried
 * "model", while the upstream (Go's decoder puts U+FFFD in its place) reads another name. The
 * splice fuzz target found it twice ({@code SpliceFuzzTestInputs/splice/invalid_utf8_*}).
 */
class InvalidUtf8NameTest {

  /**
   * A valid name read first, then the same with one 0xFF byte before its tail (the same groups,
   * once padded), at the top, inside a policy object, inside a message, and inside a member the
   * scan skips.
   */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"model\":\"x\"}|{\"mode#l\":\"x\"}",
        "{\"options\":{}}|{\"opti#ons\":{}}",
        "{\"messages\":[]}|{\"mess#ages\":[]}",
        "{\"max_tokens\":1}|{\"max_toke#ns\":1}",
        "{\"keep_alive\":1}|{\"keep#_alive\":1}",
        "{\"stream\":true}|{\"stre#am\":true}",
        "{\"options\":{\"num_ctx\":8}}|{\"options\":{\"num_#ctx\":8}}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}|{\"messages\":[{\"role\":\"user\",\"cont#ent\":\"a\"}]}",
        "{\"extra\":{\"model\":1}}|{\"extra\":{\"mode#l\":1}}",
        "{\"extra\":[{\"options\":1}]}|{\"extra\":[{\"opti#ons\":1}]}"
      })
  void aNameHoldingA0xFFByteIsRefusedEvenAfterTheValidNameWasRead(String valid, String invalid)
      throws IOException {
    assertThat(BodyFields.scan(Buffer.buffer(valid)).fields()).isNotNull(); // read first
    BodyFields.tree(Buffer.buffer(valid));
    String[] parts = invalid.split("#"); // where the 0xFF byte goes
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(parts[0].getBytes(StandardCharsets.UTF_8));
    b.write(0xFF);
    b.writeBytes(parts[1].getBytes(StandardCharsets.UTF_8));
    Buffer body = Buffer.buffer(b.toByteArray());
    assertThatThrownBy(() -> BodyFields.scan(body))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Invalid UTF-8");
  }

  @Test
  void theGatewayRefusesSuchABodyAndTheUpstreamNeverSeesIt() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start()) {
      String key = gw.newKey();
      String ok = "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[]}";
      assertThat(gw.post("/api/chat", key, ok).statusCode()).isEqualTo(200); // "model" read first
      int reached = gw.upstream.requests().size();
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      body.writeBytes("{\"mode".getBytes(StandardCharsets.US_ASCII));
      body.write(0xFF);
      body.writeBytes(
          "l\":\"llama3.2:3b\",\"stream\":false,\"messages\":[]}"
              .getBytes(StandardCharsets.US_ASCII));
      ByteArrayOutputStream request = new ByteArrayOutputStream();
      request.writeBytes(
          ("POST /api/chat HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                  + key
                  + "\r\nContent-Type: application/json\r\nContent-Length: "
                  + body.size()
                  + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      request.writeBytes(body.toByteArray());
      assertThat(gw.raw(request.toByteArray()).status()).isEqualTo(400);
      assertThat(gw.upstream.requests()).hasSize(reached);
    }
  }

  @ParameterizedTest
  @CsvSource({"model", "options", "héllo", "日本語", "a\\\"b", "\\u00ff"})
  void validNamesStillRead(String name) throws IOException {
    Buffer body = Buffer.buffer("{\"" + name + "\":1,\"extra\":{\"" + name + "\":[1]}}");
    assertThat(BodyFields.scan(body).fields()).isNotNull();
    assertThat(BodyFields.tree(body).size()).isEqualTo(2);
  }
}

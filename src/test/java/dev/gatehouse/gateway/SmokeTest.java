package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.GatewayFixture;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SmokeTest {
  static GatewayFixture gw;

  @BeforeAll
  static void start() throws Exception {
    gw = GatewayFixture.start();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  @Test
  void keyedChatIsRelayedAndUnkeyedIsNot() throws Exception {
    String key = gw.newKey();
    HttpResponse<String> ok =
        gw.post("/api/chat", key, "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[]}");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).contains("Hello from the fake");
    assertThat(gw.upstream.requests()).hasSize(1);
    HttpResponse<String> denied = gw.post("/api/chat", null, "{\"model\":\"llama3.2:3b\"}");
    assertThat(denied.statusCode()).isEqualTo(401);
    assertThat(gw.upstream.requests()).hasSize(1);
  }
}

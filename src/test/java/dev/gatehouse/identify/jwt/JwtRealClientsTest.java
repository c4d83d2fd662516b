package dev.gatehouse.identify.jwt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.RSAKey;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.Node;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real clients, unchanged, sending a JWT as their API key: the official openai-java SDK, and the
 * npm openai package (tests/node/jwt.mjs). Node.js is required: without it this test fails.
 */
class JwtRealClientsTest {

  static JwksServer jwks;
  static GatewayFixture gw;
  static RSAKey rsa;
  static String token;
  static String expired;
  static String forged;

  @BeforeAll
  static void start() throws Exception {
    rsa = Tokens.rsa("r1");
    jwks = new JwksServer();
    jwks.serve(Tokens.keys(rsa));
    gw = GatewayFixture.start(JwtGatewayTest.settings(jwks.url()));
    token = Tokens.sign(rsa, Tokens.claims("svc-reports").build());
    Instant past = Instant.now().minus(Duration.ofHours(1));
    expired =
        Tokens.sign(rsa, Tokens.claims("svc-reports").expirationTime(Date.from(past)).build());
    forged = Tokens.hs256WithPublicKey(rsa, Tokens.claims("svc-reports").build());
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.close();
    }
    if (jwks != null) {
      jwks.close();
    }
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  static OpenAIClient client(String apiKey) {
    return OpenAIOkHttpClient.builder()
        .baseUrl(gw.baseUrl() + "/v1")
        .apiKey(apiKey)
        .maxRetries(0)
        .timeout(Duration.ofSeconds(20))
        .build();
  }

  static ChatCompletionCreateParams chat(String model) {
    return ChatCompletionCreateParams.builder().model(model).addUserMessage("Say hello").build();
  }

  // openai-java with a JWT as its API key: served like a key.
  @Test
  void openAiJavaWithAJwt() {
    OpenAIClient c = client(token);
    try {
      ChatCompletion done = c.chat().completions().create(chat("llama3.2:3b"));
      assertThat(done.choices().get(0).message().content()).contains("Hello from the fake.");
      assertThat(gw.upstream.requests()).hasSize(1);
    } finally {
      c.close();
    }
  }

  // openai-java with an expired or forged JWT: the SDK's UnauthorizedException, nothing upstream.
  @Test
  void openAiJavaWithARefusedJwt() {
    for (String bad : List.of(expired, forged)) {
      OpenAIClient c = client(bad);
      try {
        assertThatThrownBy(() -> c.chat().completions().create(chat("phi3:latest")))
            .isInstanceOf(UnauthorizedException.class);
      } finally {
        c.close();
      }
    }
    assertThat(gw.upstream.requests()).isEmpty();
  }

  // The npm openai package: its own assertions pass, and only the allowed calls reached upstream.
  @Test
  void npmOpenAiWithAJwt() throws Exception {
    Node.install();
    Node.Run run =
        Node.exec(
            Path.of("").toAbsolutePath(),
            Map.of(
                "GATEHOUSE_URL", gw.baseUrl(),
                "GATEHOUSE_JWT", token,
                "GATEHOUSE_EXPIRED_JWT", expired,
                "GATEHOUSE_FORGED_JWT", forged),
            180,
            "node",
            "--test",
            "--test-reporter=tap",
            "tests/node/jwt.mjs");
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(run.output()).contains("# pass 4").contains("# fail 0");
    List<FakeUpstream.Recorded> seen = gw.upstream.requests();
    assertThat(seen).noneMatch(r -> r.body().contains("phi3:latest"));
    Map<String, Long> perPath =
        seen.stream()
            .collect(Collectors.groupingBy(FakeUpstream.Recorded::uri, Collectors.counting()));
    assertThat(perPath)
        .as("only the allowed calls")
        .isEqualTo(Map.of("/v1/chat/completions", 2L, "/v1/models", 1L));
  }
}

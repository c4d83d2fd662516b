package dev.gatehouse.identify.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.MutableClock;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Fail closed when the provider's key set cannot be had: a token that may be valid gets 503
 * auth.jwks_unavailable, anything else the 401 of a bad key, and nothing ever reaches the upstream
 * unchecked. Also the key set read from a file.
 */
class JwksUnavailableTest {

  static final String CHAT =
      "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  static Map<String, String> settings(String url) {
    return Map.of(
        "jwt.issuer", Tokens.ISSUER, "jwt.audience", Tokens.AUDIENCE, "jwt.jwks_url", url);
  }

  static String deadUrl() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    return "http://127.0.0.1:" + port + "/certs"; // nothing listens there any more
  }

  // The provider is down from the start and nothing is cached: a plausible token is 503 (retry),
  // a token that fails a check made without its key is still 401.
  @Test
  void jwksDownWithNoCache() throws Exception {
    RSAKey rsa = Tokens.rsa("r1");
    try (GatewayFixture gw = GatewayFixture.start(settings(deadUrl()))) {
      HttpResponse<String> r =
          gw.post("/v1/chat/completions", Tokens.sign(rsa, Tokens.claims("a").build()), CHAT);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
      assertThat(r.body()).contains("auth.jwks_unavailable");
      HttpResponse<String> wrongIssuer =
          gw.post(
              "/v1/chat/completions",
              Tokens.sign(rsa, Tokens.claims("a").issuer("https://other.test").build()),
              CHAT);
      assertThat(wrongIssuer.statusCode()).isEqualTo(401);
      Instant past = Instant.now().minus(Duration.ofHours(1));
      HttpResponse<String> expired =
          gw.post(
              "/v1/chat/completions",
              Tokens.sign(rsa, Tokens.claims("a").expirationTime(Date.from(past)).build()),
              CHAT);
      assertThat(expired.statusCode()).isEqualTo(401);
      HttpResponse<String> unsigned =
          gw.post("/v1/chat/completions", Tokens.unsigned(Tokens.claims("a").build()), CHAT);
      assertThat(unsigned.statusCode()).isEqualTo(401);
      assertThat(gw.upstream.requests()).as("nothing reached the upstream").isEmpty();
    }
  }

  // The provider accepts the connection and never answers: the fetch gives up after its timeout
  // and the token is 503, not held forever.
  @Test
  void jwksThatHangs() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        GatewayFixture gw =
            GatewayFixture.start(
                settings("http://127.0.0.1:" + silent.getLocalPort() + "/certs"))) {
      long start = System.nanoTime();
      HttpResponse<String> r =
          gw.post(
              "/v1/chat/completions",
              Tokens.sign(Tokens.rsa("r1"), Tokens.claims("a").build()),
              CHAT);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isLessThan(JwksSource.TIMEOUT.multipliedBy(3));
      assertThat(gw.upstream.requests()).isEmpty();
    }
  }

  // The provider answers 500: the same as down.
  @Test
  void jwksAnswersAnErrorWithNoCache() throws Exception {
    try (JwksServer jwks = new JwksServer()) {
      jwks.failing(true);
      try (GatewayFixture gw = GatewayFixture.start(settings(jwks.url()))) {
        HttpResponse<String> r =
            gw.post(
                "/v1/chat/completions",
                Tokens.sign(Tokens.rsa("r1"), Tokens.claims("a").build()),
                CHAT);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.body()).contains("auth.jwks_unavailable");
        assertThat(gw.upstream.requests()).isEmpty();
      }
    }
  }

  // The provider goes down after a good fetch: cached keys keep working; a token naming a key
  // that is not cached is 503, never let through.
  @Test
  void jwksDownAfterAGoodFetch() throws Exception {
    RSAKey rsa = Tokens.rsa("r1");
    MutableClock clock = new MutableClock(Instant.now());
    try (JwksServer jwks = new JwksServer()) {
      jwks.serve(Tokens.keys(rsa));
      try (GatewayFixture gw = GatewayFixture.start(settings(jwks.url()), null, null, clock)) {
        String good = Tokens.sign(rsa, Tokens.claims("a").build());
        assertThat(gw.post("/v1/chat/completions", good, CHAT).statusCode()).isEqualTo(200);
        jwks.failing(true);
        clock.advance(Duration.ofSeconds(31));
        HttpResponse<String> unknown =
            gw.post(
                "/v1/chat/completions",
                Tokens.sign(Tokens.rsa("r9"), Tokens.claims("a").build()),
                CHAT);
        assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(503);
        assertThat(gw.post("/v1/chat/completions", good, CHAT).statusCode()).isEqualTo(200);
        assertThat(gw.upstream.requests()).hasSize(2);
      }
    }
  }

  // A key set from a file: served; an unknown kid is a plain 401 (a file has nothing to fetch).
  @Test
  void jwksFromAFile() throws Exception {
    RSAKey rsa = Tokens.rsa("r1");
    Path file = Files.createTempFile("jwks", ".json");
    Files.writeString(file, new com.nimbusds.jose.jwk.JWKSet(rsa).toPublicJWKSet().toString());
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of(
                "jwt.issuer", Tokens.ISSUER,
                "jwt.audience", Tokens.AUDIENCE,
                "jwt.jwks_file", file.toString()))) {
      assertThat(
              gw.post("/v1/chat/completions", Tokens.sign(rsa, Tokens.claims("a").build()), CHAT)
                  .statusCode())
          .isEqualTo(200);
      HttpResponse<String> unknown =
          gw.post(
              "/v1/chat/completions",
              Tokens.sign(Tokens.rsa("r2"), Tokens.claims("a").build()),
              CHAT);
      assertThat(unknown.statusCode()).isEqualTo(401);
      assertThat(gw.upstream.requests()).hasSize(1);
    } finally {
      Files.deleteIfExists(file);
    }
  }
}

package dev.gatehouse.identify.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Client JWTs through a real gateway: a real JWKS server on a loopback port, RSA and EC keys made
 * here, tokens signed here. Every refused token is the same 401 as a bad key, and never reaches the
 * upstream. The gateway's clock (which paces JWKS fetches) is moved by hand; token times are real.
 */
class JwtGatewayTest {

  static final String CHAT =
      "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  static final ObjectMapper JSON = new ObjectMapper();

  static JwksServer jwks;
  static MutableClock clock;
  static GatewayFixture gw;
  static RSAKey rsa;
  static ECKey ec;

  @BeforeAll
  static void start() throws Exception {
    rsa = Tokens.rsa("r1");
    ec = Tokens.ec("e1");
    jwks = new JwksServer();
    jwks.serve(Tokens.keys(rsa, ec));
    clock = new MutableClock(Instant.now());
    gw = GatewayFixture.start(settings(jwks.url()), null, null, clock);
  }

  static Map<String, String> settings(String url) {
    return Map.of(
        "jwt.issuer",
        Tokens.ISSUER,
        "jwt.audience",
        Tokens.AUDIENCE,
        "jwt.jwks_url",
        url,
        "jwt.tiers",
        "small max_output_tokens=16");
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
    jwks.serve(Tokens.keys(rsa, ec));
    gw.upstream.reset();
    clock.advance(Duration.ofSeconds(31)); // each test may fetch the key set once more
  }

  HttpResponse<String> chat(String token) throws Exception {
    return gw.post("/v1/chat/completions", token, CHAT);
  }

  /** The answer to a bad key, and nothing reached the upstream. */
  void refused(String token) throws Exception {
    HttpResponse<String> r = chat(token);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(r.body()).contains("auth.key_invalid").contains("missing or invalid API key");
    HttpResponse<String> bad = chat("gk_notarealkey");
    assertThat(r.body().replaceAll("\"request_id\":\"[^\"]*\"", ""))
        .as("the same answer as a bad key")
        .isEqualTo(bad.body().replaceAll("\"request_id\":\"[^\"]*\"", ""));
    assertThat(gw.upstream.requests()).as("nothing reached the upstream").isEmpty();
  }

  // The basic promise: a token signed by the provider's RSA key is served, as a key would be.
  @Test
  void validRsaTokenIsServed() throws Exception {
    String token = Tokens.sign(rsa, Tokens.claims("alice").build());
    HttpResponse<String> r = chat(token);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(gw.upstream.requests()).hasSize(1);
    assertThat(gw.upstream.requests().get(0).headers().get("Authorization"))
        .as("the token is not forwarded")
        .isNull();
    // named like a key in the audit log: jwt:<sub>, and the readable name
    JsonNode record = auditRecord(r);
    assertThat(record.path("key_id").asText()).isEqualTo("jwt:alice");
    assertThat(record.path("key_name").asText()).isEqualTo("alice-name");
    assertThat(record.path("decision").asText()).isEqualTo("allow");
  }

  // A refused token's audit record says auth.key_invalid and names no principal.
  @Test
  void refusedTokenIsAuditedAsABadKey() throws Exception {
    HttpResponse<String> r = chat(Tokens.sign(rsa, Tokens.claims("alice").issuer("x").build()));
    JsonNode record = auditRecord(r);
    assertThat(record.path("reason").asText()).isEqualTo("auth.key_invalid");
    assertThat(record.path("key_id").isNull()).isTrue();
  }

  // Issue 14: a bad key and a refused JWT get byte-identical answers; only the audit record's
  // detail (never the credential) says which check failed.
  @Test
  void refusedCredentialsAreAnsweredAlikeAndAuditedWithTheirDetail() throws Exception {
    String secret = "S3cretS3cretS3cretS3cretS3cretS3cretS3cr";
    String key = "gk_abcdefghijkl_" + secret; // well-formed, unknown id
    Instant past = Instant.now().minus(Duration.ofMinutes(5));
    String expired =
        Tokens.sign(rsa, Tokens.claims("alice").expirationTime(Date.from(past)).build());
    String wrongIssuer =
        Tokens.sign(rsa, Tokens.claims("alice").issuer("https://evil.test/").build());
    HttpResponse<String> k = chat(key);
    HttpResponse<String> e = chat(expired);
    HttpResponse<String> i = chat(wrongIssuer);
    String body = k.body().replaceAll("\"request_id\":\"[^\"]*\"", "");
    for (HttpResponse<String> r : List.of(k, e, i)) {
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(r.body().replaceAll("\"request_id\":\"[^\"]*\"", ""))
          .as("the same answer whichever check failed")
          .isEqualTo(body);
      assertThat(r.body()).doesNotContain("JWT").doesNotContain("unknown");
      JsonNode rec = auditRecord(r);
      assertThat(rec.path("status").asInt()).isEqualTo(401);
      assertThat(rec.path("reason").asText()).isEqualTo("auth.key_invalid");
    }
    assertThat(auditRecord(k).path("detail").asText()).isEqualTo("unknown key id abcdefghijkl");
    assertThat(auditRecord(e).path("detail").asText()).startsWith("JWT: ").contains("Expired");
    assertThat(auditRecord(i).path("detail").asText()).startsWith("JWT: ").contains("iss");
    // never the credential: not the key's secret, not the token nor any part of it
    String log = Files.readString(gw.dataDir.resolve(AuditWriter.FILE));
    assertThat(log).doesNotContain(secret);
    for (String token : List.of(expired, wrongIssuer)) {
      for (String part : token.split("\\.")) {
        assertThat(log).doesNotContain(part);
      }
    }
    assertThat(gw.upstream.requests()).isEmpty();
  }

  /** The audit record of a response, read from the file once its response has arrived. */
  static JsonNode auditRecord(HttpResponse<String> r) throws Exception {
    String id = r.headers().firstValue("X-Request-Id").orElseThrow();
    for (String line : Files.readAllLines(gw.dataDir.resolve(AuditWriter.FILE))) {
      JsonNode n = JSON.readTree(line);
      if (n.path("request_id").asText().equals(id)) {
        return n;
      }
    }
    throw new AssertionError("no audit record for " + id);
  }

  // EC keys (ES256) work the same.
  @Test
  void validEcTokenIsServed() throws Exception {
    HttpResponse<String> r = chat(Tokens.sign(ec, Tokens.claims("bob").build()));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  // exp in the past (beyond the 60s skew).
  @Test
  void expiredTokenIsRefused() throws Exception {
    Instant past = Instant.now().minus(Duration.ofMinutes(5));
    refused(Tokens.sign(rsa, Tokens.claims("alice").expirationTime(Date.from(past)).build()));
  }

  // nbf in the future (beyond the 60s skew).
  @Test
  void notYetValidTokenIsRefused() throws Exception {
    Instant later = Instant.now().plus(Duration.ofMinutes(5));
    refused(Tokens.sign(rsa, Tokens.claims("alice").notBeforeTime(Date.from(later)).build()));
  }

  // A token without exp never expires: refused.
  @Test
  void tokenWithoutExpiryIsRefused() throws Exception {
    refused(Tokens.sign(rsa, Tokens.claims("alice").expirationTime(null).build()));
  }

  // A token the provider issued for another application.
  @Test
  void wrongAudienceIsRefused() throws Exception {
    refused(Tokens.sign(rsa, Tokens.claims("alice").audience("another-app").build()));
  }

  // A token from another issuer, even one signed by a key in the set.
  @Test
  void wrongIssuerIsRefused() throws Exception {
    refused(Tokens.sign(rsa, Tokens.claims("alice").issuer("https://evil.test/").build()));
  }

  // alg none: no signature at all.
  @Test
  void unsignedTokenIsRefused() throws Exception {
    refused(Tokens.unsigned(Tokens.claims("alice").build()));
  }

  // RS/HS confusion: HS256 "signed" with the RSA public key's bytes as the secret.
  @Test
  void hmacWithThePublicKeyIsRefused() throws Exception {
    refused(Tokens.hs256WithPublicKey(rsa, Tokens.claims("alice").build()));
  }

  // A signature that does not match: changed bytes, and a right kid with another key's signature.
  @Test
  void badSignatureIsRefused() throws Exception {
    refused(Tokens.tampered(Tokens.sign(rsa, Tokens.claims("alice").build())));
    RSAKey impostor = new RSAKey.Builder(Tokens.rsa("r1")).keyID("r1").build();
    refused(Tokens.sign(impostor, Tokens.claims("alice").build()));
  }

  // An unknown kid makes the gateway fetch the set again (once), then refuses the token.
  @Test
  void unknownKidIsFetchedOnceThenRefused() throws Exception {
    int before = jwks.fetches();
    refused(Tokens.sign(Tokens.rsa("nobody"), Tokens.claims("alice").build()));
    assertThat(jwks.fetches()).as("one re-fetch").isEqualTo(before + 1);
    // a second unknown kid within jwt.jwks_min_refetch does not fetch again
    refused(Tokens.sign(Tokens.rsa("nobody-else"), Tokens.claims("alice").build()));
    assertThat(jwks.fetches()).as("re-fetch is rate-limited").isEqualTo(before + 1);
  }

  // Rotation: the provider adds a key; tokens signed with it work after the re-fetch, old ones
  // keep working until the provider removes the old key and the set is fetched again.
  @Test
  void keyRotation() throws Exception {
    RSAKey next = Tokens.rsa("r2");
    String oldToken = Tokens.sign(rsa, Tokens.claims("alice").build());
    String newToken = Tokens.sign(next, Tokens.claims("alice").build());
    jwks.serve(Tokens.keys(rsa, next, ec));
    HttpResponse<String> first = chat(newToken);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(chat(oldToken).statusCode()).isEqualTo(200);
    jwks.serve(Tokens.keys(next, ec));
    int before = jwks.fetches();
    clock.advance(Duration.ofMinutes(6)); // past jwt.jwks_refresh: the next request fetches again
    assertThat(chat(newToken).statusCode()).isEqualTo(200);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (jwks.fetches() == before && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    Thread.sleep(200); // the fetched set replaces the cache just after the server answered
    gw.upstream.reset();
    refused(oldToken);
    assertThat(chat(newToken).statusCode()).isEqualTo(200);
  }

  // A JWT principal goes through the same policy as a key: no Gatehouse scope, no operation (403),
  // and the models claim is an allowlist.
  @Test
  void claimsMapToScopesAndModels() throws Exception {
    HttpResponse<String> noScope =
        chat(Tokens.sign(rsa, Tokens.claims("carol").claim("scope", "openid profile").build()));
    assertThat(noScope.statusCode()).as(noScope.body()).isEqualTo(403);
    HttpResponse<String> otherModel =
        chat(
            Tokens.sign(
                rsa, Tokens.claims("carol").claim("gatehouse_models", List.of("qwen*")).build()));
    assertThat(otherModel.statusCode()).as(otherModel.body()).isEqualTo(403);
    assertThat(gw.upstream.requests()).isEmpty();
  }

  // A tier not configured, or a claim of the wrong type, refuses the token rather than guessing.
  @Test
  void unknownTierOrMalformedClaimIsRefused() throws Exception {
    refused(Tokens.sign(rsa, Tokens.claims("dave").claim("gatehouse_tier", "platinum").build()));
    refused(Tokens.sign(rsa, Tokens.claims("dave").claim("gatehouse_models", 42).build()));
    refused(Tokens.sign(rsa, Tokens.claims("dave").claim("gatehouse_models", List.of()).build()));
  }

  // A configured tier's limits become the principal's own: max_output_tokens=16 clamps
  // the request's output cap.
  @Test
  void tierLimitsApply() throws Exception {
    String token = Tokens.sign(rsa, Tokens.claims("erin").claim("gatehouse_tier", "small").build());
    HttpResponse<String> r =
        gw.post(
            "/v1/chat/completions",
            token,
            "{\"model\":\"llama3.2:3b\",\"max_tokens\":1000,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    // caps.mode clamp (the default): the tier's cap replaces the request's
    assertThat(gw.upstream.requests().get(0).body()).contains("\"max_tokens\":16");
  }

  // API keys keep working beside JWTs.
  @Test
  void apiKeysStillWork() throws Exception {
    assertThat(chat(gw.newKey()).statusCode()).isEqualTo(200);
  }

  // Garbage that looks like a JWT is an invalid key, nothing more.
  @Test
  void malformedTokenIsRefused() throws Exception {
    refused("abc.def.ghi");
    refused("eyJhbGciOiJSUzI1NiJ9.e30.");
  }
}

package dev.gatehouse.identify.cert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.TestCa;
import dev.gatehouse.tls.SelfSigned;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * mTLS through the public listener, over HTTP/1.1 and HTTP/2: certificates made here by a test CA,
 * a listener with {@code tls.client_auth: optional} and one with {@code required}. Every refused
 * request never reaches the upstream.
 */
class MtlsListenerTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  static Path dir;
  static X509Certificate serverCert;
  static TestCa ca;
  static TestCa other;
  static TestCa.Issued valid;
  static TestCa.Issued expired;
  static TestCa.Issued revoked;
  static TestCa.Issued foreign;
  static TestCa.Issued unmapped;
  static TestCa.Issued alice;
  static GatewayFixture optional;
  static GatewayFixture required;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("gh-mtls");
    SelfSigned.write(
        List.of("localhost", "127.0.0.1"),
        Duration.ofDays(1),
        dir.resolve("cert.pem"),
        dir.resolve("key.pem"));
    try (InputStream in = Files.newInputStream(dir.resolve("cert.pem"))) {
      serverCert =
          (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    ca = new TestCa("clients");
    other = new TestCa("clients"); // the same name, another key: only the signature tells
    Instant now = Instant.now();
    valid = ca.issue("CN=ci-runner,O=Example", List.of("dns:ci.example.com"), Duration.ofDays(7));
    expired =
        ca.issue(
            "CN=ci-runner,O=Example",
            List.of("dns:ci.example.com"),
            now.minus(Duration.ofDays(10)),
            now.minus(Duration.ofDays(1)));
    revoked = ca.issue("CN=ci-runner,O=Example", List.of("dns:ci.example.com"), Duration.ofDays(7));
    ca.revoke(revoked.cert());
    foreign =
        other.issue("CN=ci-runner,O=Example", List.of("dns:ci.example.com"), Duration.ofDays(7));
    unmapped = ca.issue("CN=stranger,O=Example", List.of("dns:x.example.com"), Duration.ofDays(7));
    alice =
        ca.issue(
            "CN=Alice Example,O=Example", List.of("email:alice@example.com"), Duration.ofDays(7));
    TestCa.pem(dir.resolve("ca.pem"), ca.cert);
    TestCa.pem(dir.resolve("crl.pem"), ca.crl());
    Path yaml = dir.resolve("gatehouse.yaml");
    Files.writeString(
        yaml,
        """
        tls:
          client_principals:
            - "dns=ci.example.com scopes=inference,models.read models=llama3.2:*"
            - "email=alice@example.com scopes=models.read"
        """);
    optional = GatewayFixture.startWithFile(yaml, settings("optional", dir));
    // the required listener has certificate files of its own, which one test renews
    Path own = Files.createDirectories(dir.resolve("required"));
    Files.copy(dir.resolve("cert.pem"), own.resolve("cert.pem"));
    Files.copy(dir.resolve("key.pem"), own.resolve("key.pem"));
    Map<String, String> req = new java.util.HashMap<>(settings("required", own));
    req.put("tls.reload_interval", "200ms");
    required = GatewayFixture.startWithFile(yaml, req);
    key = optional.newKey();
  }

  private static Map<String, String> settings(String mode, Path certs) {
    return Map.of(
        "tls.cert", certs.resolve("cert.pem").toString(),
        "tls.key", certs.resolve("key.pem").toString(),
        "tls.client_auth", mode,
        "tls.client_ca", dir.resolve("ca.pem").toString(),
        "tls.client_crl", dir.resolve("crl.pem").toString());
  }

  @AfterAll
  static void stop() {
    optional.close();
    required.close();
  }

  @BeforeEach
  void reset() {
    optional.upstream.reset();
    required.upstream.reset();
  }

  /** The server certificate of the required listener after a renewal, once there was one. */
  static @Nullable X509Certificate renewed;

  private static HttpResponse<String> send(
      GatewayFixture gw,
      HttpClient.Version version,
      TestCa.@Nullable Issued cert,
      String path,
      @Nullable String apiKey,
      @Nullable String body)
      throws Exception {
    HttpClient c =
        HttpClient.newBuilder()
            .sslContext(
                renewed == null
                    ? TestCa.clientContext(cert, serverCert)
                    : TestCa.clientContext(cert, serverCert, renewed))
            .version(version)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(gw.baseUrl() + path)).timeout(Duration.ofSeconds(10));
    if (apiKey != null) {
      b.header("Authorization", "Bearer " + apiKey);
    }
    if (body != null) {
      b.POST(HttpRequest.BodyPublishers.ofString(body));
    }
    try {
      return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } finally {
      c.close();
    }
  }

  private static JsonNode auditOf(GatewayFixture gw, HttpResponse<String> r) throws Exception {
    String id = r.headers().firstValue("X-Request-Id").orElseThrow();
    for (String line : Files.readAllLines(gw.dataDir.resolve(AuditWriter.FILE))) {
      JsonNode n = JSON.readTree(line);
      if (n.path("request_id").asText().equals(id)) {
        return n;
      }
    }
    throw new AssertionError("no audit record for " + id);
  }

  private static final String CHAT =
      "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  @ParameterizedTest
  @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
  void aMappedCertificateWithoutAKeyIsThePrincipal(HttpClient.Version v) throws Exception {
    // why: the issue's valid certificate, served; named cert:<SAN> in the audit log like a key
    HttpResponse<String> ok = send(optional, v, valid, "/api/chat", null, CHAT);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.version()).isEqualTo(v);
    assertThat(optional.upstream.requests()).hasSize(1);
    JsonNode a = auditOf(optional, ok);
    assertThat(a.path("key_id").asText()).isEqualTo("cert:ci.example.com");
    assertThat(a.path("key_name").asText()).isEqualTo("CN=ci-runner,O=Example");

    // the mapping's grants hold: a model outside its allowlist is refused before the upstream
    optional.upstream.reset();
    HttpResponse<String> model =
        send(optional, v, valid, "/api/chat", null, CHAT.replace("llama3.2:3b", "qwen2.5:7b"));
    assertThat(model.statusCode()).isEqualTo(403);
    // and so do its scopes: alice may list models but not chat
    HttpResponse<String> scope = send(optional, v, alice, "/api/chat", null, CHAT);
    assertThat(scope.statusCode()).isEqualTo(403);
    HttpResponse<String> tags = send(optional, v, alice, "/api/tags", null, null);
    assertThat(tags.statusCode()).isEqualTo(200);
    // the principal is named by the SAN that matched; the DN (with its space) is the readable name
    JsonNode b = auditOf(optional, tags);
    assertThat(b.path("key_id").asText()).isEqualTo("cert:alice@example.com");
    assertThat(b.path("key_name").asText()).isEqualTo("CN=Alice Example,O=Example");
    assertThat(optional.upstream.requests()).hasSize(1); // only the model list
  }

  @ParameterizedTest
  @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
  void aKeyWinsOverTheCertificate(HttpClient.Version v) throws Exception {
    // why: a request with a key is identified by the key, whatever its connection presented
    HttpResponse<String> r = send(optional, v, valid, "/api/tags", key, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(auditOf(optional, r).path("key_id").asText()).doesNotStartWith("cert:");
    // and a bad key is not rescued by a good certificate
    HttpResponse<String> bad =
        send(optional, v, valid, "/api/tags", "gk_notarealkeynotarealkeynotarealkey", null);
    assertThat(bad.statusCode()).isEqualTo(401);
  }

  @ParameterizedTest
  @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
  void aVerifiedCertificateThatMapsToNobodyGetsTheBadKeyAnswer(HttpClient.Version v)
      throws Exception {
    // why: the same 401 as a bad key, no hint that the certificate was fine but unmapped
    HttpResponse<String> r = send(optional, v, unmapped, "/api/chat", null, CHAT);
    HttpResponse<String> badKey =
        send(optional, v, null, "/api/chat", "gk_notarealkeynotarealkeynotarealkey", CHAT);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body().replaceAll("\"request_id\":\"[0-9a-f]+\"", ""))
        .isEqualTo(badKey.body().replaceAll("\"request_id\":\"[0-9a-f]+\"", ""));
    assertThat(r.headers().map()).containsOnlyKeys(badKey.headers().map().keySet());
    assertThat(auditOf(optional, r).path("reason").asText()).isEqualTo("auth.key_invalid");
    // issue 14: only the audit record says which check failed
    assertThat(auditOf(optional, r).path("detail").asText())
        .isEqualTo(
            "client certificate CN=stranger,O=Example matches no tls.client_principals line");
    assertThat(auditOf(optional, badKey).path("reason").asText()).isEqualTo("auth.key_invalid");
    assertThat(auditOf(optional, badKey).path("detail").asText()).isEqualTo("malformed key");
    assertThat(optional.upstream.requests()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
  void expiredForeignAndRevokedCertificatesFailTheHandshake(HttpClient.Version v) throws Exception {
    // why: the issue's three refusals; each is the TLS engine's, so no request is even read
    for (TestCa.Issued bad : List.of(expired, foreign, revoked)) {
      for (GatewayFixture gw : List.of(optional, required)) {
        assertThatThrownBy(() -> send(gw, v, bad, "/api/chat", key, CHAT))
            .as(bad.cert().getSerialNumber() + " on " + gw.config.tls().clients().auth())
            .isInstanceOf(IOException.class);
      }
    }
    assertThat(optional.upstream.requests()).isEmpty();
    assertThat(required.upstream.requests()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(names = {"HTTP_1_1", "HTTP_2"})
  void requiredRefusesAConnectionWithoutACertificateEvenWithAKey(HttpClient.Version v)
      throws Exception {
    // why: required is a transport check in front of every credential
    String requiredKey = required.newKey();
    assertThatThrownBy(() -> send(required, v, null, "/api/tags", requiredKey, null))
        .isInstanceOf(IOException.class);
    assertThat(required.upstream.requests()).isEmpty();
    // while optional serves it with the key alone, as before mTLS
    assertThat(send(optional, v, null, "/api/tags", key, null).statusCode()).isEqualTo(200);
    // and required serves a valid certificate with a key, as the key
    HttpResponse<String> both = send(required, v, valid, "/api/tags", requiredKey, null);
    assertThat(both.statusCode()).isEqualTo(200);
    assertThat(both.version()).isEqualTo(v);
  }

  @org.junit.jupiter.api.Test
  void aRenewedServerCertificateKeepsTheClientCheck() throws Exception {
    // why: a certificate reload swaps the listener's TLS options; options without the client CA
    // would silently stop asking for client certificates (fail open)
    Path own = dir.resolve("required");
    Path next = Files.createTempDirectory("gh-mtls-next");
    SelfSigned.Result second =
        SelfSigned.write(
            List.of("localhost", "127.0.0.1"),
            Duration.ofDays(2),
            next.resolve("cert.pem"),
            next.resolve("key.pem"));
    try (InputStream in = Files.newInputStream(next.resolve("cert.pem"))) {
      renewed = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    Files.copy(
        next.resolve("key.pem"),
        own.resolve("key.pem"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.copy(
        next.resolve("cert.pem"),
        own.resolve("cert.pem"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    javax.net.ssl.SSLContext ctx = TestCa.clientContext(valid, serverCert, renewed);
    String seen = null;
    for (int i = 0; i < 50 && !second.sha256Fingerprint().equals(seen); i++) {
      Thread.sleep(100);
      try (javax.net.ssl.SSLSocket s =
          (javax.net.ssl.SSLSocket)
              ctx.getSocketFactory().createSocket("127.0.0.1", required.port())) {
        s.startHandshake();
        seen = SelfSigned.fingerprint(s.getSession().getPeerCertificates()[0].getEncoded());
      }
    }
    assertThat(seen).as("the renewed certificate is served").isEqualTo(second.sha256Fingerprint());
    String requiredKey = required.newKey();
    for (HttpClient.Version v : List.of(HttpClient.Version.HTTP_1_1, HttpClient.Version.HTTP_2)) {
      assertThatThrownBy(() -> send(required, v, null, "/api/tags", requiredKey, null))
          .isInstanceOf(IOException.class);
      assertThatThrownBy(() -> send(required, v, revoked, "/api/tags", requiredKey, null))
          .isInstanceOf(IOException.class);
      assertThat(send(required, v, valid, "/api/tags", null, null).statusCode()).isEqualTo(200);
    }
    assertThat(required.upstream.requests()).hasSize(2);
  }
}

package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayProcess;
import dev.gatehouse.testing.TestCa;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway in front of an https upstream whose certificate comes from a private CA: served when
 * the operator adds that CA to the JVM's trust store (what docs/upstreams.md says to do, through
 * {@code GATEHOUSE_JAVA_OPTS}), refused with a 502 before any byte reaches the upstream when not.
 * Two real gateway processes and a real TLS upstream.
 */
class HttpsUpstreamTest {

  @TempDir Path dir;

  private static final String CHAT =
      "{\"model\":\"llama3.2:3b\",\"stream\":false,"
          + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  @Test
  void anHttpsUpstreamIsServedOnlyWhenItsCertificateIsTrusted() throws Exception {
    TestCa ca = new TestCa("upstreams");
    TestCa.Issued cert =
        ca.issueServer("CN=localhost", List.of("dns:localhost"), Duration.ofDays(1));
    Path certFile = TestCa.pem(dir.resolve("cert.pem"), cert.cert());
    Path keyFile = TestCa.pem(dir.resolve("key.pem"), cert.key());
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("upstreams", ca.cert);
    Path trustFile = dir.resolve("trust.p12");
    try (OutputStream out = Files.newOutputStream(trustFile)) {
      trust.store(out, "changeit".toCharArray());
    }
    try (FakeUpstream up =
        new FakeUpstream(
            new HttpServerOptions()
                .setSsl(true)
                .setKeyCertOptions(
                    new PemKeyCertOptions()
                        .setCertPath(certFile.toString())
                        .setKeyPath(keyFile.toString())))) {
      Map<String, String> env =
          Map.of("GATEHOUSE_UPSTREAM", up.url(), "GATEHOUSE_HEALTH_INTERVAL", "0s");
      // why: the operator added the CA to the JVM's trust store
      try (GatewayProcess gw =
          GatewayProcess.start(
              null,
              Files.createDirectories(dir.resolve("trusting")),
              env,
              List.of(),
              List.of(
                  "-Djavax.net.ssl.trustStore=" + trustFile,
                  "-Djavax.net.ssl.trustStorePassword=changeit",
                  "-Djavax.net.ssl.trustStoreType=PKCS12"))) {
        HttpResponse<String> resp = chat(gw);
        assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
        List<FakeUpstream.Recorded> chats =
            up.requests().stream().filter(r -> r.uri().equals("/api/chat")).toList();
        assertThat(chats).hasSize(1);
        assertThat(chats.get(0).headers().get("Host")).isEqualTo("localhost:" + up.port());
      }
      up.reset();
      // why: without it, the upstream's certificate is from no root the JVM trusts
      try (GatewayProcess gw =
          GatewayProcess.start(null, Files.createDirectories(dir.resolve("default")), env)) {
        HttpResponse<String> resp = chat(gw);
        assertThat(resp.statusCode()).as(resp.body()).isEqualTo(502);
        assertThat(up.requests()).as("nothing reached the upstream").isEmpty();
      }
    }
  }

  private static HttpResponse<String> chat(GatewayProcess gw) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/api/chat"))
                .header("Authorization", "Bearer " + gw.firstKey())
                .POST(HttpRequest.BodyPublishers.ofString(CHAT))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }
}

package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.tls.SelfSigned;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** HTTPS with PEM files, HTTP/2, HSTS, the redirect-only listener and live certificate reload. */
class TlsListenerTest {

  static Path dir;
  static GatewayFixture gw;
  static String key;
  static SelfSigned.Result first;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("gh-tls");
    first =
        SelfSigned.write(
            List.of("localhost", "127.0.0.1"),
            Duration.ofDays(1),
            dir.resolve("cert.pem"),
            dir.resolve("key.pem"));
    gw =
        GatewayFixture.start(
            Map.of(
                "tls.cert",
                dir.resolve("cert.pem").toString(),
                "tls.key",
                dir.resolve("key.pem").toString(),
                "tls.redirect_listen",
                "127.0.0.1:0",
                "tls.reload_interval",
                "200ms"));
    key = gw.newKey();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  /** An SSL context that trusts exactly the given PEM certificates. */
  static SSLContext trusting(Path... certs) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    int i = 0;
    for (Path p : certs) {
      try (var in = Files.newInputStream(p)) {
        ks.setCertificateEntry(
            "c" + i++, CertificateFactory.getInstance("X.509").generateCertificate(in));
      }
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  @Test
  void servesHttp2OverTlsWithHstsAndStreams() throws Exception {
    // why: h2 over TLS is what browsers and many SDKs negotiate; HSTS pins clients to HTTPS
    HttpClient c =
        HttpClient.newBuilder()
            .sslContext(trusting(dir.resolve("cert.pem")))
            .version(HttpClient.Version.HTTP_2)
            .build();
    HttpResponse<String> tags =
        c.send(
            HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/api/tags"))
                .header("Authorization", "Bearer " + key)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(tags.statusCode()).isEqualTo(200);
    assertThat(tags.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(tags.headers().firstValue("strict-transport-security")).contains("max-age=31536000");
    HttpResponse<java.util.stream.Stream<String>> stream =
        c.send(
            HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/api/chat"))
                .header("Authorization", "Bearer " + key)
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"llama3.2:3b\",\"messages\":[]}"))
                .build(),
            HttpResponse.BodyHandlers.ofLines());
    assertThat(stream.version()).isEqualTo(HttpClient.Version.HTTP_2);
    List<String> lines = stream.body().toList();
    assertThat(lines).hasSize(6);
    assertThat(lines.get(5)).contains("\"done\":true");
    HttpResponse<String> denied =
        c.send(
            HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/api/tags")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(denied.statusCode()).isEqualTo(401);
  }

  @Test
  void thePlainListenerOnlyRedirectsToHttps() throws Exception {
    // why: a client that forgets https must be sent there, never served in clear text
    gw.upstream.reset();
    HttpClient plain = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    HttpResponse<String> r =
        plain.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + gw.redirectPort() + "/api/tags?x=1"))
                .header("Authorization", "Bearer " + key)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(308);
    assertThat(r.headers().firstValue("location"))
        .contains("https://127.0.0.1:" + gw.port() + "/api/tags?x=1");
    assertThat(gw.upstream.requests()).isEmpty();
  }

  @Test
  void thePlainListenerAnswersForeignBytesInGatehousesFormat() throws Exception {
    // why: it had none of the gateway listener's framing check: a TLS ClientHello, an SSH banner or
    // an RTSP probe on the redirect port got Netty's and Vert.x's answers (an empty HTTP/1.0 400,
    // RTSP/1.0 501), which tell a scanner what the server is built on
    for (String probe :
        List.of(
            "\u0016\u0003\u0001\u0000\u006e\u0001\u0000\u0000\u006a\u0003\u0003",
            "SSH-2.0-OpenSSH_9.6\r\n",
            "OPTIONS rtsp://127.0.0.1/ RTSP/1.0\r\nCSeq: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")) {
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", gw.redirectPort())) {
        s.setSoTimeout(5000);
        s.getOutputStream().write(probe.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        String text =
            new String(
                s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(text).as(probe).startsWith("HTTP/1.1 400 ");
        assertThat(text).containsPattern("(?im)^x-request-id: [0-9a-f]{16}$");
        assertThat(text).contains("request.framing_invalid");
      }
    }
  }

  @Test
  void changedCertificateFilesAreServedToNewConnectionsWithoutDroppingOpenOnes() throws Exception {
    // why: certificate renewal must not need a restart or cut a running generation
    SSLContext both = trusting(dir.resolve("cert.pem"));
    Path next = Files.createTempDirectory("gh-tls-next");
    SelfSigned.Result second =
        SelfSigned.write(
            List.of("127.0.0.1"),
            Duration.ofDays(2),
            next.resolve("cert.pem"),
            next.resolve("key.pem"));
    both = trusting(dir.resolve("cert.pem"), next.resolve("cert.pem"));

    try (SSLSocket old = (SSLSocket) both.getSocketFactory().createSocket("127.0.0.1", gw.port())) {
      old.setEnabledProtocols(new String[] {"TLSv1.3"});
      old.startHandshake();
      assertThat(fingerprint(old)).isEqualTo(first.sha256Fingerprint());
      assertThat(healthz(old)).isEqualTo(200);

      // A broken certificate file is ignored: the listener keeps serving the old one.
      Files.writeString(
          dir.resolve("cert.pem.broken"),
          "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
      // Install the new pair (key first, then certificate, as a renewal tool would).
      Files.copy(
          next.resolve("key.pem"), dir.resolve("key.pem"), StandardCopyOption.REPLACE_EXISTING);
      Files.copy(
          next.resolve("cert.pem"), dir.resolve("cert.pem"), StandardCopyOption.REPLACE_EXISTING);

      String seen = null;
      for (int i = 0; i < 50 && !second.sha256Fingerprint().equals(seen); i++) {
        Thread.sleep(100);
        try (SSLSocket fresh =
            (SSLSocket) both.getSocketFactory().createSocket("127.0.0.1", gw.port())) {
          fresh.startHandshake();
          seen = fingerprint(fresh);
        }
      }
      assertThat(seen)
          .as("new connections get the new certificate")
          .isEqualTo(second.sha256Fingerprint());
      assertThat(healthz(old)).as("the open connection keeps working").isEqualTo(200);
      assertThat(fingerprint(old)).isEqualTo(first.sha256Fingerprint());
    }
  }

  private static String fingerprint(SSLSocket s) throws Exception {
    Certificate[] chain = s.getSession().getPeerCertificates();
    return SelfSigned.fingerprint(chain[0].getEncoded());
  }

  /** One keep-alive GET /healthz on an open connection; returns the status. */
  private static int healthz(SSLSocket s) throws Exception {
    s.getOutputStream()
        .write(
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    String status = in.readLine();
    int length = 0;
    for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
      if (h.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(h.substring(15).trim());
      }
    }
    in.skip(length);
    return Integer.parseInt(status.substring(9, 12));
  }
}

package dev.gatehouse.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayFixture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tls.profile}: which versions and suites the listener offers, checked with the JDK's own
 * client per suite, and once the way an auditor would, with Debian's {@code testssl.sh} against a
 * real {@code gatehouse serve} process.
 */
class TlsProfileTest {

  private static final Pattern LISTENING =
      Pattern.compile("listening on https://127\\.0\\.0\\.1:(\\d+)");

  /** testssl severities at or above LOW fail the profile; OK, INFO and WARN (tool notes) do not. */
  private static final List<String> FAILING = List.of("LOW", "MEDIUM", "HIGH", "CRITICAL");

  @TempDir Path dir;

  @Test
  void intermediateOffersAeadWithForwardSecrecyAndNothingOlder() throws Exception {
    SelfSigned.write(
        List.of("127.0.0.1"), Duration.ofDays(1), dir.resolve("cert.pem"), dir.resolve("key.pem"));
    try (GatewayFixture gw = GatewayFixture.start(tls(Map.of()))) {
      // why: the suites Mozilla's intermediate profile keeps: ECDHE + AEAD in 1.2, all of 1.3
      assertThat(handshake(gw.port(), "TLSv1.3", "TLS_AES_128_GCM_SHA256"))
          .isEqualTo("TLS_AES_128_GCM_SHA256");
      assertThat(handshake(gw.port(), "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"))
          .isEqualTo("TLS_CHACHA20_POLY1305_SHA256");
      assertThat(handshake(gw.port(), "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"))
          .isEqualTo("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
      assertThat(handshake(gw.port(), "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"))
          .isEqualTo("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
      // why: the CBC suites the JDK offers by default (LUCKY13), each refused
      for (String cbc :
          List.of(
              "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
              "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
              "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
              "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA")) {
        assertThatThrownBy(() -> handshake(gw.port(), "TLSv1.2", cbc))
            .as(cbc)
            .isInstanceOf(SSLHandshakeException.class);
      }
      // why: TLS 1.0 and 1.1 stay off
      assertThatThrownBy(
              () -> handshake(gw.port(), "TLSv1.1", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"))
          .isInstanceOf(IOException.class);
      assertThat(gw.upstream.requests()).isEmpty();
    }
  }

  @Test
  void modernIsTls13Only() throws Exception {
    SelfSigned.write(
        List.of("127.0.0.1"), Duration.ofDays(1), dir.resolve("cert.pem"), dir.resolve("key.pem"));
    try (GatewayFixture gw = GatewayFixture.start(tls(Map.of("tls.profile", "modern")))) {
      assertThat(handshake(gw.port(), "TLSv1.3", "TLS_AES_256_GCM_SHA384"))
          .isEqualTo("TLS_AES_256_GCM_SHA384");
      // why: modern drops TLS 1.2 altogether, even its best suite
      assertThatThrownBy(
              () -> handshake(gw.port(), "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"))
          .isInstanceOf(SSLHandshakeException.class);
    }
  }

  @Test
  void anUnknownProfileIsAConfigError() {
    // why: a typo must not silently fall back to the JDK's wider defaults
    assertThatThrownBy(() -> GatewayFixture.start(Map.of("tls.profile", "old")))
        .hasMessageContaining("tls.profile: old")
        .hasMessageContaining("(expected: intermediate or modern)");
  }

  @Test
  void testsslFindsNothingAtOrAboveLow() throws Exception {
    Path testssl = Path.of("/usr/bin/testssl");
    assertThat(Files.isExecutable(testssl))
        .as("Debian's testssl.sh (apt-get install testssl.sh); .ci/run installs it")
        .isTrue();
    SelfSigned.write(
        List.of("127.0.0.1"), Duration.ofDays(30), dir.resolve("cert.pem"), dir.resolve("key.pem"));
    try (FakeUpstream upstream = new FakeUpstream()) {
      Process gw = serve(upstream.url());
      try {
        int port = port(gw);
        Path json = dir.resolve("testssl.json");
        // -p protocols, -s cipher categories, -f forward secrecy, -U vulnerabilities (includes
        // client-initiated renegotiation), -R renegotiation on its own.
        Process scan =
            new ProcessBuilder(
                    testssl.toString(),
                    "--quiet",
                    "--color",
                    "0",
                    "--warnings",
                    "batch",
                    "-p",
                    "-s",
                    "-f",
                    "-U",
                    "-R",
                    "--jsonfile",
                    json.toString(),
                    "127.0.0.1:" + port)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("testssl.txt").toFile())
                .start();
        assertThat(scan.waitFor(5, TimeUnit.MINUTES)).as("testssl finished").isTrue();
        JsonNode findings = new ObjectMapper().readTree(json.toFile());
        List<String> bad = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (JsonNode f : findings) {
          ids.add(f.path("id").asText());
          if (FAILING.contains(f.path("severity").asText())) {
            bad.add(
                f.path("id").asText()
                    + " "
                    + f.path("severity").asText()
                    + ": "
                    + f.path("finding").asText());
          }
        }
        // The scan really ran the checks this test is about.
        assertThat(ids)
            .contains(
                "TLS1",
                "TLS1_1",
                "TLS1_2",
                "TLS1_3",
                "cipherlist_AVERAGE",
                "PFS",
                "LUCKY13",
                "secure_client_renego",
                "heartbleed",
                "ROBOT",
                "BEAST",
                "SWEET32");
        assertThat(bad)
            .as(
                "testssl findings at or above LOW:\n"
                    + Files.readString(dir.resolve("testssl.txt")))
            .isEmpty();
        assertThat(upstream.requests()).isEmpty();
      } finally {
        gw.destroyForcibly().waitFor();
      }
    }
  }

  private Map<String, String> tls(Map<String, String> extra) {
    Map<String, String> m = new java.util.HashMap<>(extra);
    m.put("tls.cert", dir.resolve("cert.pem").toString());
    m.put("tls.key", dir.resolve("key.pem").toString());
    return m;
  }

  /** Completes a handshake offering exactly one version and one suite; returns the suite used. */
  private static String handshake(int port, String protocol, String suite) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] {new TrustAll()}, null);
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      s.setEnabledProtocols(new String[] {protocol});
      s.setEnabledCipherSuites(new String[] {suite});
      s.startHandshake();
      return s.getSession().getCipherSuite();
    }
  }

  /** A gateway in its own process, started the way the launcher starts it. */
  private Process serve(String upstream) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb =
        new ProcessBuilder(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            "dev.gatehouse.cli.Main",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            upstream);
    pb.environment().put("GATEHOUSE_HOME", dir.resolve("data").toString());
    pb.environment().put("GATEHOUSE_TLS_CERT", dir.resolve("cert.pem").toString());
    pb.environment().put("GATEHOUSE_TLS_KEY", dir.resolve("key.pem").toString());
    pb.environment().put("GATEHOUSE_ADMIN_LISTEN", "127.0.0.1:0");
    // No periodic health check, so that every request the upstream records came through the
    // listener.
    pb.environment().put("GATEHOUSE_HEALTH_INTERVAL", "0s");
    pb.environment().put("GATEHOUSE_POSTURE_INTERVAL", "0");
    // testssl opens hundreds of connections from loopback: keep it from being banned as a probe.
    pb.environment().put("GATEHOUSE_BANS_NEVER", "127.0.0.0/8,::1");
    pb.environment().put("GATEHOUSE_CONNECTIONS_MAX_PER_IP", "100000");
    pb.redirectErrorStream(true);
    return pb.start();
  }

  private static int port(Process p) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String line;
    while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
      seen.append(line).append('\n');
      Matcher m = LISTENING.matcher(line);
      if (m.find()) {
        Thread drain =
            new Thread(
                () -> {
                  try {
                    while (out.readLine() != null) {
                      // keep the pipe from filling up
                    }
                  } catch (IOException ignored) {
                    // the process is gone
                  }
                });
        drain.setDaemon(true);
        drain.start();
        return Integer.parseInt(m.group(1));
      }
    }
    throw new AssertionError("gateway did not start:\n" + seen);
  }

  /** The certificate is not what these handshakes check. */
  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

    @Override
    public java.security.cert.X509Certificate[] getAcceptedIssuers() {
      return new java.security.cert.X509Certificate[0];
    }
  }
}

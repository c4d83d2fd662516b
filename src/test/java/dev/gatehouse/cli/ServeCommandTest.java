package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.FakeUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code gatehouse serve} as a new user meets it. */
class ServeCommandTest {

  @Test
  void firstStartCreatesOneOrdinaryKeyPrintsItOnceAndItWorks() throws Exception {
    // why: the first run must leave the user with a working key and a curl line, shown once
    Path home = Files.createTempDirectory("gh-serve");
    try (FakeUpstream up = new FakeUpstream()) {
      Map<String, String> env =
          Map.of("GATEHOUSE_HOME", home.toString(), "GATEHOUSE_ADMIN_LISTEN", "127.0.0.1:0");
      CliRun first = CliRun.run(env, "serve", "--listen", "127.0.0.1:0", "--upstream", up.url());
      String key;
      int port;
      try {
        assertThat(first.code()).as(first.err()).isEqualTo(ServeCommand.KEEP_RUNNING);
        Matcher km =
            Pattern.compile("\\n    (gk_[a-z2-7]{12}_[A-Za-z0-9]{40})\\n").matcher(first.out());
        assertThat(km.find()).as(first.out()).isTrue();
        key = km.group(1);
        Matcher pm =
            Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)").matcher(first.out());
        assertThat(pm.find()).isTrue();
        port = Integer.parseInt(pm.group(1));
        assertThat(first.out())
            .contains(
                "curl -H 'Authorization: Bearer "
                    + key
                    + "' http://127.0.0.1:"
                    + port
                    + "/api/tags");
        assertThat(first.out()).contains("OpenAI base URL:  http://127.0.0.1:" + port + "/v1");
        assertThat(first.out()).contains("scopes: inference, embeddings, models.read");
        HttpClient c = HttpClient.newHttpClient();
        HttpResponse<String> r =
            c.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/tags"))
                    .header("Authorization", "Bearer " + key)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        HttpResponse<String> push =
            c.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/push"))
                    .header("Authorization", "Bearer " + key)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"x\"}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(push.statusCode()).as("the first key never has models.manage").isEqualTo(403);
        // the admin listener serves Gatehouse's metrics; the public one never does
        Matcher mm =
            Pattern.compile("Metrics on (http://127\\.0\\.0\\.1:\\d+/metrics) \\(admin listener\\)")
                .matcher(first.out());
        assertThat(mm.find()).as(first.out()).isTrue();
        // the first start printed an admin credential once; /metrics needs it (a viewer's would do)
        Matcher am =
            Pattern.compile("\\n    (gha_[a-z2-7]{12}_[A-Za-z0-9]{40})\\n").matcher(first.out());
        assertThat(am.find()).as(first.out()).isTrue();
        String adminToken = am.group(1);
        assertThat(first.out()).contains("/api/v1/me").contains("Dashboard:");
        assertThat(
                c.send(
                        HttpRequest.newBuilder(URI.create(mm.group(1))).build(),
                        HttpResponse.BodyHandlers.ofString())
                    .statusCode())
            .as("/metrics without a credential")
            .isEqualTo(401);
        HttpResponse<String> metrics =
            c.send(
                HttpRequest.newBuilder(URI.create(mm.group(1)))
                    .header("Authorization", "Bearer " + adminToken)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body())
            .contains(
                "gatehouse_requests_total{key=\""
                    + key.substring(3, 15)
                    + "\",op=\"models.read\",status=\"200\"} 1.0");
        HttpResponse<String> publicMetrics =
            c.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .header("Authorization", "Bearer " + key)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(publicMetrics.statusCode())
            .as("the upstream's /metrics, models.inspect")
            .isEqualTo(403);
        assertThat(publicMetrics.body()).doesNotContain("gatehouse_");
      } finally {
        for (AutoCloseable s : first.servers()) {
          s.close();
        }
      }
      CliRun second = CliRun.run(env, "serve", "--listen", "127.0.0.1:0", "--upstream", up.url());
      try {
        assertThat(second.out()).doesNotContain("gk_").contains("Gatehouse listening on");
        assertThat(second.out()).as("the admin credential is printed once").doesNotContain("gha_");
      } finally {
        for (AutoCloseable s : second.servers()) {
          s.close();
        }
      }
      assertThat(
              Files.readString(
                  home.resolve("gatehouse.db").toAbsolutePath(),
                  java.nio.charset.StandardCharsets.ISO_8859_1))
          .as("only a hash is stored")
          .doesNotContain(key.substring(16));
    }
  }

  @Test
  void refusesAWildcardAddressWithoutTlsAndSaysWhatToAdd() throws Exception {
    // why: an exposed plain-HTTP gateway is exactly the mistake Gatehouse exists to prevent
    Path home = Files.createTempDirectory("gh-serve");
    CliRun r =
        CliRun.run(Map.of("GATEHOUSE_HOME", home.toString()), "serve", "--listen", "0.0.0.0:11435");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("listen: 0.0.0.0:11435 (expected: a loopback address")
        .contains("clear text")
        .contains(
            "  tls:\n        cert: " + home.toAbsolutePath().normalize().resolve("tls/cert.pem"))
        .contains("gatehouse tls self-signed --host");
    assertThat(r.servers()).isEmpty();
    CliRun noAuth =
        CliRun.run(
            Map.of(
                "GATEHOUSE_HOME",
                home.toString(),
                "GATEHOUSE_AUTH_ENABLED",
                "false",
                "GATEHOUSE_TLS_CERT",
                "/nonexistent/cert.pem"),
            "serve",
            "--listen",
            "[::]:11435");
    assertThat(noAuth.code()).isEqualTo(2);
    assertThat(noAuth.err()).contains("auth:\n        enabled: true");
  }
}

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

/** {@code gatehouse bench-relay}: the benchmark's bare relay, which must stay on loopback. */
class BenchRelayCommandTest {

  @Test
  void refusesEveryAddressButLoopbackBeforeStartingAnything() throws Exception {
    Path home = Files.createTempDirectory("gh-bench-relay");
    Map<String, String> env = Map.of("GATEHOUSE_HOME", home.toString());
    // why: a wildcard would expose a relay with no key check, limit or audit to the network
    for (String listen : new String[] {"0.0.0.0:11435", "[::]:11435", "192.0.2.1:11435"}) {
      CliRun r = CliRun.run(env, "bench-relay", "--listen", listen);
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err()).contains("refused (expected: a loopback address");
      assertThat(r.servers()).isEmpty();
    }
    // why: a DNS name could resolve anywhere; only the literal loopback forms pass
    CliRun named = CliRun.run(env, "bench-relay", "--listen", "example.org:11435");
    assertThat(named.code()).isEqualTo(2);
    assertThat(named.servers()).isEmpty();
    // why: nothing was opened in the data directory for a refused start
    try (var files = Files.list(home)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void isHiddenFromHelp() {
    // why: users read the help; a bench-only command with every safeguard off has no place there
    CliRun r = CliRun.run(Map.of(), "--help");
    assertThat(r.out()).contains("serve").doesNotContain("bench-relay");
  }

  @Test
  void relaysARequestToTheUpstreamWithNoKeyAndWarnsLoudly() throws Exception {
    Path home = Files.createTempDirectory("gh-bench-relay");
    try (FakeUpstream up = new FakeUpstream()) {
      CliRun r =
          CliRun.run(
              Map.of("GATEHOUSE_HOME", home.toString()),
              "bench-relay",
              "--listen",
              "127.0.0.1:0",
              "--upstream",
              up.url());
      try {
        assertThat(r.code()).as(r.err()).isEqualTo(ServeCommand.KEEP_RUNNING);
        assertThat(r.err()).contains("WARNING").contains("EVERY SAFEGUARD OFF");
        Matcher pm =
            Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+) -> ").matcher(r.out());
        assertThat(pm.find()).as(r.out()).isTrue();
        int port = Integer.parseInt(pm.group(1));
        HttpResponse<String> resp =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/chat"))
                        .POST(
                            HttpRequest.BodyPublishers.ofString(
                                "{\"model\":\"llama3.2:3b\",\"stream\":false,"
                                    + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                        .header("Content-Type", "application/json")
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
        assertThat(resp.headers().firstValue("X-Request-Id")).isPresent();
        // (the upstream health check's GET / may be there too)
        var chats = up.requests().stream().filter(q -> q.method().equals("POST")).toList();
        assertThat(chats).hasSize(1);
        assertThat(chats.get(0).uri()).isEqualTo("/api/chat");
        assertThat(chats.get(0).body()).contains("llama3.2:3b");
      } finally {
        for (AutoCloseable s : r.servers()) {
          s.close();
        }
      }
    }
  }
}

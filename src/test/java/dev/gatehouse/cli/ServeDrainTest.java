package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayProcess;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gatehouse serve} drains on SIGTERM: a real process, a real signal, a fake upstream that
 * streams slowly. The listener stops accepting at once, a stream in flight runs to its end (or is
 * ended cleanly, in its dialect, at {@code shutdown.grace}), the audit log keeps every record, and
 * the process exits 0.
 */
class ServeDrainTest {

  @TempDir Path dir;

  /** A stream's lines as the client read them, and whether its chunked body ended properly. */
  private record Read(List<String> lines, boolean cleanEnd, String requestId) {}

  // why: the "SIGTERM drains": a stream shorter than the grace completes in full, while
  // a new connection is refused, and the process exits 0 well within the grace
  @Test
  void aStreamInFlightCompletesAndTheProcessExitsZero() throws Exception {
    try (FakeUpstream up = new FakeUpstream().streaming(20, 100);
        GatewayProcess gw = serve(up, "20s")) {
      HttpResponse<InputStream> resp = stream(gw);
      BufferedReader body = reader(resp);
      String first = body.readLine();
      assertThat(first).contains("\"seq\":0");
      long t0 = System.nanoTime();
      gw.sigterm();
      assertRefusedSoon(gw.port());
      Read read = rest(resp, body, first);
      assertThat(read.cleanEnd()).as("the chunked body ended properly").isTrue();
      assertThat(read.lines()).hasSize(21); // 20 chunks and the final done line
      assertThat(read.lines().get(20)).contains("\"done\":true");
      Integer code = gw.waitFor(Duration.ofSeconds(15));
      assertThat(code).as(String.join("\n", gw.output())).isZero();
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(15));
      assertThat(String.join("\n", gw.output())).contains("drained in");
      assertThat(audit()).contains(read.requestId());
    }
  }

  // why: a stream longer than the grace must not keep the process alive, nor be cut mid-line:
  // it ends with an error line in its dialect and a proper end, and its record is written
  @Test
  void aStreamLongerThanTheGraceIsEndedCleanlyAtTheGrace() throws Exception {
    try (FakeUpstream up = new FakeUpstream().streaming(300, 100);
        GatewayProcess gw = serve(up, "1s")) {
      HttpResponse<InputStream> resp = stream(gw);
      BufferedReader body = reader(resp);
      String first = body.readLine();
      assertThat(first).contains("\"seq\":0");
      long t0 = System.nanoTime();
      gw.sigterm();
      Read read = rest(resp, body, first);
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      assertThat(took).isGreaterThan(Duration.ofMillis(900)).isLessThan(Duration.ofSeconds(6));
      assertThat(read.cleanEnd()).as("the chunked body ended properly").isTrue();
      assertThat(read.lines().size()).isBetween(3, 100);
      String last = read.lines().get(read.lines().size() - 1);
      assertThat(last).startsWith("{\"error\":"); // Ollama's dialect: an error object
      for (String line : read.lines().subList(0, read.lines().size() - 1)) {
        assertThat(line).startsWith("{\"model\"").endsWith("}"); // every chunk whole
      }
      Integer code = gw.waitFor(Duration.ofSeconds(10));
      assertThat(code).as(String.join("\n", gw.output())).isZero();
      assertThat(audit()).contains(read.requestId());
    }
  }

  private GatewayProcess serve(FakeUpstream up, String grace) throws Exception {
    Path file = dir.resolve("gatehouse.yaml");
    Files.writeString(file, "shutdown:\n  grace: " + grace + "\n");
    return GatewayProcess.start(
        file,
        dir,
        Map.of(
            "GATEHOUSE_UPSTREAM",
            up.url(),
            "GATEHOUSE_ADMIN_LISTEN",
            "",
            "GATEHOUSE_HEALTH_INTERVAL",
            "0s"));
  }

  private static HttpResponse<InputStream> stream(GatewayProcess gw) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpResponse<InputStream> resp =
        http.send(
            HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/api/chat"))
                .header("Authorization", "Bearer " + gw.firstKey())
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"llama3.2:3b\",\"stream\":true,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertThat(resp.statusCode()).isEqualTo(200);
    return resp;
  }

  private static BufferedReader reader(HttpResponse<InputStream> resp) {
    return new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8));
  }

  /** Reads to the end; an end of the body without its terminating chunk is not clean. */
  private static Read rest(HttpResponse<InputStream> resp, BufferedReader body, String first) {
    List<String> lines = new ArrayList<>(List.of(first));
    boolean clean;
    try {
      String line;
      while ((line = body.readLine()) != null) {
        if (!line.isEmpty()) {
          lines.add(line);
        }
      }
      clean = true;
    } catch (java.io.IOException e) {
      clean = false; // the JDK client reports a chunked body cut short as an IOException
    }
    return new Read(lines, clean, resp.headers().firstValue("X-Request-Id").orElseThrow());
  }

  /** The listener is unbound within a moment of the signal: a new connection is refused. */
  private static void assertRefusedSoon(int port) throws Exception {
    long deadline = System.nanoTime() + 3_000_000_000L;
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      } catch (ConnectException refused) {
        return;
      }
      Thread.sleep(20);
    }
    assertThatThrownBy(
            () -> {
              try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
              }
            })
        .as("a new connection after SIGTERM")
        .isInstanceOf(ConnectException.class);
  }

  private String audit() throws Exception {
    StringBuilder b = new StringBuilder();
    try (var files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".jsonl")).toList()) {
        b.append(Files.readString(f));
      }
    }
    return b.toString();
  }
}

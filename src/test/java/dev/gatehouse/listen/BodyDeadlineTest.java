package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.GatewayFixture;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code timeouts.body_read} and {@code timeouts.body_min_rate}: a body that trickles in is cut
 * with 408, a steady upload is not, and the deadline never reaches a response stream.
 */
class BodyDeadlineTest {

  static GatewayFixture gw;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    gw = GatewayFixture.start(Map.of("timeouts.body_read", "1s", "timeouts.body_min_rate", "1KiB"));
    key = gw.newKey();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  private static String head(String path, long length) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
        + key
        + "\r\nContent-Type: application/json\r\nContent-Length: "
        + length
        + "\r\n\r\n";
  }

  @Test
  void aBodyAtOneBytePerSecondIsCutWith408AndNeverForwarded() throws Exception {
    // why: the slow-body attack: headers arrive at once, then one byte a second holds a slot
    // forever
    String body = "{\"model\":\"llama3.2:3b\",\"messages\":[]}";
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()), 5000);
      s.setSoTimeout(200);
      OutputStream out = s.getOutputStream();
      out.write(head("/v1/chat/completions", body.length()).getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      long t0 = System.nanoTime();
      StringBuilder got = new StringBuilder();
      InputStream in = s.getInputStream();
      boolean closed = false;
      for (int i = 0; i < body.length() && !closed; i++) {
        try {
          out.write(body.charAt(i));
          out.flush();
        } catch (java.io.IOException e) {
          break; // the gateway closed its side
        }
        long until = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < until && !closed) {
          try {
            int b = in.read();
            if (b < 0) {
              closed = true;
            } else {
              got.append((char) b);
            }
          } catch (java.net.SocketTimeoutException e) {
            // nothing yet
          } catch (java.net.SocketException e) {
            closed = true;
          }
        }
      }
      long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
      assertThat(closed).as("connection closed; got %s", got).isTrue();
      assertThat(got.toString())
          .startsWith("HTTP/1.1 408")
          .contains("request.body_timeout")
          .contains("invalid_request_error");
      assertThat(seconds)
          .as("cut long before the body could have finished")
          .isLessThan(body.length() - 5);
    }
    assertThat(gw.upstream.requests()).isEmpty();
  }

  @Test
  void aSteadyUploadLongerThanTheDeadlineIsNotCut() throws Exception {
    // why: a large body over a slow but honest link keeps going while it stays above the rate
    StringBuilder b = new StringBuilder("{\"model\":\"llama3.2:3b\",\"prompt\":\"");
    b.append("a".repeat(60_000)).append("\"}");
    byte[] body = b.toString().getBytes(StandardCharsets.ISO_8859_1);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", gw.port()), 5000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(head("/api/generate", body.length).getBytes(StandardCharsets.ISO_8859_1));
      int step = 4000; // 4 KB every 100 ms: 40 KB/s for about 1.5 s, past the 1 s deadline
      for (int i = 0; i < body.length; i += step) {
        out.write(body, i, Math.min(step, body.length - i));
        out.flush();
        Thread.sleep(100);
      }
      byte[] buf = new byte[2048];
      int n = s.getInputStream().read(buf);
      String answer = new String(buf, 0, Math.max(0, n), StandardCharsets.ISO_8859_1);
      assertThat(answer).as(answer).startsWith("HTTP/1.1 200");
    }
    assertThat(gw.upstream.requests()).hasSize(1);
  }

  @Test
  void aLongResponseStreamAfterTheBodyIsNeverCut() throws Exception {
    // why: the deadline is for the request body only; a generation may stream for minutes
    gw.upstream.streaming(15, 150); // over 2 s, twice the body deadline
    HttpResponse<String> r =
        gw.post("/api/generate", key, "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\"}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body().lines().count()).isEqualTo(16);
    assertThat(r.body()).contains("\"done\":true");
  }
}

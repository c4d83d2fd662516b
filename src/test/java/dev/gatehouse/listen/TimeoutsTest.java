package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.GatewayFixture;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Connection and upstream timeouts, each shown firing; none of them cuts a live stream. */
class TimeoutsTest {

  static GatewayFixture gw;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    gw =
        GatewayFixture.start(
            Map.of(
                "timeouts.header_read", "500ms",
                "timeouts.keepalive", "700ms",
                "timeouts.upstream_first_byte", "500ms"));
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

  /** Reads until the peer closes; returns what arrived. Fails the test on a read timeout. */
  private static String readToClose(Socket s) throws Exception {
    s.setSoTimeout(5000);
    InputStream in = s.getInputStream();
    return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
  }

  @Test
  void aConnectionThatNeverCompletesItsRequestHeadIsClosed() throws Exception {
    // why: slowloris: a client dribbling header bytes must not hold a connection forever
    try (Socket s = new Socket("127.0.0.1", gw.port())) {
      s.getOutputStream()
          .write(
              "GET /api/tags HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      assertThat(readToClose(s)).isEmpty();
    }
    assertThat(gw.upstream.requests()).isEmpty();
  }

  @Test
  void aHeadCutShortByTheTimeoutIsARefusalOnRecordAndSilenceIsNot() throws Exception {
    // why: the timeout closed a slowloris head without a trace: no log line, no audit record, no
    // refusal for the probe scoring's rate. It is still closed without an answer (as nginx and
    // Go's server do), and now recorded as a 408. A connection that sent nothing is no request.
    try (Socket silent = new Socket();
        Socket slow = new Socket()) {
      silent.bind(new InetSocketAddress("127.0.8.1", 0));
      silent.connect(new InetSocketAddress("127.0.0.1", gw.port()));
      slow.bind(new InetSocketAddress("127.0.8.2", 0));
      slow.connect(new InetSocketAddress("127.0.0.1", gw.port()));
      slow.getOutputStream()
          .write("POST /api/chat HTTP/1.1\r\nHost: x\r\nX-Sl".getBytes(StandardCharsets.US_ASCII));
      slow.getOutputStream().flush();
      assertThat(readToClose(slow)).isEmpty();
      assertThat(readToClose(silent)).isEmpty();
    }
    String record = gw.awaitAuditLine(l -> l.contains("\"ip\":\"127.0.8.2\""));
    assertThat(record)
        .contains("\"status\":408")
        .contains("\"reason\":\"request.head_timeout\"")
        .contains("\"method\":\"POST\"")
        .contains("\"path\":\"/api/chat\"");
    assertThat(java.nio.file.Files.readString(gw.dataDir.resolve("audit.jsonl")))
        .doesNotContain("\"ip\":\"127.0.8.1\"");
    assertThat(gw.upstream.requests()).isEmpty();
  }

  @Test
  void anIdleKeepAliveConnectionIsClosedAfterItsResponse() throws Exception {
    // why: idle connections cost a file descriptor each; keepalive bounds them
    try (Socket s = new Socket("127.0.0.1", gw.port())) {
      s.getOutputStream()
          .write(
              ("GET /api/tags HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String all = readToClose(s);
      assertThat(all).startsWith("HTTP/1.1 200");
    }
  }

  @Test
  void anUpstreamThatNeverStartsItsResponseGets504() throws Exception {
    // why: a hung model server must not hang the client forever
    gw.upstream.firstByteDelay(3000);
    HttpResponse<String> r =
        gw.post("/api/chat", key, "{\"model\":\"llama3.2:3b\",\"stream\":false}");
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(r.body()).contains("\"code\":\"upstream.timeout\"");
  }

  @Test
  void aStreamLongerThanEveryTimeoutStillCompletes() throws Exception {
    // why: timeouts bound silence, never the length of a generation
    gw.upstream.streaming(15, 150); // over 2 s: longer than header_read, keepalive and first_byte
    HttpResponse<String> r =
        gw.post("/api/generate", key, "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\"}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body().lines().count()).isEqualTo(16);
    assertThat(r.body()).contains("\"done\":true");
  }

  @Test
  void aKeepAliveConnectionIsClosedOnceIdleAfterAStreamLongerThanItsTimeouts() throws Exception {
    // why: the connection's clock stops while a request is in flight (a stream holds no timer) and
    // starts again when it ends: an idle connection is still closed after a long stream
    gw.upstream.streaming(15, 150); // over 2 s: header_read's and keepalive's timers lapse
    byte[] body = "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\"}".getBytes(StandardCharsets.UTF_8);
    try (Socket s = new Socket("127.0.0.1", gw.port())) {
      s.setSoTimeout(5000);
      s.getOutputStream()
          .write(
              ("POST /api/generate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                      + key
                      + "\r\nContent-Type: application/json\r\nContent-Length: "
                      + body.length
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(body);
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      StringBuilder got = new StringBuilder();
      byte[] buf = new byte[8192];
      long ended = 0;
      int n;
      while ((n = in.read(buf)) >= 0) { // a read timeout (5 s) fails the test: never closed
        got.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        if (ended == 0 && got.toString().endsWith("0\r\n\r\n")) {
          ended = System.nanoTime(); // the stream's last chunk
        }
      }
      long idleMillis = (System.nanoTime() - ended) / 1_000_000;
      assertThat(got.toString()).startsWith("HTTP/1.1 200").contains("\"done\":true");
      assertThat(ended).isPositive();
      assertThat(idleMillis).isGreaterThanOrEqualTo(600); // keepalive (700 ms) counts from its end
    }
  }

  @Test
  void aDownUpstreamGets502InTheClientsDialect() throws Exception {
    // why: connection refused upstream is reported, not hung, and not leaked as a stack trace
    try (GatewayFixture down = GatewayFixture.start(Map.of("upstream", "http://127.0.0.1:9"))) {
      String k = down.newKey();
      HttpResponse<String> r =
          down.post("/v1/chat/completions", k, "{\"model\":\"m\",\"messages\":[]}");
      assertThat(r.statusCode()).isEqualTo(502);
      assertThat(r.body())
          .contains("\"code\":\"upstream.unavailable\"")
          .contains("\"type\":\"server_error\"");
      assertThat(down.get("/readyz", null).statusCode()).isEqualTo(503);
    }
  }
}

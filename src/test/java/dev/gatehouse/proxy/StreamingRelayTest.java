package dev.gatehouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.AccessLogCapture;
import dev.gatehouse.testing.GatewayFixture;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The relay streams NDJSON and SSE as they are produced, with backpressure, and ends cleanly. */
class StreamingRelayTest {

  static GatewayFixture gw;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    gw = GatewayFixture.start(Map.of("timeouts.upstream_idle", "2s"));
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

  /** An open HTTP/1.1 exchange whose response is read line by line, decoded from chunks. */
  static final class Stream implements AutoCloseable {
    final Socket socket;
    final BufferedReader in;
    final List<String> headers = new ArrayList<>();
    int status;

    Stream(int port, String path, String body) throws Exception {
      socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout(15_000);
      OutputStream out = socket.getOutputStream();
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      out.write(
          ("POST "
                  + path
                  + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                  + key
                  + "\r\nContent-Type: application/json\r\nContent-Length: "
                  + b.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(b);
      out.flush();
      in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      String statusLine = in.readLine();
      status = Integer.parseInt(statusLine.substring(9, 12));
      for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
        headers.add(h.toLowerCase());
      }
    }

    /** The next non-empty payload line, undoing chunked framing; null at the end. */
    String nextLine() throws Exception {
      while (true) {
        String size = in.readLine();
        if (size == null) {
          return null;
        }
        if (size.isEmpty()) {
          continue;
        }
        int n = Integer.parseInt(size.trim(), 16);
        if (n == 0) {
          return null;
        }
        char[] buf = new char[n];
        int read = 0;
        while (read < n) {
          int r = in.read(buf, read, n - read);
          if (r < 0) {
            return null;
          }
          read += r;
        }
        String chunk = new String(buf).strip();
        if (!chunk.isEmpty()) {
          return chunk;
        }
      }
    }

    @Override
    public void close() throws java.io.IOException {
      socket.close();
    }
  }

  @Test
  void ndjsonChunksReachTheClientBeforeTheUpstreamHasFinished() throws Exception {
    // why: a buffering proxy would hold every token until the generation ends
    gw.upstream.streaming(10, 200);
    try (Stream s =
        new Stream(gw.port(), "/api/chat", "{\"model\":\"llama3.2:3b\",\"messages\":[]}")) {
      assertThat(s.status).isEqualTo(200);
      assertThat(s.headers).contains("content-type: application/x-ndjson");
      String first = s.nextLine();
      assertThat(first).contains("\"seq\":0");
      assertThat(gw.upstream.nextEvent(0))
          .as("upstream still streaming when the first chunk arrived")
          .isNull();
      int lines = 1;
      String last = first;
      for (String l = s.nextLine(); l != null; l = s.nextLine()) {
        lines++;
        last = l;
      }
      assertThat(lines).isEqualTo(11);
      assertThat(last).contains("\"done\":true");
    }
  }

  @Test
  void theHeadIsNotHeldBackForASlowFirstChunk() throws Exception {
    // why: the relay sends a stream's head together with the bytes that came with it, but an
    // upstream that answers its head before its first token must not have the head held for it
    gw.upstream.firstChunkDelay(1_200).streaming(2, 10);
    long start = System.nanoTime();
    try (Stream s =
        new Stream(gw.port(), "/api/chat", "{\"model\":\"llama3.2:3b\",\"messages\":[]}")) {
      long headMillis = (System.nanoTime() - start) / 1_000_000;
      assertThat(s.status).isEqualTo(200);
      assertThat(headMillis)
          .as("head before the first chunk (1.2 s, under this fixture's 2 s idle timeout)")
          .isLessThan(800);
      assertThat(s.nextLine()).contains("\"seq\":0");
      assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(1_150);
      // read to the end, so that no cancelled stream's event reaches the next test
      int lines = 1;
      while (s.nextLine() != null) {
        lines++;
      }
      assertThat(lines).isEqualTo(3); // two chunks and the final line
      assertThat(gw.upstream.nextEvent(5_000)).isEqualTo("stream-end");
    }
  }

  @Test
  void sseEventsReachTheClientBeforeTheUpstreamHasFinished() throws Exception {
    // why: the OpenAI dialect streams Server-Sent Events, which must not be buffered either
    gw.upstream.streaming(10, 200);
    try (Stream s =
        new Stream(
            gw.port(),
            "/v1/chat/completions",
            "{\"model\":\"llama3.2:3b\",\"stream\":true,\"messages\":[]}")) {
      assertThat(s.headers).contains("content-type: text/event-stream");
      String first = s.nextLine();
      assertThat(first).startsWith("data: ").contains("\"seq\":0");
      assertThat(gw.upstream.nextEvent(0)).isNull();
      String last = first;
      for (String l = s.nextLine(); l != null; l = s.nextLine()) {
        last = l;
      }
      assertThat(last).endsWith("data: [DONE]");
    }
  }

  @Test
  void clientDisconnectCancelsTheUpstreamRequest() throws Exception {
    // why: a client that hangs up must not leave the GPU generating for nobody
    gw.upstream.streaming(100, 100);
    try (AccessLogCapture log = new AccessLogCapture()) {
      try (Stream s =
          new Stream(gw.port(), "/api/generate", "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\"}")) {
        assertThat(s.nextLine()).contains("\"seq\":0");
      }
      assertThat(gw.upstream.nextEvent(5000)).isEqualTo("client-closed");
      assertThat(gw.upstream.nextEvent(500)).isNull(); // and the stream never ran to its end
      assertThat(log.await("path=/api/generate", "client_gone=true"))
          .as("the hang-up is on record")
          .isNotNull();
    }
  }

  @Test
  void upstreamDeathMidNdjsonStreamEndsWithAnOllamaErrorObject() throws Exception {
    // why: a crash mid-generation must reach the client as an error, not as a silent truncation
    gw.upstream.streaming(10, 20).dieAfter(3);
    try (Stream s =
        new Stream(gw.port(), "/api/chat", "{\"model\":\"llama3.2:3b\",\"messages\":[]}")) {
      List<String> lines = new ArrayList<>();
      for (String l = s.nextLine(); l != null; l = s.nextLine()) {
        lines.add(l);
      }
      assertThat(lines).hasSize(4);
      assertThat(lines.get(3))
          .startsWith("{\"error\":")
          .contains("\"code\":\"upstream.failed\"")
          .contains("\"request_id\":");
    }
  }

  @Test
  void upstreamDeathMidSseStreamEndsWithAnOpenAiErrorEvent() throws Exception {
    // why: the OpenAI SDKs raise on a data event carrying an error object
    gw.upstream.streaming(10, 20).dieAfter(2);
    try (Stream s =
        new Stream(
            gw.port(),
            "/v1/chat/completions",
            "{\"model\":\"llama3.2:3b\",\"stream\":true,\"messages\":[]}")) {
      List<String> lines = new ArrayList<>();
      for (String l = s.nextLine(); l != null; l = s.nextLine()) {
        lines.add(l);
      }
      assertThat(lines).hasSize(3);
      assertThat(lines.get(2))
          .startsWith("data: {\"error\":{")
          .contains("\"type\":\"server_error\"")
          .contains("\"code\":\"upstream.failed\"");
    }
  }

  @Test
  void silentUpstreamIsCutAfterTheIdleTimeoutButASteadyStreamIsNot() throws Exception {
    // why: upstream_idle bounds silence, never the length of a generation that keeps streaming
    gw.upstream.streaming(30, 100); // 3 s in all, longer than the 2 s idle timeout
    try (Stream s =
        new Stream(gw.port(), "/api/generate", "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\"}")) {
      String last = null;
      int n = 0;
      for (String l = s.nextLine(); l != null; l = s.nextLine()) {
        last = l;
        n++;
      }
      assertThat(n).isEqualTo(31);
      assertThat(last).contains("\"done\":true");
    }
    gw.upstream.reset();
    gw.upstream.streaming(3, 3000); // 3 s between chunks: longer than the idle timeout
    try (Stream s =
        new Stream(gw.port(), "/api/generate", "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\"}")) {
      assertThat(s.nextLine()).contains("\"seq\":0");
      assertThat(s.nextLine()).contains("\"code\":\"upstream.failed\"");
      assertThat(s.nextLine()).isNull();
    }
  }

  @Test
  void aSlowClientPausesTheUpstreamInsteadOfFillingMemory() throws Exception {
    // why: backpressure: without it a client that stops reading makes the gateway buffer the
    // whole generation (here 256 MiB)
    int chunks = 4096; // 64 KiB each
    try (Socket socket = new Socket("127.0.0.1", gw.port())) {
      socket.setReceiveBufferSize(64 * 1024);
      socket.setSoTimeout(30_000);
      String body =
          "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\",\"options\":{\"bulk_chunks\":"
              + chunks
              + "}}";
      socket
          .getOutputStream()
          .write(
              ("POST /api/generate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                      + key
                      + "\r\nContent-Length: "
                      + body.length()
                      + "\r\n\r\n"
                      + body)
                  .getBytes(StandardCharsets.US_ASCII));
      // Do not read. Wait until the upstream stops making progress, then check how far it got.
      int before;
      int after = gw.upstream.bulkWritten();
      do {
        before = after;
        Thread.sleep(500);
        after = gw.upstream.bulkWritten();
      } while (after != before);
      assertThat(after)
          .as("chunks the upstream could write while the client read nothing")
          .isLessThan(chunks / 8);
      // Now read everything: the stream completes.
      InputStream in = socket.getInputStream();
      byte[] buf = new byte[1 << 16];
      long total = 0;
      String tail = "";
      while (!tail.contains("\"done\":true")) {
        int r = in.read(buf);
        if (r < 0) {
          break;
        }
        total += r;
        tail = new String(buf, Math.max(0, r - 40), Math.min(r, 40), StandardCharsets.ISO_8859_1);
      }
      assertThat(total).isGreaterThan((long) chunks * 64 * 1024 - 1);
      assertThat(gw.upstream.bulkWritten()).isEqualTo(chunks);
    }
  }
}

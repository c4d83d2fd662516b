package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.GatewayFixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Strict framing of the upstream's responses ({@code upstream/UpstreamFraming}), over raw sockets
 * at both ends. A keep-alive upstream answers each request with the bytes a case gives. A response
 * framed two ways, or with bytes after its end, must never be read as more than one answer: the
 * client gets a clean error in its dialect, nothing of what follows the offending element (marked
 * {@code SMUGGLED} in each case) reaches any client, and Gatehouse closes its connection to the
 * upstream, so the next request goes over a fresh one.
 */
class UpstreamFramingTest {

  static KeepAliveUpstream upstream;
  static GatewayFixture gw;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    upstream = new KeepAliveUpstream();
    gw =
        GatewayFixture.start(
            Map.of(
                "upstream",
                "http://127.0.0.1:" + upstream.port(),
                "timeouts.upstream_first_byte",
                "2s",
                "timeouts.upstream_idle",
                "2s"));
    key = gw.newKey();
  }

  @AfterAll
  static void stop() throws IOException {
    gw.close();
    upstream.close();
  }

  static final String JSON_BODY = "{\"models\":[]}";
  static final String GOOD =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
          + JSON_BODY.length()
          + "\r\n\r\n"
          + JSON_BODY;
  static final String POISON =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{\"SMUGGLED\":\"poison\"}";

  static String tags(String method) {
    return method
        + " /api/tags HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
        + key
        + "\r\n\r\n";
  }

  static String chunkedHead(String framing) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n" + framing + "\r\n\r\n";
  }

  /** A head that breaks the framing rules, then a body holding a second, smuggled response. */
  static Stream<Arguments> badHeads() {
    List<Arguments> c = new ArrayList<>();
    String body = "5\r\nhello\r\n0\r\n\r\n" + POISON;
    // why: TE beside CL is how a response is read as one length by one hop and another by the next
    c.add(
        Arguments.of(
            "TE and CL",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + body));
    c.add(
        Arguments.of(
            "CL and TE",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n" + body));
    // why: a coding list that Netty reads as chunked while RFC 9112 reads it as until-close
    c.add(
        Arguments.of(
            "TE chunked, identity", chunkedHead("Transfer-Encoding: chunked, identity") + body));
    c.add(
        Arguments.of(
            "TE identity, chunked", chunkedHead("Transfer-Encoding: identity, chunked") + body));
    c.add(Arguments.of("TE gzip, chunked", chunkedHead("Transfer-Encoding: gzip, chunked") + body));
    c.add(Arguments.of("TE identity", chunkedHead("Transfer-Encoding: identity") + body));
    c.add(Arguments.of("TE xchunked", chunkedHead("Transfer-Encoding: xchunked") + body));
    // why: two TE lines are one list to some readers and the first line to others
    c.add(
        Arguments.of(
            "two TE lines",
            chunkedHead("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked") + body));
    // why: two lengths: which one frames the body depends on the reader
    c.add(
        Arguments.of(
            "two CL lines, different",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 200\r\n\r\nhello" + POISON));
    c.add(
        Arguments.of(
            "two CL lines, same",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello" + POISON));
    c.add(Arguments.of("CL list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello" + POISON));
    c.add(
        Arguments.of(
            "CL with a sign", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello" + POISON));
    c.add(Arguments.of("CL hex", "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello" + POISON));
    c.add(
        Arguments.of(
            "CL past 2^63",
            "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\nhello" + POISON));
    // why: obs-fold continues a field on some readers and starts a new one on others
    c.add(
        Arguments.of(
            "obs-fold",
            "HTTP/1.1 200 OK\r\nX-A: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello"
                + POISON));
    // why: bare LF or CR line ends split the head differently per reader
    c.add(Arguments.of("bare LF", "HTTP/1.1 200 OK\nContent-Length: 5\n\nhello" + POISON));
    c.add(
        Arguments.of(
            "bare CR in a value",
            "HTTP/1.1 200 OK\r\nX-A: a\rContent-Length: 99\r\nContent-Length: 5\r\n\r\nhello"
                + POISON));
    c.add(
        Arguments.of(
            "NUL in a value",
            "HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 5\r\n\r\nhello" + POISON));
    // why: a space before the colon makes "Transfer-Encoding " a different field to a lenient
    // reader
    c.add(
        Arguments.of(
            "space before the colon",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello"
                + POISON));
    c.add(
        Arguments.of(
            "non-token field name",
            "HTTP/1.1 200 OK\r\nX(A): a\r\nContent-Length: 5\r\n\r\nhello" + POISON));
    // why: status lines that are not HTTP/1.x
    c.add(
        Arguments.of(
            "status without a space", "HTTP/1.1 200OK\r\nContent-Length: 5\r\n\r\nhello" + POISON));
    c.add(
        Arguments.of(
            "HTTP/2 status line", "HTTP/2 200 OK\r\nContent-Length: 5\r\n\r\nhello" + POISON));
    c.add(
        Arguments.of(
            "four-digit status", "HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\nhello" + POISON));
    c.add(Arguments.of("empty line before the status line", "\r\n" + GOOD + POISON));
    return c.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badHeads")
  void aMalformedResponseHeadIs502AndTheUpstreamConnectionIsClosed(String name, String response)
      throws Exception {
    upstream.answer(response);
    String answer = exchange(tags("GET"));
    assertThat(answer)
        .as(name)
        .startsWith("HTTP/1.1 502 ")
        .contains("\"code\":\"upstream.unavailable\"");
    assertThat(answer).as(name).doesNotContain("SMUGGLED").doesNotContain("hello");
    upstream.awaitLastClosed();
    assertNextRequestsAreClean(name, upstream.last());
  }

  /** A head that passes, then a body whose chunk framing breaks; the marker follows the break. */
  static Stream<Arguments> badChunks() {
    List<Arguments> c = new ArrayList<>();
    String head = chunkedHead("Transfer-Encoding: chunked");
    String line = "{\"done\":false}\n";
    String first = Integer.toHexString(line.length()) + "\r\n" + line + "\r\n";
    // why: spaces around a chunk size are trimmed by Netty and refused by strict readers
    c.add(
        Arguments.of(
            "leading space in a chunk size", head + first + " 5\r\nSMUGGLED\r\n0\r\n\r\n"));
    c.add(
        Arguments.of(
            "trailing space in a chunk size", head + first + "5 \r\nSMUGGLED\r\n0\r\n\r\n"));
    // why: 17 hex digits overflow a 64-bit reader into a small number
    c.add(
        Arguments.of("17 hex digits", head + first + "10000000000000005\r\nSMUGGLED\r\n0\r\n\r\n"));
    c.add(
        Arguments.of(
            "16 hex digits past 2^63", head + first + "8000000000000000\r\nSMUGGLED\r\n0\r\n\r\n"));
    c.add(Arguments.of("chunk extension", head + first + "8;ext=1\r\nSMUGGLED\r\n0\r\n\r\n"));
    c.add(Arguments.of("0x prefix", head + first + "0x8\r\nSMUGGLED\r\n0\r\n\r\n"));
    c.add(Arguments.of("negative size", head + first + "-8\r\nSMUGGLED\r\n0\r\n\r\n"));
    c.add(Arguments.of("empty size", head + first + "\r\nSMUGGLED\r\n0\r\n\r\n"));
    c.add(Arguments.of("bare LF after a size", head + first + "8\nSMUGGLED\r\n0\r\n\r\n"));
    // why: chunk data longer than its size: the rest would be read as the next chunk line
    c.add(Arguments.of("data longer than its size", head + first + "2\r\nSMUGGLED\r\n0\r\n\r\n"));
    // why: framing fields in the trailers, which a decoder that merges trailers would obey
    c.add(
        Arguments.of(
            "Content-Length in the trailers",
            head + first + "0\r\nContent-Length: 50\r\n\r\n" + POISON));
    c.add(
        Arguments.of(
            "Transfer-Encoding in the trailers",
            head + first + "0\r\nTransfer-Encoding: chunked\r\n\r\n" + POISON));
    c.add(
        Arguments.of(
            "obs-fold in the trailers", head + first + "0\r\nX-A: a\r\n b\r\n\r\n" + POISON));
    // why: bytes after a complete response, with no request waiting: response-queue poisoning
    c.add(
        Arguments.of(
            "a second response after the last chunk", head + first + "0\r\n\r\n" + POISON));
    return c.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badChunks")
  void aMalformedChunkEndsTheStreamAndNothingAfterItIsRelayed(String name, String response)
      throws Exception {
    upstream.answer(response);
    String answer = exchange(tags("GET"));
    assertThat(answer).as(name).startsWith("HTTP/1.1 200 ").contains("{\"done\":false}");
    assertThat(answer).as(name).doesNotContain("SMUG");
    upstream.awaitLastClosed();
    assertNextRequestsAreClean(name, upstream.last());
  }

  @Test
  void bytesAfterAContentLengthBodyAreNeverReadAsTheNextRequestsAnswer() throws Exception {
    // why: the classic response-queue poisoning: one request, two responses; the second would
    // be the answer to whoever's request next takes the pooled connection
    upstream.answer(GOOD + POISON);
    String answer = exchange(tags("GET"));
    assertThat(answer).startsWith("HTTP/1.1 200 ").endsWith(JSON_BODY);
    upstream.awaitLastClosed();
    assertNextRequestsAreClean("poison after a complete response", upstream.last());
  }

  @Test
  void poisonSentLaterOnAnIdlePooledConnectionIsRefused() throws Exception {
    // why: the upstream waits until the connection is idle in the pool, then sends a response
    upstream.answer(GOOD, POISON);
    assertThat(exchange(tags("GET"))).startsWith("HTTP/1.1 200 ").endsWith(JSON_BODY);
    upstream.awaitLastClosed();
    assertNextRequestsAreClean("poison on an idle connection", upstream.last());
  }

  /** Framings that are well formed and must go through as sent, on a connection that stays open. */
  static Stream<Arguments> goodResponses() {
    List<Arguments> c = new ArrayList<>();
    c.add(Arguments.of("GET", "Content-Length", GOOD, JSON_BODY));
    c.add(
        Arguments.of(
            "GET",
            "chunked with trailers",
            chunkedHead("Transfer-Encoding: chunked")
                + "d\r\n{\"models\":[]}\r\n0\r\nX-Checksum: 1\r\n\r\n",
            JSON_BODY));
    c.add(
        Arguments.of(
            "GET",
            "chunked, upper case",
            chunkedHead("Transfer-Encoding: CHUNKED") + "D\r\n{\"models\":[]}\r\n0\r\n\r\n",
            JSON_BODY));
    c.add(
        Arguments.of(
            "GET", "100 Continue first", "HTTP/1.1 100 Continue\r\n\r\n" + GOOD, JSON_BODY));
    c.add(
        Arguments.of(
            "GET",
            "103 Early Hints first",
            "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + GOOD,
            JSON_BODY));
    c.add(
        Arguments.of(
            "GET",
            "no reason phrase",
            "HTTP/1.1 200 \r\nContent-Length: 13\r\n\r\n" + JSON_BODY,
            JSON_BODY));
    c.add(
        Arguments.of(
            "GET",
            "no space after the status",
            "HTTP/1.1 200\r\nContent-Length: 13\r\n\r\n" + JSON_BODY,
            JSON_BODY));
    c.add(
        Arguments.of(
            "GET",
            "tab in a value",
            "HTTP/1.1 200 OK\r\nX-A: a\tb\r\nContent-Length: 13\r\n\r\n" + JSON_BODY,
            JSON_BODY));
    c.add(Arguments.of("GET", "204", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", null));
    c.add(
        Arguments.of(
            "HEAD",
            "HEAD with a Content-Length and no body",
            "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n",
            null));
    return c.stream();
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("goodResponses")
  void wellFramedResponsesPassAndTheConnectionIsReused(
      String method, String name, String response, String body) throws Exception {
    upstream.answer(response);
    String answer = exchange(tags(method));
    assertThat(answer).as(name).doesNotStartWith("HTTP/1.1 502");
    if (body != null) {
      assertThat(answer).as(name).contains(body);
    }
    assertThat(upstream.lastStillOpen())
        .as("%s: the upstream connection stays in the pool", name)
        .isTrue();
    assertNextRequestsAreClean(name, null);
  }

  @Test
  void aResponseSentOneByteAtATimeIsReadTheSame() throws Exception {
    upstream.answerSlowly(
        chunkedHead("Transfer-Encoding: chunked") + "d\r\n{\"models\":[]}\r\n0\r\n\r\n");
    assertThat(exchange(tags("GET"))).startsWith("HTTP/1.1 200 ").contains(JSON_BODY);
  }

  @Test
  void aResponseWithoutFramingRunsUntilTheUpstreamCloses() throws Exception {
    upstream.answerAndClose(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + JSON_BODY);
    assertThat(exchange(tags("GET"))).startsWith("HTTP/1.1 200 ").contains(JSON_BODY);
  }

  /** Requests on both event loops' pools get the right answer, never the smuggled one. */
  private static void assertNextRequestsAreClean(String name, Socket closed) throws Exception {
    upstream.answer(GOOD);
    for (int i = 0; i < 4; i++) {
      String next = exchange(tags("GET"));
      assertThat(next)
          .as("%s: a later request", name)
          .startsWith("HTTP/1.1 200 ")
          .endsWith(JSON_BODY)
          .doesNotContain("SMUGGLED");
      assertThat(upstream.last())
          .as("%s: never over the closed connection", name)
          .isNotSameAs(closed);
    }
  }

  /**
   * Sends one request on a new client connection (which asks to close) and reads the whole answer.
   */
  static String exchange(String request) throws IOException {
    String withClose = request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n");
    try (Socket s = new Socket("127.0.0.1", gw.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(withClose.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try {
        s.getInputStream().transferTo(out);
      } catch (java.net.SocketException e) {
        // reset after the answer: what arrived is the answer
      }
      return out.toString(StandardCharsets.ISO_8859_1);
    }
  }

  /**
   * A keep-alive upstream on plain sockets: each request on a connection gets the next answer set
   * with {@link #answer}; connections stay open until Gatehouse closes them.
   */
  static final class KeepAliveUpstream implements AutoCloseable {
    private final ServerSocket server = new ServerSocket();
    private final AtomicReference<String[]> script = new AtomicReference<>(new String[] {GOOD});
    private final AtomicReference<String> mode = new AtomicReference<>("keep");
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();

    /** The connection that sent the latest answer. */
    private final AtomicReference<Socket> last = new AtomicReference<>();

    KeepAliveUpstream() throws IOException {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread t = new Thread(this::accept, "keepalive-upstream");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return server.getLocalPort();
    }

    int connections() {
      return connections.get();
    }

    /**
     * The answer to the next request; a second part is sent 300 ms later, on an idle connection.
     */
    void answer(String... parts) {
      mode.set("keep");
      script.set(parts);
    }

    void answerSlowly(String response) {
      mode.set("slow");
      script.set(new String[] {response});
    }

    void answerAndClose(String response) {
      mode.set("close");
      script.set(new String[] {response});
    }

    /** The connection that sent the latest answer. */
    Socket last() {
      return last.get();
    }

    /** Waits until Gatehouse has closed the connection that sent the latest answer. */
    void awaitLastClosed() throws InterruptedException {
      Socket s = last.get();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (open.contains(s) && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(open).as("Gatehouse closed its connection to the upstream").doesNotContain(s);
    }

    /** Whether Gatehouse still holds the connection that sent the latest answer, after a pause. */
    boolean lastStillOpen() throws InterruptedException {
      Thread.sleep(200);
      return open.contains(last.get());
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          connections.incrementAndGet();
          open.add(s);
          Thread t = new Thread(() -> serve(s), "keepalive-upstream-conn");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        while (readRequest(in)) {
          String[] parts = script.get();
          String how = mode.get();
          last.set(s);
          if (how.equals("slow")) {
            for (byte b : parts[0].getBytes(StandardCharsets.ISO_8859_1)) {
              out.write(b);
              out.flush();
            }
            continue;
          }
          out.write(parts[0].getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          if (how.equals("close")) {
            return;
          }
          for (int k = 1; k < parts.length; k++) {
            Thread.sleep(300);
            out.write(parts[k].getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
          }
        }
      } catch (Exception e) {
        // Gatehouse hung up: fine
      } finally {
        open.remove(s);
      }
    }

    /** Reads one request head (and its Content-Length body); false at the end of the stream. */
    private static boolean readRequest(InputStream in) throws IOException {
      StringBuilder head = new StringBuilder();
      int b;
      try {
        while ((b = in.read()) != -1) {
          head.append((char) b);
          if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
            break;
          }
        }
      } catch (SocketTimeoutException e) {
        return false;
      }
      if (b == -1) {
        return false;
      }
      int length = 0;
      for (String line : head.toString().split("\r\n")) {
        if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).trim());
        }
      }
      in.readNBytes(length);
      return true;
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : open) {
        s.close();
      }
    }
  }
}

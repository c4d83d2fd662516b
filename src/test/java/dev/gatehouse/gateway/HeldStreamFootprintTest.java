package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.Poll;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What an open stream holds in the gateway. Vert.x gives each connection an outbound queue for
 * writes from other threads: a jctools queue whose first chunk has 1,024 slots (a size Netty
 * fixes), about 4.7 KB of a stream's 25 KB. Every write to a client happens on its event loop (a
 * back end that answers on a thread of its own is handed back to it first), so the listener runs in
 * Vert.x's strict thread mode, where a connection writes directly and holds no such queue; the
 * relay's connections to the upstream are Netty's own ({@code LoopConnections}), written on their
 * event loop, and hold none either. Measured with the JVM's own class histogram (live objects,
 * after a full collection).
 */
class HeldStreamFootprintTest {

  /**
   * Netty's unbounded MPSC queues: {@code MpscUnboundedArrayQueue} where it may use {@code
   * sun.misc.Unsafe} (the launcher allows it), {@code MpscUnboundedVarHandleArrayQueue} where not
   * (Netty 4.2.18; 4.2.12 had {@code MpscUnboundedAtomicArrayQueue} there).
   */
  private static final Pattern QUEUE =
      Pattern.compile(
          "io\\.netty\\.util\\.internal\\.shaded\\.org\\.jctools\\.queues\\.(atomic\\.|varhandle\\.)?MpscUnbounded(Atomic|VarHandle)?ArrayQueue");

  private static final String SERVER_CONNECTION = "io.vertx.core.http.impl.Http1xServerConnection";
  private static final String RELAY_CONNECTION =
      "dev.gatehouse.upstream.LoopConnections$Connection";
  private static final String EXCHANGE = "dev.gatehouse.exchange.Exchange";
  private static final String CALL = "dev.gatehouse.upstream.UpstreamCall";
  private static final String HEADER_ENTRY =
      "io.vertx.core.http.impl.headers.HeadersMultiMap$MapEntry";
  private static final int STREAMS = 24; // under concurrency.per_key's default of 32

  @Test
  void aHeldStreamHoldsNoOutboundQueueOnEitherOfItsConnections() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(Map.of("timeouts.upstream_idle", "60s"))) {
      String key = gw.newKey();
      gw.upstream.firstChunkDelay(30_000).streaming(1, 0); // the head, then nothing for 30 s
      Map<String, Long> before = liveInstances();
      List<Socket> streams = new ArrayList<>();
      try {
        for (int i = 0; i < STREAMS; i++) {
          streams.add(open(gw.port(), key));
        }
        for (Socket s : streams) {
          assertThat(readHead(s)).startsWith("HTTP/1.1 200"); // relayed, its body still to come
        }
        assertThat(gw.upstream.requests()).hasSize(STREAMS);
        Map<String, Long> during = liveInstances();
        // Each held stream has two HTTP/1 server connections in this JVM: the gateway's, and the
        // fake upstream's (a plain Vert.x server). This is what makes the count below mean
        // anything: the streams are open, on both sides, as the histogram is taken.
        assertThat(delta(before, during, SERVER_CONNECTION)).isEqualTo(2L * STREAMS);
        // and one relay connection to the upstream each
        assertThat(delta(before, during, RELAY_CONNECTION)).isEqualTo(STREAMS);
        // One queue each for the fake upstream's server connection; none for the gateway's
        // connections, to the client or to the upstream (3 per stream with Vert.x's client and
        // without the strict thread mode). A few more may appear as the gateway warms up.
        assertThat(queues(during) - queues(before)).isBetween(STREAMS - 2L, STREAMS + 6L);
      } finally {
        for (Socket s : streams) {
          s.close();
        }
      }
    }
  }

  @Test
  void aHeldStreamKeepsOnlyTheRequestHeadersReadAtItsEnd() throws Exception {
    // why: the two heads' header maps (their entries, names and values) were about a kilobyte of
    // each open stream's 9, more for a client library's dozen headers, and nothing reads most of
    // them once the response's head is relayed. Counted with an upstream that holds no header map
    // of its own (raw sockets), so every entry counted is the gateway's.
    try (UpstreamFaultsTest.ScriptedUpstream up = new UpstreamFaultsTest.ScriptedUpstream();
        GatewayFixture gw =
            GatewayFixture.start(
                Map.of(
                    "upstream",
                    "http://127.0.0.1:" + up.port(),
                    "timeouts.upstream_idle",
                    "60s"))) {
      String key = gw.newKey();
      up.next(
          (s, out) -> {
            UpstreamFaultsTest.write(
                out,
                UpstreamFaultsTest.NDJSON_HEAD + UpstreamFaultsTest.chunk("{\"done\":false}\n"));
            s.getInputStream().read(); // and nothing more until the gateway hangs up
          });
      Map<String, Long> before = liveInstances();
      List<Socket> streams = new ArrayList<>();
      try {
        for (int i = 0; i < STREAMS; i++) {
          streams.add(open(gw.port(), key, CLIENT_HEADERS));
        }
        for (Socket s : streams) {
          assertThat(readHead(s)).startsWith("HTTP/1.1 200").contains("X-Request-Id");
        }
        assertThat(up.seen()).isEqualTo(STREAMS);
        Map<String, Long> during = liveInstances();
        assertThat(delta(before, during, EXCHANGE)).isGreaterThanOrEqualTo(STREAMS);
        // User-Agent and Authorization are kept (the audit record and the probe scoring read
        // them at the end); Host, Content-Type, Content-Length, Accept, X-Stainless-Lang and the
        // response's headers are let go. Without it: 7 request and 5 response entries a stream.
        assertThat(delta(before, during, HEADER_ENTRY))
            .as("header entries held")
            .isLessThanOrEqualTo(2L * STREAMS + 4);
      } finally {
        for (Socket s : streams) {
          s.close();
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"HTTP/1.1", "HTTP/1.0"})
  void aStreamWhoseHeadersWereLetGoEndsWholeAndIsAuditedWithItsUserAgent(String version)
      throws Exception {
    // An HTTP/1.0 client gets no chunked framing: the body runs to the connection's close.
    try (GatewayFixture gw = GatewayFixture.start(Map.of())) {
      String key = gw.newKey();
      gw.upstream.firstChunkDelay(300).streaming(3, 50);
      try (Socket s = open(gw.port(), key, CLIENT_HEADERS, version)) {
        String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(all).startsWith(version + " 200");
        assertThat(all.split("\"done\":false", -1)).hasSize(4); // the three lines
        assertThat(all).contains("\"done\":true");
        if (version.equals("HTTP/1.1")) {
          assertThat(all)
              .containsIgnoringCase("transfer-encoding: chunked")
              .endsWith("0\r\n\r\n"); // the terminating chunk: the stream ended whole
        }
        // the record is written before the last byte: it is there once the response is
        Matcher id = Pattern.compile("X-Request-Id: (\\S+)").matcher(all);
        assertThat(id.find()).isTrue();
        String line =
            Files.readAllLines(gw.dataDir.resolve(AuditWriter.FILE)).stream()
                .filter(l -> l.contains("\"request_id\":\"" + id.group(1) + "\""))
                .findFirst()
                .orElseThrow();
        assertThat(line)
            .contains("\"user_agent\":\"OpenAI/Python 1.54.0\"")
            .contains("\"status\":200")
            .contains("\"reason\":\"ok\"");
      }
    }
  }

  /** Where a request is when its client leaves. */
  enum Leaving {
    /** Sent upstream, no response head yet. */
    BEFORE_THE_HEAD,
    /** Its head relayed, the body still to come. */
    MID_STREAM,
    /** Queued for a concurrency slot that a held stream takes. */
    QUEUED_FOR_A_SLOT,
    /** Halfway through a streamed upload (a model blob), piped to the upstream as it comes. */
    MID_UPLOAD
  }

  @ParameterizedTest
  @EnumSource(Leaving.class)
  void aRequestWhoseClientLeavesIsLetGoAtOnce(Leaving where) throws Exception {
    // why: whatever waits on a request (a timer for the upstream's silence or first byte, a queue)
    // must drop it when its client leaves, not when that wait would have ended (minutes later):
    // clients that leave would otherwise pile up memory. A reset upstream call reports nothing
    // more, and the watch for silence held the whole exchange until timeouts.upstream_idle.
    Map<String, String> settings =
        where == Leaving.QUEUED_FOR_A_SLOT
            ? Map.of(
                "timeouts.upstream_idle", "120s",
                "concurrency.per_key", "1",
                "concurrency.queue_timeout", "120s")
            : Map.of("timeouts.upstream_idle", "120s", "timeouts.upstream_first_byte", "120s");
    try (GatewayFixture gw = GatewayFixture.start(settings)) {
      String key =
          where == Leaving.MID_UPLOAD
              ? gw.newKey(List.of(), List.of("models.manage"))
              : gw.newKey();
      if (where == Leaving.BEFORE_THE_HEAD) {
        gw.upstream.firstByteDelay(60_000); // no head for 60 s
      } else {
        gw.upstream.firstChunkDelay(60_000).streaming(1, 0); // the head, then nothing for 60 s
      }
      Map<String, Long> before = liveInstances();
      List<Socket> clients = new ArrayList<>();
      for (int i = 0; i < STREAMS; i++) {
        clients.add(
            where == Leaving.MID_UPLOAD ? halfUpload(gw.port(), key) : open(gw.port(), key));
        if (where == Leaving.QUEUED_FOR_A_SLOT && i == 0) {
          assertThat(readHead(clients.get(0))).startsWith("HTTP/1.1 200"); // holds the one slot
        }
      }
      switch (where) {
        case BEFORE_THE_HEAD ->
            Poll.until(
                "every request upstream",
                Duration.ofSeconds(10),
                () -> gw.upstream.requests().size() == STREAMS);
        case MID_STREAM -> {
          for (Socket s : clients) {
            assertThat(readHead(s)).startsWith("HTTP/1.1 200");
          }
        }
        case MID_UPLOAD -> Thread.sleep(500); // the halves are piped on as they come
        case QUEUED_FOR_A_SLOT -> {
          Thread.sleep(500); // the others reach the queue
          assertThat(gw.upstream.requests()).hasSize(1);
        }
      }
      assertThat(delta(before, liveInstances(), EXCHANGE)).isGreaterThanOrEqualTo(STREAMS);
      for (Socket s : clients) {
        s.close();
      }
      long deadline = System.nanoTime() + 10_000_000_000L; // far below every wait above
      long held;
      do {
        Thread.sleep(200);
        Map<String, Long> after = liveInstances();
        held = Math.max(delta(before, after, EXCHANGE), delta(before, after, CALL));
      } while (held > 0 && System.nanoTime() < deadline);
      assertThat(held).as("exchanges or upstream calls still held").isLessThanOrEqualTo(0);
    }
  }

  /** A blob upload of 1 MiB of which half is sent. */
  private static Socket halfUpload(int port, String key) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    OutputStream out = s.getOutputStream();
    out.write(
        ("POST /api/blobs/sha256:"
                + "0".repeat(64)
                + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                + key
                + "\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.write(new byte[512 * 1024]);
    out.flush();
    return s;
  }

  /** What a client library sends beside the credential and the body's. */
  private static final String CLIENT_HEADERS =
      "User-Agent: OpenAI/Python 1.54.0\r\nAccept: application/json\r\nX-Stainless-Lang: python\r\n"
          + "Connection: close\r\n";

  private static Socket open(int port, String key) throws IOException {
    return open(port, key, "");
  }

  /** A chat request, head then body, with {@code moreHeaders}; its answer is left unread. */
  static Socket open(int port, String key, String moreHeaders) throws IOException {
    return open(port, key, moreHeaders, "HTTP/1.1");
  }

  private static Socket open(int port, String key, String moreHeaders, String version)
      throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(15_000);
    byte[] body =
        "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
            .getBytes(StandardCharsets.UTF_8);
    OutputStream out = s.getOutputStream();
    out.write(
        ("POST /api/chat "
                + version
                + "\r\nHost: localhost\r\nAuthorization: Bearer "
                + key
                + "\r\nContent-Type: application/json\r\n"
                + moreHeaders
                + "Content-Length: "
                + body.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.write(body);
    out.flush();
    return s;
  }

  /** The response head, read byte by byte up to its blank line. */
  private static String readHead(Socket s) throws IOException {
    StringBuilder head = new StringBuilder();
    var in = s.getInputStream();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    return head.toString();
  }

  private static long delta(Map<String, Long> before, Map<String, Long> after, String type) {
    return after.getOrDefault(type, 0L) - before.getOrDefault(type, 0L);
  }

  private static long queues(Map<String, Long> live) {
    return live.entrySet().stream()
        .filter(e -> QUEUE.matcher(e.getKey()).matches())
        .mapToLong(Map.Entry::getValue)
        .sum();
  }

  private static final Pattern ROW = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+\\d+\\s+(\\S+)");

  /** Live instances per class: the {@code GC.class_histogram} diagnostic command, in process. */
  private static Map<String, Long> liveInstances() throws Exception {
    String histogram =
        (String)
            ManagementFactory.getPlatformMBeanServer()
                .invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "gcClassHistogram",
                    new Object[] {new String[0]},
                    new String[] {String[].class.getName()});
    Map<String, Long> counts = new HashMap<>();
    for (String line : histogram.split("\n")) {
      Matcher m = ROW.matcher(line);
      if (m.find()) {
        counts.merge(m.group(2), Long.parseLong(m.group(1)), Long::sum);
      }
    }
    return counts;
  }
}

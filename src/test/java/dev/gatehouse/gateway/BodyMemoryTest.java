package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.listen.BodyMemory;
import dev.gatehouse.testing.GatewayFixture;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Request bodies held in memory at once are bounded ({@code limits.body_memory}): bodies are read
 * whole before any policy decision, so without a bound enough uploads at once would exhaust the
 * heap. A body that would pass the bound is refused (503, Retry-After) and never reaches the
 * upstream; the memory comes back when a request ends, however it ends.
 */
class BodyMemoryTest {

  private static final Map<String, String> SMALL =
      Map.of("limits.body_memory", "64KiB", "limits.max_body", "48KiB");

  private static String chat(int length) {
    String head = "{\"model\":\"llama3.2\",\"options\":{\"num_predict\":8},\"prompt\":\"";
    return head + "x".repeat(length - head.length() - 2) + "\"}";
  }

  private static String post(String key, String body) {
    return "POST /api/generate HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
        + key
        + "\r\nContent-Type: application/json\r\nContent-Length: "
        + body.getBytes(StandardCharsets.UTF_8).length
        + "\r\n\r\n";
  }

  /** Waits until the gateway holds at least {@code bytes} of request bodies. */
  private static void awaitHeld(GatewayFixture gw, long bytes) throws InterruptedException {
    for (int i = 0; i < 500 && gw.gateway().bodyMemoryHeld() < bytes; i++) {
      Thread.sleep(10);
    }
    assertThat(gw.gateway().bodyMemoryHeld()).isGreaterThanOrEqualTo(bytes);
  }

  /** Waits until the gateway holds no request body at all. */
  private static void awaitReleased(GatewayFixture gw) throws InterruptedException {
    for (int i = 0; i < 500 && gw.gateway().bodyMemoryHeld() > 0; i++) {
      Thread.sleep(10);
    }
    assertThat(gw.gateway().bodyMemoryHeld()).as("memory held after the client left").isZero();
  }

  /** Opens a request and sends its head and the first {@code sent} bytes of its body. */
  private static Socket hold(GatewayFixture gw, String key, String body, int sent)
      throws Exception {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", gw.port()), 5_000);
    s.setSoTimeout(10_000);
    OutputStream out = s.getOutputStream();
    out.write(post(key, body).getBytes(StandardCharsets.ISO_8859_1));
    out.write(body.substring(0, sent).getBytes(StandardCharsets.UTF_8));
    out.flush();
    return s;
  }

  private static String finish(Socket s, String body, int from) throws Exception {
    s.getOutputStream().write(body.substring(from).getBytes(StandardCharsets.UTF_8));
    s.getOutputStream().flush();
    InputStream in = s.getInputStream();
    byte[] buf = new byte[8192];
    int n = in.read(buf);
    return new String(buf, 0, Math.max(0, n), StandardCharsets.ISO_8859_1);
  }

  /** Whether the body is served (200) within 5 s; 503s before that are the bound still full. */
  private static boolean servedWithin(GatewayFixture gw, String key, String body) throws Exception {
    for (int i = 0; i < 250; i++) {
      int status = gw.post("/api/generate", key, body).statusCode();
      if (status == 200) {
        return true;
      }
      assertThat(status).as("only the bound may refuse it").isEqualTo(503);
      Thread.sleep(20);
    }
    return false;
  }

  private static long bodiesSeen(GatewayFixture gw) {
    return gw.upstream.requests().stream().filter(r -> r.uri().equals("/api/generate")).count();
  }

  @Test
  void aBodyPastTheBoundIsRefusedUntilMemoryComesBack() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(SMALL)) {
      String key = gw.newKey();
      String first = chat(40_000);
      // why: a body takes its declared length before a byte of it is read, so a slow upload
      // holds its share from the start
      try (Socket held = hold(gw, key, first, 1_000)) {
        awaitHeld(gw, first.length());
        String second = chat(30_000);
        GatewayFixture.RawResponse refused = gw.raw(post(key, second) + second);
        assertThat(refused.status()).as(refused.head()).isEqualTo(503);
        assertThat(refused.head()).containsIgnoringCase("Retry-After: 1");
        assertThat(refused.body()).contains("limit.gateway_busy");
        assertThat(bodiesSeen(gw)).as("a refused body never reaches the upstream").isZero();

        // why: a body that fits beside the held one is served
        String small = chat(10_000);
        assertThat(gw.post("/api/generate", key, small).statusCode()).isEqualTo(200);

        assertThat(finish(held, first, 1_000)).startsWith("HTTP/1.1 200");
      }
      // why: the held request ended, so its memory came back and the refused size now fits. The
      // client may read the answer before the gateway has run the exchange's end (on another event
      // loop than the next request's), so this is given a moment; a refusal never reaches the
      // upstream, which the count below holds
      assertThat(servedWithin(gw, key, chat(30_000))).isTrue();
      assertThat(bodiesSeen(gw)).isEqualTo(3);
    }
  }

  @Test
  void aChunkedBodyIsCountedAsItArrives() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(SMALL)) {
      String key = gw.newKey();
      String first = chat(40_000);
      try (Socket held = hold(gw, key, first, 1_000)) {
        awaitHeld(gw, first.length());
        // why: no declared length to take up front; each piece takes its share, and the piece
        // that passes the bound ends the request
        String body = chat(30_000);
        StringBuilder req =
            new StringBuilder(
                "POST /api/generate HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                    + key
                    + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < body.length(); i += 4096) {
          String piece = body.substring(i, Math.min(body.length(), i + 4096));
          req.append(Integer.toHexString(piece.length())).append("\r\n").append(piece);
          req.append("\r\n");
        }
        req.append("0\r\n\r\n");
        GatewayFixture.RawResponse refused = gw.raw(req.toString());
        assertThat(refused.status()).as(refused.head()).isEqualTo(503);
        assertThat(bodiesSeen(gw)).isZero();
        assertThat(finish(held, first, 1_000)).startsWith("HTTP/1.1 200");
      }
    }
  }

  @Test
  void memoryComesBackWhenTheClientGoesAway() throws Exception {
    try (GatewayFixture gw = GatewayFixture.start(SMALL)) {
      String key = gw.newKey();
      for (int i = 0; i < 5; i++) {
        // why: an upload abandoned half way must not keep its share: five of them would
        // otherwise hold more than the bound
        Socket s = hold(gw, key, chat(40_000), 2_000);
        awaitHeld(gw, 40_000);
        s.setSoLinger(true, 0);
        s.close();
        // the share comes back once the gateway has seen the reset, on its own event loop: the
        // next upload must not race it (under load it arrived first and was refused, 503)
        awaitReleased(gw);
      }
      assertThat(servedWithin(gw, key, chat(45_000))).isTrue();
    }
  }

  /** A generate body of {@code length} bytes, asking for a stream or not. */
  private static String generate(int length, boolean stream) {
    String head =
        "{\"model\":\"llama3.2\",\"stream\":"
            + stream
            + ",\"options\":{\"num_predict\":8},\"prompt\":\"";
    return head + "x".repeat(length - head.length() - 2) + "\"}";
  }

  // why: a stream runs long after the upstream has its prompt. The body's share of the bound (and
  // its bytes) come back once the upstream has answered, not when the stream ends: else a few long
  // streams with large prompts or images hold the bound, and everyone else gets 503s meanwhile.
  // Both ways the relay writes a body: whole, and in pieces (past Relay.BODY_PIECE).
  @Test
  void aStreamGivesBackItsBodyOnceTheUpstreamHasAnswered() throws Exception {
    int[][] cases = {{40_000, 64 * 1024, 48 * 1024}, {600_000, 1024 * 1024, 700 * 1024}};
    for (int[] c : cases) {
      int size = c[0];
      try (GatewayFixture gw =
          GatewayFixture.start(
              Map.of(
                  "limits.body_memory",
                  Integer.toString(c[1]),
                  "limits.max_body",
                  Integer.toString(c[2]),
                  "caps.prompt_chars",
                  "1000000"))) {
        gw.upstream.streaming(100, 100); // 10 s: still streaming when the test ends it
        String key = gw.newKey();
        String first = generate(size, true);
        try (Socket s = hold(gw, key, first, first.length())) {
          InputStream in = s.getInputStream();
          byte[] buf = new byte[8192];
          int n = in.read(buf);
          assertThat(new String(buf, 0, n, StandardCharsets.ISO_8859_1))
              .as("the stream's head")
              .startsWith("HTTP/1.1 200");
          awaitReleased(gw);
          // a second body of the same size would not fit beside the first one: it is served
          assertThat(gw.post("/api/generate", key, generate(size, false)).statusCode())
              .as("%d bytes while the first stream runs", size)
              .isEqualTo(200);
          assertThat(in.read(buf)).as("the first stream goes on").isPositive();
          assertThat(gw.upstream.requests().getFirst().body())
              .as("the upstream had the whole body")
              .isEqualTo(first);
        }
      }
    }
  }

  @Test
  void theBoundIsCheckedAgainstTheLargestBody() throws Exception {
    // why: a bound below one allowed body would refuse that body every time
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    null,
                    false,
                    Map.of(),
                    Map.of(
                        "upstream",
                        "http://127.0.0.1:11434",
                        "limits.body_memory",
                        "1MiB",
                        "limits.max_body",
                        "2MiB"),
                    ConfigChecks.ALL))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("limits.body_memory");

    GatehouseConfig auto = settings("limits.max_body", "64MiB");
    // why: by default the bound is 60% of the heap, so a small heap cannot hold a 64 MiB body
    assertThat(Gateway.bodyMemory(auto, 1L << 30, 1L << 30).limit()).isEqualTo((1L << 30) / 10 * 6);
    assertThatThrownBy(() -> Gateway.bodyMemory(auto, 64L << 20, 64L << 20))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-Xmx");
  }

  @Test
  void theDefaultBoundLeavesTheOldGenerationRoomForTheGatewaysOwnObjects() throws Exception {
    // why: a body held for seconds is promoted to the old generation, which Serial caps below the
    // heap. With Serial's own layout for -Xmx384m (old generation 256 MiB), 60% of the heap let 16
    // uploads of 14 MB fill it beside the gateway's own 25-odd MiB, and the bench's large-body
    // step ran the JVM out of heap and took the gateway down. The bound now stops 64 MiB short of
    // the old generation. (Heaps as Serial reports them: Runtime.maxMemory leaves out a survivor.)
    GatehouseConfig auto = settings();
    long heap = 371L << 20; // -Xmx384m, Serial's own layout
    assertThat(Gateway.bodyMemory(auto, heap, 256L << 20).limit())
        .as("Serial's own layout: the old generation less the reserve")
        .isEqualTo(192L << 20);
    long launcher = (36_162L << 20) / 100; // -Xmx368m -XX:MaxNewSize=64m: 361.62 MiB
    assertThat(Gateway.bodyMemory(auto, launcher, 304L << 20).limit())
        .as("the launcher's layout: 60% of the heap, which holds the bench's 16 uploads")
        .isEqualTo(launcher / 10 * 6)
        .isGreaterThanOrEqualTo(16 * 13_981_100L);
    assertThat(Gateway.bodyMemory(auto, heap, heap).limit())
        .as("a collector whose old generation may take the whole heap")
        .isEqualTo(heap / 10 * 6);
    assertThatThrownBy(() -> Gateway.bodyMemory(auto, heap, 72L << 20))
        .as("an old generation that leaves less than one body refuses to start")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("old generation");
    // A bound set in the config stands as set: the operator sized the heap for it.
    GatehouseConfig set = settings("limits.body_memory", "300MiB");
    assertThat(Gateway.bodyMemory(set, heap, 256L << 20).limit()).isEqualTo(300L << 20);
  }

  /** A config with an upstream and these settings (name, value, ...), checked as serve does. */
  private static GatehouseConfig settings(String... nameValue) throws Exception {
    Map<String, String> given = new java.util.HashMap<>();
    given.put("upstream", "http://127.0.0.1:11434");
    for (int i = 0; i < nameValue.length; i += 2) {
      given.put(nameValue[i], nameValue[i + 1]);
    }
    return ConfigLoader.load(null, false, Map.of(), given, ConfigChecks.ALL);
  }

  @Test
  void theOldGenerationIsReadFromTheRunningJvm() {
    // why: the bound follows the collector and sizes the JVM runs with, not an assumed layout
    long heap = Runtime.getRuntime().maxMemory();
    long old = Gateway.oldGeneration(heap);
    assertThat(old).isPositive().isLessThanOrEqualTo(heap);
    boolean fixedOld =
        java.lang.management.ManagementFactory.getMemoryPoolMXBeans().stream()
            .anyMatch(p -> p.getName().equals("Tenured Gen") || p.getName().equals("PS Old Gen"));
    if (fixedOld) {
      assertThat(old).as("Serial and Parallel keep a young generation apart").isLessThan(heap);
    }
  }

  @Test
  void theCounterNeverPassesItsBound() {
    BodyMemory m = new BodyMemory(100);
    assertThat(m.take(60)).isTrue();
    assertThat(m.take(41)).isFalse();
    assertThat(m.take(40)).isTrue();
    assertThat(m.take(1)).isFalse();
    m.give(60);
    assertThat(m.held()).isEqualTo(40);
    assertThat(m.take(Long.MAX_VALUE)).as("no overflow past the bound").isFalse();
    assertThatThrownBy(() -> m.take(-1)).isInstanceOf(IllegalArgumentException.class);
  }
}

package dev.gatehouse.exchange;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.testing.BodyCorpus;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * The streaming body reader refuses exactly what the full tree parse refused, with the same
 * message, names the same model, measures image payloads exactly, and allocates about nothing for a
 * large image.
 */
class BodyFieldsTest {

  /**
   * The old reader's verdict: the refusal's detail, or "ok model=..." for a body it let through.
   */
  private static String oldVerdict(String body) {
    JsonNode node;
    try {
      node = BodyCorpus.OLD.readTree(body.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      return "invalid";
    }
    if (node == null || !node.isObject()) {
      return "invalid";
    }
    if (JsonFields.hasAmbiguousNames(node)) {
      return "ambiguous";
    }
    JsonNode model = JsonFields.get(node, "model");
    if (model == null || !model.isTextual()) {
      model = JsonFields.get(node, "name");
    }
    return "ok model=" + (model != null && model.isTextual() ? model.asText() : null);
  }

  private static String newVerdict(String body) {
    BodyFields.Scan scan;
    try {
      scan = BodyFields.scan(Buffer.buffer(body.getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      return "invalid";
    }
    if (scan.fields() == null) {
      return "invalid";
    }
    return scan.ambiguousNames() ? "ambiguous" : "ok model=" + scan.model();
  }

  static List<String> corpus() throws IOException {
    List<String> all = new ArrayList<>(BodyCorpus.HAND);
    all.addAll(BodyCorpus.dataset());
    all.addAll(BodyCorpus.generated(12, 3000));
    return all;
  }

  @Test
  void refusesAndAcceptsExactlyWhatTheTreeParseDid() throws IOException {
    // why: every refusal of a malformed or ambiguous body (HostileRequestsTest's) must stay
    int refused = 0;
    for (String body : corpus()) {
      String old = oldVerdict(body);
      assertThat(newVerdict(body)).as(body).isEqualTo(old);
      refused += old.startsWith("ok") ? 0 : 1;
    }
    assertThat(refused).as("the corpus has refusals to compare").isGreaterThan(100);
  }

  @Test
  void measuresImagePayloadsAsTheStringWouldBe() throws IOException {
    // why: the image cap reads the length of a payload that is never made a string
    String[] payloads = {
      "",
      "aGk=",
      "data:",
      "data:,",
      "data:image/png;base64,aGk=",
      "data:image/png",
      "dat",
      "data\\u003aimage,x",
      "d\\u0061ta:x,yz",
      "\\/9j\\/4AAQ",
      "é日😀,x",
      "data:é,x",
      "\\ud83d\\ude00",
      "a\\\\,b",
      "data:a\\\",b"
    };
    for (String p : payloads) {
      assertMeasuredAsTheString("{\"images\":[\"" + p + "\"]}");
    }
    // Generated: runs of plain ASCII (counted eight bytes at a time) of every length around the
    // word size, broken by escapes, escaped quotes, non-ASCII and a data: prefix, at every offset.
    java.util.Random random = new java.util.Random(12);
    String[] breaks = {"\\\"", "\\\\", "\\n", "\\u00e9", "é", "日", "😀", ",", "\\/"};
    for (int n = 0; n < 3_000; n++) {
      StringBuilder p = new StringBuilder(random.nextInt(4) == 0 ? "data:image/png;base64" : "");
      for (int piece = random.nextInt(5); piece >= 0; piece--) {
        p.append("A".repeat(random.nextInt(20)).replace('A', (char) ('a' + random.nextInt(26))));
        if (random.nextBoolean()) {
          p.append(breaks[random.nextInt(breaks.length)]);
        }
      }
      assertMeasuredAsTheString(
          "{\"pad\":\"" + "x".repeat(random.nextInt(9)) + "\",\"images\":[\"" + p + "\"]}");
    }
    assertThatThrownBy(() -> new MeasuredText(1, 1).asText())
        .isInstanceOf(UnsupportedOperationException.class);
  }

  /** The measured image payload of {@code body} against the string a tree parse makes of it. */
  private static void assertMeasuredAsTheString(String body) throws IOException {
    String text = Objects.requireNonNull(BodyCorpus.full(body)).get("images").get(0).asText();
    MeasuredText m =
        (MeasuredText) Objects.requireNonNull(BodyCorpus.fields(body)).get("images").get(0);
    int comma = text.startsWith("data:") ? text.indexOf(',') + 1 : 0;
    assertThat(m.chars()).as(body).isEqualTo(text.length());
    assertThat(m.payloadChars()).as(body).isEqualTo(text.length() - comma);
  }

  @Test
  void aPlainRunEndsAtTheFirstQuoteBackslashOrNonAsciiByte() {
    // why: the word-at-a-time scan must stop exactly where the byte-at-a-time one would
    byte[] specials = {'"', '\\', (byte) 0xC3, (byte) 0x80, (byte) 0xFF};
    for (int len = 0; len <= 24; len++) {
      for (int from = 0; from <= len; from++) {
        byte[] b = new byte[len];
        java.util.Arrays.fill(b, (byte) 'Q');
        assertThat(BodyFields.plainRun(b, from, len)).isEqualTo(len);
        for (int at = from; at < len; at++) {
          for (byte special : specials) {
            java.util.Arrays.fill(b, (byte) 'Q');
            b[at] = special;
            if (at + 1 < len) {
              b[at + 1] = '"'; // a later hit never wins over an earlier one
            }
            assertThat(BodyFields.plainRun(b, from, len))
                .as("%d %d %d", len, from, at)
                .isEqualTo(at);
          }
        }
      }
    }
  }

  @Test
  void keepsOnlyThePolicyFields() throws IOException {
    // why: the rest of a body (generation options, metadata, schemas) is never decoded or kept
    ObjectNode f =
        BodyFields.scan(
                Buffer.buffer(
                    "{\"model\":\"m\",\"temperature\":0.2,\"metadata\":{\"model\":\"x\"},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\",\"name\":\"n\"}]}"))
            .fields();
    assertThat(Objects.requireNonNull(f).toString())
        .isEqualTo("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
  }

  /** A chat body with one base64 image of {@code imageBytes} bytes, in the OpenAI shape. */
  static byte[] imageBody(int imageBytes) {
    String image = Base64.getEncoder().encodeToString(new byte[imageBytes]);
    return ("{\"model\":\"llava\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":["
            + "{\"type\":\"text\",\"text\":\"What is in this picture?\"},"
            + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,"
            + image
            + "\"}}]}]}")
        .getBytes(StandardCharsets.UTF_8);
  }

  static final byte[] SMALL =
      ("{\"model\":\"llama3\",\"stream\":true,\"max_tokens\":256,\"messages\":["
              + "{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
              + "{\"role\":\"user\",\"content\":\"Write a haiku about the sea.\"}]}")
          .getBytes(StandardCharsets.UTF_8);

  /** Bytes this thread allocated while running {@code work}, after warming it up. */
  static long allocated(ThrowingRunnable work) throws IOException {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().threadId();
    for (int i = 0; i < 5; i++) {
      work.run(); // classes loaded, Jackson's buffer recyclers filled
    }
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      long before = mx.getThreadAllocatedBytes(id);
      work.run();
      best = Math.min(best, mx.getThreadAllocatedBytes(id) - before);
    }
    return best;
  }

  interface ThrowingRunnable {
    void run() throws IOException;
  }

  @Test
  void aLargeImageBodyIsReadWithoutCopies() throws IOException {
    // A measurement of allocation, not of time: getThreadAllocatedBytes counts the bytes this
    // thread's allocations took (TLAB-exact), which depends on the code path, not on load, the GC
    // or the JIT's timing; the minimum of five warmed runs drops a one-off (a recycler refill).
    // The old reader copied the body (getBytes), decoded the image into a string and a tree node:
    // about 3x the body. The streaming one allocates a few kilobytes whatever the image's size.
    byte[] big = imageBody(7_500_000); // a 10 MB body: 7.5 MB of image as base64
    Buffer body = Buffer.buffer(big);
    long scan = allocated(() -> BodyFields.scan(body));
    long tree = allocated(() -> BodyCorpus.OLD.readTree(body.getBytes()));
    Buffer small = Buffer.buffer(SMALL);
    long smallScan = allocated(() -> BodyFields.scan(small));
    long smallTree = allocated(() -> BodyCorpus.OLD.readTree(small.getBytes()));
    // the rare rewrite path (a cap changed, include_usage, a redaction): full tree, serialise, scan
    long rewrite = allocated(() -> BodyFields.scan(BodyFields.write(BodyFields.tree(body))));
    System.out.printf("allocated: rewriting the 10 MB image body: %d%n", rewrite);
    System.out.printf(
        "allocated: 10 MB image body (%d bytes): tree %d, scan %d; small chat body (%d bytes):"
            + " tree %d, scan %d%n",
        big.length, tree, scan, SMALL.length, smallTree, smallScan);
    assertThat(scan).isLessThan(big.length * 3L / 2);
    assertThat(scan).as("no copy of the image at all").isLessThan(64 * 1024);
  }
}

package dev.gatehouse.account;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.LocalUsageLedger;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The meter passes a stream on in whole lines (NDJSON) or whole events (SSE), byte for byte,
 * however the upstream's reads split it: mid-line, mid-separator, and inside a multi-byte
 * character. It counts one token per content line or event, takes the final figures, and drops only
 * the usage event the gateway asked for.
 */
class UsageMeterTest {

  private static final String[] TEXT = {
    "Hello", "caf\u00e9", "\u65e5\u672c\u8a9e", "\ud83d\ude00 emoji", "a \\\"quote\\\"", "\u2028"
  };

  /** One generated stream: its units, what the client must get, and the figures. */
  private record Stream(List<byte[]> units, byte[] expected, int content, long in, long out) {}

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Stream ndjson(Random r) {
    List<byte[]> units = new ArrayList<>();
    int content = 0;
    int n = 1 + r.nextInt(12);
    for (int i = 0; i < n; i++) {
      String t = TEXT[r.nextInt(TEXT.length)];
      switch (r.nextInt(10)) {
        case 0 -> units.add(utf8("\n")); // blank: no token
        case 1 -> units.add(utf8(" \t\u3000\n")); // blank in another script: no token
        case 2 -> units.add(utf8("{\"error\":\"x " + t + "\"}\n")); // an error: no token
        default -> {
          units.add(utf8("{\"message\":{\"content\":\"" + t + "\"},\"done\":false}\n"));
          content++;
        }
      }
    }
    units.add(utf8("{\"done\":true,\"prompt_eval_count\":26,\"eval_count\":48}\n"));
    return new Stream(units, concat(units), content, 26, 48);
  }

  private static Stream sse(Random r, boolean strip) {
    List<byte[]> units = new ArrayList<>();
    List<byte[]> kept = new ArrayList<>();
    int content = 0;
    int n = 1 + r.nextInt(12);
    String nl = r.nextBoolean() ? "\n" : "\r\n";
    for (int i = 0; i < n; i++) {
      String t = TEXT[r.nextInt(TEXT.length)];
      String sp = r.nextBoolean() ? " " : "";
      byte[] unit =
          switch (r.nextInt(8)) {
            case 0 -> utf8(": keep-alive" + nl + nl); // a comment: no data, no token
            case 1 -> utf8("event: ping" + nl + "data:" + nl + nl); // empty data: one token
            case 2 ->
                utf8("data:" + sp + "{\"a\":" + nl + "data: \"" + t + "\"}" + nl + nl); // two lines
            default ->
                utf8(
                    "data:"
                        + sp
                        + "{\"choices\":[{\"delta\":{\"content\":\""
                        + t
                        + "\"}}]}"
                        + nl
                        + nl);
          };
      units.add(unit);
      kept.add(unit);
      if (!new String(unit, StandardCharsets.UTF_8).startsWith(":")) {
        content++;
      }
    }
    byte[] usage =
        utf8(
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7}}"
                + nl
                + nl);
    units.add(usage);
    if (!strip) {
      kept.add(usage);
    }
    byte[] done = utf8("data: [DONE]" + nl + nl);
    units.add(done);
    kept.add(done);
    return new Stream(units, concat(kept), content, 5, 7);
  }

  private static byte[] concat(List<byte[]> parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    parts.forEach(out::writeBytes);
    return out.toByteArray();
  }

  /** Feeds {@code stream} split at random points; what the client got, and the meter. */
  private static byte[] feed(UsageMeter m, byte[] all, Random r) {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    List<Buffer> chunks = new ArrayList<>();
    List<byte[]> pieces = new ArrayList<>();
    int at = 0;
    while (at < all.length) {
      int len = 1 + r.nextInt(r.nextBoolean() ? 4 : 40);
      int end = Math.min(all.length, at + len);
      byte[] piece = java.util.Arrays.copyOfRange(all, at, end);
      Buffer chunk = Buffer.buffer(piece);
      got.writeBytes(m.onChunk(chunk).getBytes());
      chunks.add(chunk);
      pieces.add(piece);
      at = end;
    }
    got.writeBytes(m.onEnd().getBytes());
    for (int i = 0; i < chunks.size(); i++) {
      // not even later: a chunk passed on may still wait in the client's connection, unsent
      assertThat(chunks.get(i).getBytes())
          .as("the upstream's chunk is not written to")
          .isEqualTo(pieces.get(i));
    }
    return got.toByteArray();
  }

  private static UsageMeter meter(String contentType, boolean strip) {
    UsageMeter m = new UsageMeter(new LocalUsageLedger(Clock.systemUTC()), "k", "m", 0, 0, strip);
    m.onHead(200, contentType);
    return m;
  }

  /** The whole stream, fed in random reads: passed on as expected, with the stream's figures. */
  private static void assertPassedOnWithItsFigures(UsageMeter m, Stream s, Random r) {
    assertThat(feed(m, concat(s.units()), r)).isEqualTo(s.expected());
    assertThat(m.tokensIn()).isEqualTo(s.in());
    assertThat(m.tokensOut()).isEqualTo(s.out());
  }

  @Test
  void aWholeJsonAnswerPassesByteForByteAndItsFiguresAreReadHoweverTheReadsSplitIt() {
    Random r = new Random(7);
    for (int i = 0; i < 200; i++) {
      String t = TEXT[r.nextInt(TEXT.length)];
      String body =
          r.nextBoolean()
              ? "{\"message\":{\"content\":\""
                  + t
                  + "\"},\"done\":true,\"prompt_eval_count\":26,\"eval_count\":48}"
              : "{\"choices\":[{\"message\":{\"content\":\""
                  + t
                  + "\"}}],\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":48}}";
      UsageMeter m = meter("application/json", false);
      assertThat(feed(m, utf8(body), r)).isEqualTo(utf8(body));
      assertThat(m.tokensIn()).as(body).isEqualTo(26);
      assertThat(m.tokensOut()).as(body).isEqualTo(48);
    }
  }

  @Test
  void ndjsonLinesPassByteForByteHoweverTheReadsSplitThem() {
    Random r = new Random(11);
    for (int i = 0; i < 2000; i++) {
      Stream s = ndjson(r);
      assertPassedOnWithItsFigures(meter("application/x-ndjson", false), s, r);
    }
  }

  @Test
  void sseEventsPassByteForByteAndOnlyTheUsageEventTheGatewayAskedForIsDropped() {
    Random r = new Random(12);
    for (int i = 0; i < 4000; i++) {
      boolean strip = r.nextBoolean();
      Stream s = sse(r, strip);
      assertPassedOnWithItsFigures(meter("text/event-stream; charset=utf-8", strip), s, r);
    }
  }

  @Test
  void contentIsCountedAsOneTokenPerLineOrEventUntilTheFiguresCome() {
    Random r = new Random(13);
    for (int i = 0; i < 500; i++) {
      boolean nd = r.nextBoolean();
      Stream s = nd ? ndjson(r) : sse(r, false);
      UsageMeter m = meter(nd ? "application/x-ndjson" : "text/event-stream", false);
      // everything but the figures (NDJSON's last line; SSE's usage and [DONE] events): the
      // estimate is what was counted
      List<byte[]> content = s.units().subList(0, s.units().size() - (nd ? 1 : 2));
      feed(m, concat(content), r);
      assertThat(m.tokensOut()).isEqualTo(s.content() == 0 ? -1 : s.content());
    }
  }

  @Test
  void anUnterminatedLastLineOrEventStillReachesTheClient() {
    // why: the upstream's last bytes belong to the client even without their end of line
    UsageMeter nd = meter("application/x-ndjson", false);
    assertThat(nd.onChunk(Buffer.buffer("{\"a\":1}\n{\"b\":\u00e9")).toString())
        .isEqualTo("{\"a\":1}\n");
    assertThat(nd.onEnd().toString()).isEqualTo("{\"b\":\u00e9");
    UsageMeter sse = meter("text/event-stream", true);
    assertThat(sse.onChunk(Buffer.buffer("data: 1\r\n\r\ndata: 2\r\n")).toString())
        .isEqualTo("data: 1\r\n\r\n");
    assertThat(sse.onEnd().toString()).isEqualTo("data: 2\r\n");
  }

  @Test
  void aCharacterSplitBetweenTwoReadsIsPassedOnIntact() {
    // why: a line decoded before it was whole turned the halves of a character into two U+FFFD
    byte[] line = utf8("{\"message\":{\"content\":\"\u65e5\"},\"done\":false}\n");
    int mid = new String(line, StandardCharsets.UTF_8).indexOf('\u65e5') + 1; // inside its 3 bytes
    for (String type : new String[] {"application/x-ndjson", "text/event-stream"}) {
      byte[] all =
          type.startsWith("text") ? concat(List.of(utf8("data: "), line, utf8("\n"))) : line;
      int cut = type.startsWith("text") ? mid + 6 : mid;
      UsageMeter m = meter(type, false);
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      got.writeBytes(
          m.onChunk(Buffer.buffer(java.util.Arrays.copyOfRange(all, 0, cut))).getBytes());
      got.writeBytes(
          m.onChunk(Buffer.buffer(java.util.Arrays.copyOfRange(all, cut, all.length))).getBytes());
      got.writeBytes(m.onEnd().getBytes());
      assertThat(got.toByteArray()).as(type).isEqualTo(all);
    }
  }

  @Test
  void aJsonAnswerThatIsNotUtf8ThroughoutStillHasItsFiguresRead() {
    // why: the answer is read as UTF-8 bytes first; a stray byte in its text (0xFF, a cut
    // character) must not lose the figures the decoded text gives
    byte[] body =
        concat(
            List.of(
                utf8("{\"message\":{\"content\":\"a"),
                new byte[] {(byte) 0xff, (byte) 0xe6, (byte) 0x97},
                utf8("\"},\"done\":true,\"prompt_eval_count\":26,\"eval_count\":48}")));
    for (int cut : new int[] {body.length, 10, 30}) {
      UsageMeter m = meter("application/json", false);
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      got.writeBytes(
          m.onChunk(Buffer.buffer(java.util.Arrays.copyOfRange(body, 0, cut))).getBytes());
      if (cut < body.length) {
        got.writeBytes(
            m.onChunk(Buffer.buffer(java.util.Arrays.copyOfRange(body, cut, body.length)))
                .getBytes());
      }
      got.writeBytes(m.onEnd().getBytes());
      assertThat(got.toByteArray()).isEqualTo(body);
      assertThat(m.tokensIn()).as("cut at %d", cut).isEqualTo(26);
      assertThat(m.tokensOut()).as("cut at %d", cut).isEqualTo(48);
    }
  }
}

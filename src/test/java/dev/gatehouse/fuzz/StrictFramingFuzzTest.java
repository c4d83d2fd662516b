package dev.gatehouse.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.gatehouse.exchange.FramingRefusal;
import dev.gatehouse.listen.StrictFraming;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequestEncoder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Fuzzes the strict framing check with arbitrary byte streams split at arbitrary points.
 * Invariants: it never throws; what it hands on is a prefix of the input, byte for byte (it never
 * rewrites); a head goes on only whole, never in part; and the first request head in what it handed
 * on has a request line of HTTP/1.0 or 1.1, at most one framing header, never both
 * Transfer-Encoding and Content-Length, and exactly one Host on HTTP/1.1. At most one refusal is
 * reported to the account stage, and what its record would show (method, path) is safe to log.
 */
class StrictFramingFuzzTest {

  @FuzzTest(maxDuration = "15s")
  void frame(byte[] input) {
    check(input, input.length == 0 ? 1 : 1 + (input[0] & 0x3f));
  }

  static void check(byte[] input, int split) {
    ByteArrayOutputStream passed = new ByteArrayOutputStream();
    EmbeddedChannel ch = new EmbeddedChannel();
    // the names Vert.x gives its codec, so install() finds its place
    ch.pipeline()
        .addLast(
            "httpDecoder",
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                passed.writeBytes(bytes);
                b.release();
              }
            });
    ch.pipeline().addLast("httpEncoder", new HttpRequestEncoder());
    java.util.List<FramingRefusal> refused = new java.util.ArrayList<>();
    StrictFraming.install(ch, 1 << 20, 1 << 16, 4096, 30_000_000_000L, 1024, refused::add);
    for (int i = 0; i < input.length && ch.isOpen(); i += split) {
      ch.writeInbound(Unpooled.wrappedBuffer(input, i, Math.min(split, input.length - i)));
    }
    ch.finishAndReleaseAll();
    // At most one refusal per connection, and what its record would show of the bytes is safe to
    // log: a token of a method, a path in origin form without its query, never a control byte.
    assertThat(refused).hasSizeLessThanOrEqualTo(1);
    for (FramingRefusal r : refused) {
      assertThat(r.pipelined()).as("nothing reached a pipeline here").isFalse();
      assertThat(r.status()).isIn(400, 408, 413, 414, 431, 505);
      if (r.method() != null) {
        assertThat(r.method()).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,24}");
      }
      if (r.path() != null) {
        assertThat(r.path()).matches("/[^\\x00-\\x20\\x7f?#]{0,511}");
      }
    }
    byte[] out = passed.toByteArray();
    assertThat(out.length).isLessThanOrEqualTo(input.length);
    for (int i = 0; i < out.length; i++) {
      assertThat(out[i]).isEqualTo(input[i]);
    }
    // Every complete head handed on (up to CRLFCRLF) obeys the framing rules. Body bytes may look
    // like heads to this simple scan, so only the first head is judged.
    String text = new String(out, StandardCharsets.ISO_8859_1);
    int start = 0;
    while (text.startsWith("\r\n", start)) {
      start += 2; // empty lines before a request line, which may be ignored
    }
    if (start == text.length()) {
      return;
    }
    // A head is handed on only whole, once checked: never the start of one.
    int end = text.indexOf("\r\n\r\n", start);
    assertThat(end).as("a head handed on in part: %s", text).isGreaterThanOrEqualTo(start);
    String original = text.substring(start, end);
    String first = original.lines().findFirst().orElse("");
    // Only HTTP/1.0 and 1.1 go on: other versions, and bytes that are not a request line, are
    // refused (505, 400) rather than left to Netty, which answered them in its own words.
    assertThat(first).as(first).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ ]+ HTTP/1\\.[01]");
    String head = original.toLowerCase(Locale.ROOT);
    long te = head.lines().filter(l -> l.startsWith("transfer-encoding:")).count();
    long cl = head.lines().filter(l -> l.startsWith("content-length:")).count();
    assertThat(te + cl).as(head).isLessThanOrEqualTo(1);
    if (first.endsWith(" HTTP/1.1")) {
      assertThat(head.lines().filter(l -> l.startsWith("host:")).count()).as(head).isEqualTo(1);
    }
  }
}

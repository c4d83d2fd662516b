package dev.gatehouse.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.gatehouse.upstream.UpstreamFramingProbe;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Fuzzes the upstream response framing check with arbitrary byte streams, split at arbitrary
 * points, after one request (GET or HEAD, chosen by the input). Invariants: it never throws; what
 * it hands on is a prefix of the input, byte for byte; and the first response head in what it
 * handed on has at most one framing header and a well-formed status line.
 */
class UpstreamFramingFuzzTest {

  @FuzzTest(maxDuration = "15s")
  void frame(byte[] input) {
    check(
        input,
        input.length == 0 ? 1 : 1 + (input[0] & 0x3f),
        input.length > 1 && (input[1] & 1) == 1);
  }

  static void check(byte[] input, int split, boolean head) {
    ByteArrayOutputStream passed = new ByteArrayOutputStream();
    EmbeddedChannel ch = new EmbeddedChannel();
    // stands where Vert.x's client codec stands, so install() finds its place
    ch.pipeline()
        .addLast(
            "codec",
            new ChannelDuplexHandler() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                passed.writeBytes(bytes);
                b.release();
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                // a framing refusal: Vert.x fails the request in flight; here it only ends the
                // input
                assertThat(cause).isInstanceOf(io.netty.handler.codec.DecoderException.class);
              }
            });
    assertThat(UpstreamFramingProbe.install(ch)).isTrue();
    ch.writeOutbound(
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, head ? HttpMethod.HEAD : HttpMethod.GET, "/api/tags"));
    for (int i = 0; i < input.length && ch.isOpen(); i += split) {
      ch.writeInbound(Unpooled.wrappedBuffer(input, i, Math.min(split, input.length - i)));
    }
    ch.finishAndReleaseAll();
    byte[] out = passed.toByteArray();
    assertThat(out.length).isLessThanOrEqualTo(input.length);
    for (int i = 0; i < out.length; i++) {
      assertThat(out[i]).isEqualTo(input[i]);
    }
    String text = new String(out, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    if (end > 0) {
      String original = text.substring(0, end);
      String first = original.lines().findFirst().orElse("");
      assertThat(first).as(original).matches("(?s)HTTP/1\\.[01] [0-9]{3}( .*)?");
      String h = original.toLowerCase(Locale.ROOT);
      long te = h.lines().filter(l -> l.startsWith("transfer-encoding:")).count();
      long cl = h.lines().filter(l -> l.startsWith("content-length:")).count();
      assertThat(te + cl).as(original).isLessThanOrEqualTo(1);
    }
  }
}

package dev.gatehouse.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The word-at-a-time scans and the section-end search answer as plain byte loops do. Inputs are
 * drawn so that every byte value lands in every position of a word, since a borrow from one byte
 * into the next is where such scans go wrong.
 */
class Http1GrammarTest {

  private static int plainFirst(byte[] a, int from, int to, int below) {
    for (int k = from; k < to; k++) {
      int c = a[k] & 0xff;
      if (c < below || c == 0x7f) {
        return k;
      }
    }
    return to;
  }

  @Test
  void firstControlFindsWhatAByteLoopFinds() {
    Random r = new Random(1);
    for (int round = 0; round < 200_000; round++) {
      byte[] a = new byte[1 + r.nextInt(40)];
      for (int k = 0; k < a.length; k++) {
        // mostly printable, with every other byte value (0x00-0x1f, 0x7f, 0x80-0xff) sprinkled in
        a[k] = (byte) (r.nextInt(8) == 0 ? r.nextInt(256) : 0x20 + r.nextInt(0x5f));
      }
      int from = r.nextInt(a.length);
      int to = from + r.nextInt(a.length - from + 1);
      assertThat(Http1Grammar.firstControl(a, from, to))
          .as("round %d", round)
          .isEqualTo(plainFirst(a, from, to, 0x20));
      assertThat(Http1Grammar.firstSpaceOrControl(a, from, to))
          .as("round %d", round)
          .isEqualTo(plainFirst(a, from, to, 0x21));
    }
  }

  @Test
  void everyByteValueInEveryPositionOfAWord() {
    for (int pos = 0; pos < 8; pos++) {
      for (int v = 0; v < 256; v++) {
        for (int fill : new int[] {'a', 0x80, 0xff, 0x21, 0x7e}) {
          byte[] a = new byte[16];
          java.util.Arrays.fill(a, (byte) fill);
          a[pos] = (byte) v;
          assertThat(Http1Grammar.firstControl(a, 0, 16))
              .as("v=%x pos=%d fill=%x", v, pos, fill)
              .isEqualTo(plainFirst(a, 0, 16, 0x20));
          assertThat(Http1Grammar.firstSpaceOrControl(a, 0, 16))
              .as("v=%x pos=%d fill=%x", v, pos, fill)
              .isEqualTo(plainFirst(a, 0, 16, 0x21));
        }
      }
    }
  }

  /**
   * The plain reading: the index past the first CRLF CRLF (or a leading CRLF), a bare LF, or open.
   */
  private static int plainSectionEnd(byte[] all) {
    for (int k = 0; k < all.length; k++) {
      if (all[k] == '\n') {
        if (k == 0 || all[k - 1] != '\r') {
          return Http1Grammar.SECTION_BARE_LF;
        }
        if (k == 1 || all[k - 2] == '\n') {
          return k + 1;
        }
      }
    }
    return Http1Grammar.SECTION_OPEN;
  }

  @Test
  void sectionEndAcrossReadsMatchesAPlainReading() {
    Random r = new Random(2);
    byte[] alphabet = "ab:\r\n ".getBytes(StandardCharsets.ISO_8859_1);
    for (int round = 0; round < 100_000; round++) {
      byte[] all = new byte[1 + r.nextInt(30)];
      for (int k = 0; k < all.length; k++) {
        all[k] = alphabet[r.nextInt(alphabet.length)];
      }
      int expected = plainSectionEnd(all);
      // the same bytes split into a part read before (collected) and the rest in a buffer
      int collected = r.nextInt(all.length);
      byte[] line = java.util.Arrays.copyOf(all, collected);
      if (plainSectionEnd(line) != Http1Grammar.SECTION_OPEN) {
        continue; // the section would have ended in the earlier read
      }
      int offset = r.nextInt(4); // the buffer's reader index need not be 0
      ByteBuf buf = Unpooled.buffer();
      buf.writeZero(offset).writeBytes(all, collected, all.length - collected);
      int got = Http1Grammar.sectionEnd(buf, offset, buf.writerIndex(), line, collected);
      int want = expected < 0 ? expected : expected - collected + offset;
      assertThat(got)
          .as(
              "round %d: %s split at %d",
              round,
              new String(all, StandardCharsets.ISO_8859_1)
                  .replace("\r", "\\r")
                  .replace("\n", "\\n"),
              collected)
          .isEqualTo(want);
      buf.release();
    }
  }

  @Test
  void fieldsReadInPlace() {
    byte[] head =
        "Host: a.example:80 \r\nTransfer-Encoding:\tChunked\r\nX: y\r\n\r\n"
            .getBytes(StandardCharsets.ISO_8859_1);
    Http1Grammar.Fields f = new Http1Grammar.Fields();
    assertThat(Http1Grammar.fields(head, 0, head.length, f)).isNull();
    assertThat(f.hosts).isEqualTo(1);
    assertThat(f.host()).isEqualTo("a.example:80");
    assertThat(f.transferEncodings).isEqualTo(1);
    assertThat(f.chunkedOnly()).isTrue();
    byte[] cl = "Content-Length: 0042\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    Http1Grammar.Fields g = new Http1Grammar.Fields();
    assertThat(Http1Grammar.fields(cl, 0, cl.length, g)).isNull();
    assertThat(g.contentLengthValue()).isEqualTo(42);
    assertThat(Http1Grammar.contentLength("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
    assertThat(Http1Grammar.contentLength("9223372036854775808")).isEqualTo(-1);
    assertThat(Http1Grammar.contentLength("99999999999999999999")).isEqualTo(-1);
    assertThat(Http1Grammar.contentLength("+5")).isEqualTo(-1);
    assertThat(Http1Grammar.contentLength("")).isEqualTo(-1);
  }

  @Test
  void fieldsRefuseWhatTheGrammarRefuses() {
    String[] bad = {
      "X: a\u0001b\r\n\r\n", // control character in a value
      "X: a\u007fb\r\n\r\n", // DEL in a value
      "X: a\rb\r\n\r\n", // bare CR in a value
      "X: a\nb\r\n\r\n", // bare LF in a value
      "X : a\r\n\r\n", // space before the colon
      " X: a\r\n\r\n", // obs-fold at the start
      ": a\r\n\r\n", // no name
      "X\r\n\r\n", // no colon
      "X\u00e9: a\r\n\r\n", // a name byte past ASCII
      "X: a\r\n\r", // a section cut before its last LF
    };
    for (String b : bad) {
      byte[] h = b.getBytes(StandardCharsets.ISO_8859_1);
      assertThat(Http1Grammar.fields(h, 0, h.length, new Http1Grammar.Fields())).as(b).isNotNull();
    }
    byte[] ok =
        "X: a\tb \u00e9\u00ff\r\n\r\n"
            .getBytes(StandardCharsets.ISO_8859_1); // tab and obs-text in a value are allowed
    assertThat(Http1Grammar.fields(ok, 0, ok.length, new Http1Grammar.Fields())).isNull();
  }

  @Test
  void aLineBufferIsMadeOnFirstUseGrownByDoublingKeptWhenLargeEnoughAndCapped() {
    assertThat(Http1Grammar.NO_LINE).isEmpty();
    byte[] first = Http1Grammar.room(Http1Grammar.NO_LINE, 10, 65536);
    assertThat(first).hasSize(256); // a chunk-size line, or most heads, without a second copy
    assertThat(Http1Grammar.room(first, 256, 65536)).isSameAs(first);
    first[0] = 'x';
    byte[] grown = Http1Grammar.room(first, 257, 65536);
    assertThat(grown).hasSize(512).startsWith((byte) 'x'); // what was collected is kept
    assertThat(Http1Grammar.room(grown, 5000, 65536)).hasSize(5000);
    assertThat(Http1Grammar.room(Http1Grammar.NO_LINE, 100, 64)).hasSize(64); // never past max
  }
}

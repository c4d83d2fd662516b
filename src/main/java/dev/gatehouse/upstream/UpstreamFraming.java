package dev.gatehouse.upstream;

import dev.gatehouse.http1.Http1Grammar;
import dev.gatehouse.http1.Http1Grammar.Fields;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpConnection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Strict HTTP/1.1 framing of the upstream's responses (RFC 9112 §4-§7), on the bytes as the model
 * server sent them, before Netty's response decoder sees them. The request side ({@code
 * listen/StrictFraming}) keeps a client from smuggling a request past a front proxy; this keeps a
 * hostile or broken upstream from desynchronising Gatehouse's pooled connection to it. A response
 * framed two ways (Content-Length beside Transfer-Encoding, {@code chunked, identity}, a chunk size
 * with spaces or 17 digits) or bytes sent after a complete response are how one client's answer
 * ends up as another's on the next request over that connection (response-queue poisoning). So the
 * same rules apply:
 *
 * <ul>
 *   <li>a status line {@code HTTP/1.x SP 3DIGIT SP reason CRLF}; the header grammar of {@link
 *       Http1Grammar#fields}: CRLF only, no obs-fold, no control characters, token names;
 *   <li>at most one framing header: exactly one {@code Transfer-Encoding: chunked}, or exactly one
 *       Content-Length of digits; never both; no framing field in the trailers;
 *   <li>chunk sizes of 1-16 hex digits alone, each chunk followed by CRLF;
 *   <li>no byte from the upstream unless a request is waiting for its response.
 * </ul>
 *
 * <p>A response to HEAD, a 1xx, 204 or 304 has no body whatever its headers say; a response with
 * neither framing header is read until the upstream closes. A violation closes the connection: the
 * bytes before the offending element go on, nothing after it does, and the request in flight fails
 * (502 before its head was relayed, the dialect's mid-stream error after). One per upstream
 * connection; runs on its event loop only.
 */
public final class UpstreamFraming extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = Logger.getLogger("gatehouse.proxy");

  /** Vert.x's HTTP/1.x client codec in the channel pipeline. */
  static final String CODEC = "codec";

  /**
   * The first buffer for a stream's chunk-size lines: 16 hex digits and CRLF fit; a longer line
   * (with extensions) grows it. A held stream keeps it.
   */
  private static final int CHUNK_LINE = 24;

  /** The largest response head (status line and fields) or trailer section read. */
  static final int MAX_HEAD = 64 * 1024;

  private enum State {
    IDLE,
    HEAD,
    BODY,
    CHUNK_SIZE,
    CHUNK_DATA,
    CHUNK_CRLF,
    TRAILERS,
    UNTIL_CLOSE,
    DEAD
  }

  private static final AdaptiveRecvByteBufAllocator READS =
      new AdaptiveRecvByteBufAllocator(1024, 2048, 65536);

  private State state = State.IDLE;

  /**
   * The current head, chunk-size or trailer bytes; none between responses (a pooled connection
   * holds no buffer while it waits), grown up to {@link #MAX_HEAD} as needed.
   */
  private byte[] line = Http1Grammar.NO_LINE;

  private int lineLength;
  private long remaining;

  /** One entry per request written and not yet answered: whether it was a HEAD request. */
  private final ArrayDeque<Boolean> awaiting = new ArrayDeque<>(2);

  /** Why a connection was closed; the relay reads it as the failure's message. */
  public static final class FramingException extends io.netty.handler.codec.DecoderException {
    private static final long serialVersionUID = 1L;

    FramingException(String why) {
      super("upstream response framing: " + why);
    }
  }

  /**
   * Puts a checker in front of the HTTP/1.x response decoder of {@code connection}. A connection
   * that cannot be checked (not HTTP/1.x as expected) is closed, so no request goes over it.
   */
  public static void install(HttpConnection connection) {
    if (connection instanceof io.vertx.core.net.impl.ConnectionBase base
        && install(base.channel())) {
      return;
    }
    LOG.warning(
        "event=upstream.framing_unavailable reason=\"connection without an HTTP/1.x codec\"");
    connection.close();
  }

  static boolean install(Channel channel) {
    ChannelPipeline p = channel.pipeline();
    if (p.get(CODEC) == null) {
      return false;
    }
    if (p.get(UpstreamFraming.class) == null) {
      UpstreamFraming framing = installChecker(channel);
      p.addAfter(CODEC, "gatehouseUpstreamRequests", framing.new Requests());
    }
    return true;
  }

  /**
   * As {@link #install(Channel)} on a channel with the codec, for a writer that tells the check of
   * each request itself ({@link #requestSent}) as it writes it: the relay's own connections, which
   * then carry no handler for their writes to pass.
   */
  static UpstreamFraming installChecker(Channel channel) {
    // Reads of at least 1 KiB. Netty's default guess shrinks towards the size of recent reads,
    // so after a stream of 200-byte chunks a response head and its first chunk, sent in one
    // packet, were read (and relayed to the client) in two pieces.
    channel.config().setRecvByteBufAllocator(READS);
    UpstreamFraming framing = new UpstreamFraming();
    channel.pipeline().addBefore(CODEC, "gatehouseUpstreamFraming", framing);
    return framing;
  }

  /**
   * A request is written on the connection: a response to it may come. On the channel's event loop,
   * before the request's head is written.
   */
  void requestSent(boolean head) {
    awaiting.add(head);
    if (state == State.IDLE) {
      state = State.HEAD;
      lineLength = 0;
    }
  }

  /** Notes each request as Vert.x writes it, before the encoder turns it into bytes. */
  private final class Requests extends ChannelOutboundHandlerAdapter {
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof HttpRequest req) {
        requestSent(req.method().equals(HttpMethod.HEAD));
      }
      ctx.write(msg, promise);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state == State.DEAD) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (state == State.UNTIL_CLOSE || !(msg instanceof ByteBuf buf)) {
      ctx.fireChannelRead(msg);
      return;
    }
    int start = buf.readerIndex();
    int[] good = {start};
    String why = scan(buf, good);
    if (why == null) {
      ctx.fireChannelRead(buf);
      return;
    }
    state = State.DEAD;
    LOG.warning(
        () ->
            "event=upstream.framing_refused peer="
                + ctx.channel().remoteAddress()
                + " reason=\""
                + why
                + "\"");
    // What came before the offending element was well framed and goes on; nothing after it does.
    if (good[0] > start) {
      ctx.fireChannelRead(buf.retainedSlice(start, good[0] - start));
    }
    buf.release();
    ctx.fireExceptionCaught(new FramingException(why));
    ctx.close();
  }

  /**
   * Scans {@code buf}; returns why it breaks the framing, or null. {@code good[0]} is set to the
   * end of the last element (body bytes, a whole line) that passed.
   */
  private @Nullable String scan(ByteBuf buf, int[] good) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end) {
      switch (state) {
        case IDLE -> {
          return "bytes from the upstream with no request waiting for them";
        }
        case BODY, CHUNK_DATA -> {
          long take = Math.min(remaining, end - i);
          i += (int) take;
          remaining -= take;
          if (remaining == 0) {
            if (state == State.BODY) {
              responseDone();
            } else {
              state = State.CHUNK_CRLF;
              lineLength = 0;
            }
          }
          good[0] = i;
        }
        case CHUNK_CRLF -> {
          byte b = buf.getByte(i++);
          if (b != (lineLength == 0 ? '\r' : '\n')) {
            return "chunk data not followed by CRLF";
          }
          if (++lineLength == 2) {
            state = State.CHUNK_SIZE;
            lineLength = 0;
            good[0] = i;
          }
        }
        case HEAD, TRAILERS -> {
          // a whole section (head or trailers) is collected, then checked once
          int stop = Http1Grammar.sectionEnd(buf, i, end, line, lineLength);
          if (stop == Http1Grammar.SECTION_BARE_LF) {
            return "bare LF (lines end in CRLF)";
          }
          int upTo = stop < 0 ? end : stop;
          if (!collect(buf, i, upTo)) {
            return state == State.HEAD
                ? "response head larger than " + MAX_HEAD + " bytes"
                : "trailer section too long";
          }
          i = upTo;
          if (stop >= 0) {
            String why = sectionDone();
            if (why != null) {
              return why;
            }
            good[0] = i;
          }
        }
        case CHUNK_SIZE -> {
          int lf = buf.indexOf(i, end, (byte) '\n');
          int stop = lf < 0 ? end : lf + 1;
          if (line.length == 0) {
            line = new byte[CHUNK_LINE]; // grown by collect for a longer one
          }
          if (!collect(buf, i, stop)) {
            return "chunk-size line too long";
          }
          i = stop;
          if (lf >= 0) {
            String why = chunkSizeDone();
            if (why != null) {
              return why;
            }
            good[0] = i;
          }
        }
        case UNTIL_CLOSE -> {
          return null;
        }
        case DEAD -> {
          return "closed";
        }
      }
    }
    return null;
  }

  /** Appends {@code buf[from, to)} to the collected bytes; false past {@link #MAX_HEAD}. */
  private boolean collect(ByteBuf buf, int from, int to) {
    int n = to - from;
    if (lineLength + n > MAX_HEAD) {
      return false;
    }
    line = Http1Grammar.room(line, lineLength + n, MAX_HEAD);
    buf.getBytes(from, line, lineLength, n);
    lineLength += n;
    return true;
  }

  /** A whole chunk-size line, ending in LF, is in {@code line[0, lineLength)}. */
  private @Nullable String chunkSizeDone() {
    boolean crlf = lineLength >= 2 && line[lineLength - 2] == '\r';
    long size = Http1Grammar.chunkSize(line, lineLength);
    lineLength = 0;
    if (!crlf) {
      return "bare LF (lines end in CRLF)";
    }
    if (size < 0) {
      return size == Http1Grammar.CHUNK_TOO_MANY_DIGITS
          ? "chunk size of more than 16 hex digits"
          : size == Http1Grammar.CHUNK_OVERFLOW
              ? "chunk size past 2^63"
              : "chunk size is not hex digits alone";
    }
    if (size == 0) {
      state = State.TRAILERS;
    } else {
      remaining = size;
      state = State.CHUNK_DATA;
    }
    return null;
  }

  /**
   * A whole head or trailer section, ending in its blank line, is in {@code line[0, lineLength)}.
   */
  private @Nullable String sectionDone() {
    if (state == State.HEAD) {
      if (lineLength == 2) {
        return "empty line before the status line";
      }
      String why = head();
      lineLength = 0;
      line = Http1Grammar.NO_LINE; // a stream's chunk-size lines need a small one (CHUNK_LINE)
      return why;
    }
    String why = null;
    if (lineLength > 2) {
      Fields t = new Fields();
      why = Http1Grammar.fields(line, 0, lineLength, t);
      if (why == null && t.framingOrRouting()) {
        why = "Content-Length, Transfer-Encoding or Host in the trailers";
      }
    }
    lineLength = 0;
    responseDone();
    return why;
  }

  /**
   * Checks a complete response head in {@code line[0, lineLength)}, and sets how its body is
   * framed.
   */
  private @Nullable String head() {
    int eol = Http1Grammar.indexOfCrlf(line, 0, lineLength);
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]; the last SP is taken as
    // optional, since servers omit it with an empty reason
    if (eol < 12
        || !startsWithHttp1()
        || (line[7] != '0' && line[7] != '1')
        || line[8] != ' '
        || (eol > 12 && line[12] != ' ')) {
      return "malformed status line";
    }
    String digits = statusDigits();
    if (digits != null) {
      return digits;
    }
    for (int k = 13; k < eol; k++) {
      int c = line[k] & 0xff;
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        return "control character in the reason phrase";
      }
    }
    int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    Fields h = new Fields();
    String why = Http1Grammar.fields(line, eol + 2, lineLength, h);
    if (why != null) {
      return why;
    }
    if (h.transferEncodings > 0 && h.contentLengths > 0) {
      return "both Transfer-Encoding and Content-Length";
    }
    if (h.transferEncodings > 1) {
      return "more than one Transfer-Encoding line";
    }
    if (h.contentLengths > 1) {
      return "more than one Content-Length line";
    }
    if (h.transferEncodings == 1 && !h.chunkedOnly()) {
      return "Transfer-Encoding other than one chunked coding";
    }
    long length = -1;
    if (h.contentLengths == 1) {
      length = h.contentLengthValue();
      if (length < 0) {
        return "Content-Length is not a number";
      }
    }
    if (status < 200) {
      if (status == 101) {
        state = State.UNTIL_CLOSE; // another protocol from here on: no longer HTTP/1.1 framing
      }
      return null; // an interim response: the final one for the same request follows
    }
    boolean head = Boolean.TRUE.equals(awaiting.peek());
    if (head || status == 204 || status == 304) {
      responseDone();
    } else if (h.transferEncodings == 1) {
      state = State.CHUNK_SIZE;
    } else if (length > 0) {
      remaining = length;
      state = State.BODY;
    } else if (length == 0) {
      responseDone();
    } else {
      state = State.UNTIL_CLOSE; // no framing header: the body runs until the upstream closes
    }
    return null;
  }

  private @Nullable String statusDigits() {
    for (int k = 9; k < 12; k++) {
      if (line[k] < '0' || line[k] > '9') {
        return "malformed status code";
      }
    }
    return null;
  }

  private static final byte[] HTTP_1 = "HTTP/1.".getBytes(StandardCharsets.ISO_8859_1);

  private boolean startsWithHttp1() {
    if (lineLength < HTTP_1.length) {
      return false;
    }
    return java.util.Arrays.equals(line, 0, HTTP_1.length, HTTP_1, 0, HTTP_1.length);
  }

  /** A whole response has been read: the next one belongs to the next request, if any. */
  private void responseDone() {
    awaiting.poll();
    state = awaiting.isEmpty() ? State.IDLE : State.HEAD;
    lineLength = 0;
    line = Http1Grammar.NO_LINE; // not kept for the life of a pooled connection
  }
}

package dev.gatehouse.listen;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.Dialect;
import dev.gatehouse.exchange.FramingRefusal;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.RequestIds;
import dev.gatehouse.http1.Http1Grammar;
import dev.gatehouse.http1.Http1Grammar.Fields;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.impl.ConnectionBase;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Strict HTTP/1.1 framing (RFC 9112 §2-§7), checked on the bytes as the client sent them, before
 * Netty's decoder sees them. Netty is lenient in ways a front proxy is not: it drops Content-Length
 * beside Transfer-Encoding, reads {@code chunked, identity} as chunked, unknown codings as no body,
 * trims spaces around chunk sizes and overflows long ones. Each of those lets a front proxy and
 * Gatehouse see different request boundaries, and the difference is a smuggled request. So every
 * request head and every chunk line is read here once, by the strict grammar:
 *
 * <ul>
 *   <li>CRLF line endings only; no bare CR, NUL or other control character in the head; no
 *       obs-fold; header names are tokens with no space before the colon;
 *   <li>at most one framing header: exactly one {@code Transfer-Encoding: chunked} (HTTP/1.1 only),
 *       or exactly one Content-Length of digits; never both;
 *   <li>chunk sizes of 1-16 hex digits with nothing around them (no extensions, no spaces), each
 *       chunk followed by CRLF; sizes and totals within the body limit (413 past it);
 *   <li>exactly one valid Host on HTTP/1.1 (at most one on 1.0), with no userinfo, agreeing with an
 *       absolute-form target.
 * </ul>
 *
 * <p>A violation is answered with 400 (413 for size, 414 for a request line and 431 for header
 * fields past the decoder's limits, 505 for an HTTP version other than 1.0 and 1.1), in Gatehouse's
 * own JSON with a request id, and the connection is closed; nothing after it is read, so nothing
 * pipelined behind it is ever forwarded. When an earlier request on the connection is still being
 * answered, the connection is closed without an answer, since a second response could not be placed
 * after the first.
 *
 * <p>Bytes that pass are handed on unchanged; body bytes are skipped, not copied. A head or trailer
 * section is handed on only once it is complete and checked: the part of one that came in earlier
 * reads is held back until then. So Netty's decoder never sees a section this has not passed, and
 * never answers in its own words (an empty {@code HTTP/1.0 400}, or {@code RTSP/1.0 501} to an RTSP
 * probe: a fingerprint of the foundation that scanners read). Bytes that cannot begin a request (a
 * TLS ClientHello on the plain port, an SSH banner, HTTP/0.9) are refused as soon as the request
 * line shows it, not after the head's timeout.
 *
 * <p>Every refusal is accounted for as a request ({@link FramingRefusal}): one the pipeline never
 * saw is handed to the account stage's callback (a log line, an audit record, the metrics, probe
 * scoring); one that cuts a request the pipeline is serving (its body broke) is left on the
 * connection ({@link #cut}), where the pipeline's own record of that request reads it. One per
 * HTTP/1.x connection; runs on its event loop only.
 */
public final class StrictFraming extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = Logger.getLogger("gatehouse.listen");

  /**
   * The names of Vert.x's HTTP/1.x request decoder and response encoder in the channel pipeline.
   */
  static final String DECODER = "httpDecoder";

  static final String ENCODER = "httpEncoder";

  /**
   * The longest request line, its CRLF not counted (414 past it): the decoder is given the same
   * limit ({@code HttpServerOptions.setMaxInitialLineLength}), so it never refuses a line this
   * passed.
   */
  public static final int MAX_REQUEST_LINE = 8192;

  /** Where the connection's byte stream stands. */
  private enum State {
    HEAD,
    BODY,
    CHUNK_SIZE,
    CHUNK_DATA,
    CHUNK_CRLF,
    TRAILERS,
    DEAD
  }

  /** Where a refusal the pipeline never saw is accounted for; null: logged here only. */
  private final @Nullable Consumer<FramingRefusal> account;

  /** A refusal that cut a request the pipeline is serving, on that request's connection. */
  private static final AttributeKey<FramingRefusal> CUT =
      AttributeKey.valueOf("gatehouse.framingRefusal");

  private final long maxContentLength;
  private final long maxChunkedBody;

  /**
   * The current head, chunk-size or trailer bytes; none while no head or trailer section is being
   * read (a keep-alive connection waiting for its next request holds no buffer), grown up to {@link
   * #maxHead} as needed.
   */
  private byte[] line = Http1Grammar.NO_LINE;

  private final int maxHead;

  /**
   * The last head that passed in the read being scanned, and its length: a refusal later in the
   * same read (its body broke) names its method and path from it. Let go of when the read is handed
   * on; the array is the one {@link #line} had, not a copy.
   */
  private byte @Nullable [] lastHead;

  private int lastHeadLength;

  /**
   * The most bytes of header field lines, their CRLFs not counted, as the decoder counts them
   * ({@code limits.max_header_bytes}; 431 past it).
   */
  private final int maxFieldBytes;

  private State state = State.HEAD;

  /**
   * Bytes at the start of {@link #line} that came in earlier reads and are not handed on yet: the
   * part of a head or trailer section that is still incomplete.
   */
  private int held;

  /** A copy of those bytes once their section passed, handed on before the read that ended it. */
  private @Nullable ByteBuf heldSection;

  /**
   * How far {@link #openRequestLine} has checked the request line of a head still incomplete, and
   * the two spaces it found (-1 until then); {@code openLineDone} once its CR came.
   */
  private int openChecked;

  private int openSp1 = -1;
  private int openSp2 = -1;
  private boolean openLineDone;

  /** Bytes of the current head (or chunk-size or trailer line) collected so far. */
  private int lineLength;

  /** Body bytes still to skip: Content-Length, or the rest of the current chunk. */
  private long remaining;

  /** Chunked body bytes so far in this request. */
  private long chunkedTotal;

  /** Request heads handed to the decoder, and complete responses written, on this connection. */
  private long requests;

  private final long bodyReadNanos;
  private final long bodyMinRate;

  @SuppressWarnings("NullAway.Init") // set in handlerAdded, before Netty calls anything else
  private ChannelHandlerContext ctx;

  /** The body being read: when its head ended, and its bytes so far; and the deadline check. */
  private boolean bodyActive;

  private long bodyStart;
  private long bodyBytes;
  private io.netty.util.concurrent.@Nullable ScheduledFuture<?> bodyCheck;

  /** Bytes dropped since a framing error. */
  private long drained;

  /** Request heads found in the read being scanned; they count once the read is handed on. */
  private int headsInRead;

  private long heads;
  private long responses;

  /**
   * The dialect of the request being read (head or body), for a refusal; Ollama's until its target
   * is read.
   */
  private Dialect dialect = Dialect.OLLAMA;

  /**
   * @param maxContentLength the largest Content-Length any route accepts (413 past it)
   * @param maxChunkedBody the largest chunked body (413 past it)
   * @param maxFieldBytes the most bytes of header field lines, CRLFs not counted (431 past it; the
   *     decoder's {@code maxHeaderSize}); a whole head may hold this, the request line and their
   *     CRLFs, up to {@link #MAX_REQUEST_LINE} + 2 bytes more
   * @param account where a refusal of a request the pipeline never saw goes (on this event loop);
   *     null to log it here only
   */
  public StrictFraming(
      long maxContentLength,
      long maxChunkedBody,
      int maxFieldBytes,
      long bodyReadNanos,
      long bodyMinRate,
      @Nullable Consumer<FramingRefusal> account) {
    this.account = account;
    this.maxContentLength = maxContentLength;
    this.maxChunkedBody = maxChunkedBody;
    this.maxFieldBytes = maxFieldBytes;
    this.maxHead = maxFieldBytes + MAX_REQUEST_LINE + 2;
    this.bodyReadNanos = bodyReadNanos;
    this.bodyMinRate = bodyMinRate;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  /**
   * Puts a new checker in front of the HTTP/1.x decoder of {@code channel}; does nothing on an
   * HTTP/2 connection, whose framing is binary and checked by its own codec.
   */
  public static void install(
      Channel channel,
      long maxContentLength,
      long maxChunkedBody,
      int maxFieldBytes,
      long bodyReadNanos,
      long bodyMinRate,
      @Nullable Consumer<FramingRefusal> account) {
    ChannelPipeline p = channel.pipeline();
    if (p.get(DECODER) != null && p.get(ENCODER) != null && p.get(StrictFraming.class) == null) {
      StrictFraming framing =
          new StrictFraming(
              maxContentLength, maxChunkedBody, maxFieldBytes, bodyReadNanos, bodyMinRate, account);
      p.addBefore(DECODER, "gatehouseFraming", framing);
      p.addAfter(ENCODER, "gatehouseResponses", framing.new Responses());
    }
  }

  /**
   * Gives a listener's HTTP/1.x decoder the limits this check enforces first, so that the decoder
   * never refuses (in its own words) a head the check passed: the request line's, and {@code
   * maxFieldBytes} of field lines.
   */
  public static HttpServerOptions limitDecoder(HttpServerOptions options, int maxFieldBytes) {
    return options.setMaxHeaderSize(maxFieldBytes).setMaxInitialLineLength(MAX_REQUEST_LINE);
  }

  /**
   * Puts a new checker on {@code conn} with {@code config}'s body limits and deadlines ({@link
   * #install(Channel, long, long, int, long, long, Consumer)}); {@code maxFieldBytes} is the
   * listener's, as given to {@link #limitDecoder}.
   */
  public static void install(
      HttpConnection conn,
      GatehouseConfig config,
      int maxFieldBytes,
      @Nullable Consumer<FramingRefusal> account) {
    if (conn instanceof ConnectionBase base) {
      GatehouseConfig.Limits limits = config.limits();
      install(
          base.channel(),
          Math.max(limits.maxBody(), limits.maxBlob()),
          limits.maxBody(),
          maxFieldBytes,
          config.timeouts().bodyRead().toNanos(),
          config.timeouts().bodyMinRate(),
          account);
    }
  }

  /**
   * The head timeout ({@code timeouts.header_read}, or {@code timeouts.keepalive} on an idle
   * keep-alive connection) is closing {@code conn}: a head that had begun to arrive is a request
   * refused (408 {@code request.head_timeout}, a slow or stalled client, or a slowloris) and is
   * accounted for as one; the connection is closed without an answer, as before. A connection that
   * sent nothing, or only empty lines, is no request. Call on the connection's event loop.
   */
  public static void headTimedOut(HttpConnection conn) {
    StrictFraming framing =
        conn instanceof ConnectionBase base
            ? base.channel().pipeline().get(StrictFraming.class)
            : null;
    if (framing != null && framing.state == State.HEAD && framing.lineLength > 0) {
      int bytes = framing.lineLength;
      Refusal r =
          framing.refusal(
              408,
              Problem.HEAD_TIMEOUT,
              "request head incomplete at the timeout (" + bytes + " bytes)");
      framing.account(r, RequestIds.next(), 0, false, "; closed without an answer");
    }
  }

  /**
   * The refusal that cut the request being served on {@code conn} (its body broke the framing), or
   * null. The pipeline asks when a response did not end, for that request's record.
   */
  public static @Nullable FramingRefusal cut(HttpConnection conn) {
    return conn instanceof ConnectionBase base ? base.channel().attr(CUT).get() : null;
  }

  /** A closed connection needs no body deadline: its pending check goes, and what it holds. */
  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (bodyCheck != null) {
      bodyCheck.cancel(false);
      bodyCheck = null;
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state == State.DEAD) {
      // After a framing error nothing more is read: bytes are dropped until the connection closes.
      if (msg instanceof ByteBuf b) {
        drained += b.readableBytes();
        if (drained > LINGER_BYTES) {
          ctx.close();
        }
      }
      ReferenceCountUtil.release(msg);
      return;
    }
    if (!(msg instanceof ByteBuf buf)) {
      ctx.fireChannelRead(msg);
      return;
    }
    headsInRead = 0;
    Refusal r = scan(buf);
    ByteBuf earlier = heldSection;
    heldSection = null;
    if (r == null) {
      requests += headsInRead;
      headsInRead = 0;
      lastHead = null;
      if (bodyActive && bodyCheck == null) {
        armBodyCheck(bodyReadNanos - (System.nanoTime() - bodyStart));
      }
      handOn(ctx, earlier, buf);
      return;
    }
    // Nothing of a buffer that holds an error goes on: a valid request before it in the same
    // read would be answered after the connection closed anyway.
    buf.release();
    if (earlier != null) {
      earlier.release();
    }
    refuse(ctx, r);
  }

  /**
   * Hands on a read that passed: first the held bytes of a section it ended, then the read, less
   * the bytes of a section still incomplete at its end (held from now on: they are in {@link
   * #line}).
   */
  private void handOn(ChannelHandlerContext ctx, @Nullable ByteBuf earlier, ByteBuf buf) {
    if (earlier != null) {
      ctx.fireChannelRead(earlier);
    }
    boolean open = (state == State.HEAD || state == State.TRAILERS) && lineLength > 0;
    if (!open) {
      ctx.fireChannelRead(buf);
      return;
    }
    int keep = lineLength - held; // this read's part of the open section: its last bytes
    held = lineLength;
    int from = buf.readerIndex();
    int upTo = buf.writerIndex() - keep;
    if (upTo > from) {
      ctx.fireChannelRead(buf.retainedSlice(from, upTo - from));
    }
    buf.release();
  }

  /**
   * Counts responses as Vert.x writes them, before the encoder turns them into bytes. An interim
   * response ({@code 100 Continue}, which Vert.x writes as a full response) is neither: the final
   * response is still owed after it.
   */
  private final class Responses extends ChannelOutboundHandlerAdapter {
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof HttpResponse r
          && r.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL) {
        ctx.write(msg, promise);
        return;
      }
      if (msg instanceof HttpResponse) {
        heads++;
      }
      if (msg instanceof LastHttpContent) {
        responses++; // a response (a FullHttpResponse is one too) has been written whole
      }
      ctx.write(msg, promise);
    }
  }

  /**
   * A framing error: the status and problem to answer with, what to log, and what is known of the
   * request it refuses.
   */
  private record Refusal(
      int status,
      Problem problem,
      String why,
      Dialect dialect,
      boolean inBody,
      @Nullable String method,
      @Nullable String path,
      long bytesIn) {}

  private @Nullable Refusal scan(ByteBuf buf) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end) {
      switch (state) {
        case BODY -> {
          long take = Math.min(remaining, end - i);
          i += (int) take;
          remaining -= take;
          bodyBytes += take;
          if (remaining == 0) {
            state = State.HEAD;
            bodyActive = false;
          }
        }
        case CHUNK_DATA -> {
          long take = Math.min(remaining, end - i);
          i += (int) take;
          remaining -= take;
          bodyBytes += take;
          if (remaining == 0) {
            state = State.CHUNK_CRLF;
            lineLength = 0;
          }
        }
        case CHUNK_CRLF -> {
          byte b = buf.getByte(i++);
          if (b != (lineLength == 0 ? '\r' : '\n')) {
            return refusal(400, Problem.FRAMING_INVALID, "chunk data not followed by CRLF");
          }
          if (++lineLength == 2) {
            state = State.CHUNK_SIZE;
            lineLength = 0;
          }
        }
        case HEAD, TRAILERS -> {
          // a whole section (head or trailers) is collected, then checked once
          int stop = Http1Grammar.sectionEnd(buf, i, end, line, lineLength);
          if (stop == Http1Grammar.SECTION_BARE_LF) {
            int n = Math.min(end - i, maxHead - lineLength); // kept for the refusal's record
            room(lineLength + n);
            buf.getBytes(i, line, lineLength, n);
            lineLength += n;
            return refusal(400, Problem.FRAMING_INVALID, "bare LF (lines end in CRLF)");
          }
          int upTo = stop < 0 ? end : stop;
          int n = upTo - i;
          if (lineLength + n > maxHead) {
            return state == State.HEAD
                ? refusal(
                    431, Problem.HEADERS_TOO_MANY, "request head larger than " + maxHead + " bytes")
                : refusal(400, Problem.FRAMING_INVALID, "trailer section too long");
          }
          room(lineLength + n);
          buf.getBytes(i, line, lineLength, n);
          lineLength += n;
          i = upTo;
          if (stop >= 0) {
            if (held > 0) {
              // the section's start came in earlier reads: it goes on ahead of this read
              heldSection = Unpooled.copiedBuffer(line, 0, held);
              held = 0;
            }
            openChecked = 0;
            openSp1 = -1;
            openSp2 = -1;
            openLineDone = false;
            Refusal r = sectionDone();
            if (r != null) {
              return r;
            }
          }
        }
        case CHUNK_SIZE -> {
          int lf = buf.indexOf(i, end, (byte) '\n');
          int stop = lf < 0 ? end : lf + 1;
          int n = stop - i;
          if (lineLength + n > maxHead) {
            return refusal(400, Problem.FRAMING_INVALID, "chunk-size line too long");
          }
          room(lineLength + n);
          buf.getBytes(i, line, lineLength, n);
          lineLength += n;
          i = stop;
          if (lf >= 0) {
            Refusal r =
                lineLength < 2 || line[lineLength - 2] != '\r'
                    ? refusal(400, Problem.FRAMING_INVALID, "bare LF (lines end in CRLF)")
                    : chunkSize();
            lineLength = 0;
            if (r != null) {
              return r;
            }
          }
        }
        case DEAD -> {
          return null;
        }
      }
    }
    return state == State.HEAD && lineLength > 0 ? openRequestLine() : null;
  }

  /**
   * Checks the start of a head that is not complete yet, {@code line[0, lineLength)}, as far as it
   * goes: a refusal as soon as it can no longer begin a request line ({@code method SP target SP
   * HTTP/}), or the line runs past {@link #MAX_REQUEST_LINE}. Each byte is looked at once, however
   * the head is split into reads; what this checks is checked again, whole, by {@link #head}.
   */
  private @Nullable Refusal openRequestLine() {
    if (openLineDone || line[0] == '\r') {
      return null; // the line is whole (head() judges the rest), or an empty line comes first
    }
    int n = lineLength;
    for (int k = openChecked; k < n; k++) {
      int c = line[k] & 0xff;
      if (openSp1 < 0) {
        if (c == ' ' && k > 0) {
          openSp1 = k;
        } else if (!Http1Grammar.isTchar(line[k])) {
          return refusal(400, Problem.FRAMING_INVALID, "malformed request line");
        }
      } else if (openSp2 < 0) {
        if (c == ' ' && k > openSp1 + 1) {
          openSp2 = k;
        } else if (c <= 0x20 || c == 0x7f) {
          return refusal(400, Problem.FRAMING_INVALID, "malformed request line");
        }
      } else if (k - openSp2 - 1 < HTTP_NAME.length) {
        if (line[k] != HTTP_NAME[k - openSp2 - 1]) {
          return refusal(400, Problem.FRAMING_INVALID, "malformed request line");
        }
      } else if (c == '\r') {
        openLineDone = true;
        return null;
      }
      if (k >= MAX_REQUEST_LINE) {
        return refusal(
            414, Problem.TARGET_TOO_LONG, "request line longer than " + MAX_REQUEST_LINE);
      }
    }
    openChecked = n;
    return null;
  }

  /** Grows {@link #line} to hold {@code n} bytes (n is at most {@link #maxHead}). */
  private void room(int n) {
    line = Http1Grammar.room(line, n, maxHead);
  }

  /**
   * A whole head or trailer section, ending in its blank line, is in {@code line[0, lineLength)}.
   */
  private @Nullable Refusal sectionDone() {
    if (state == State.HEAD) {
      if (lineLength == 2) {
        lineLength = 0; // an empty line before a request line (RFC 9112 §2.2 allows ignoring it)
        return null;
      }
      Refusal r = head();
      lastHead = line; // until this read is handed on (a refusal later in it names the request)
      lastHeadLength = lineLength;
      lineLength = 0;
      line = Http1Grammar.NO_LINE; // not kept for the life of a keep-alive connection
      return r;
    }
    // Trailer fields follow the header grammar, and may not frame or route the message
    // (RFC 9110 §6.5.1): a decoder that merged them into the head would read them there.
    Refusal r = null;
    if (lineLength > 2) {
      Fields t = new Fields();
      r = fields(0, t);
      if (r == null && t.framingOrRouting()) {
        r =
            refusal(
                400,
                Problem.FRAMING_INVALID,
                "Content-Length, Transfer-Encoding or Host in the trailers");
      }
    }
    if (r == null) {
      state = State.HEAD; // the empty line that ends the trailers, and the message
    }
    bodyActive = false;
    lineLength = 0;
    line = Http1Grammar.NO_LINE;
    return r;
  }

  private static final byte[] HTTP_11 = "HTTP/1.1".getBytes(StandardCharsets.ISO_8859_1);
  private static final byte[] HTTP_10 = "HTTP/1.0".getBytes(StandardCharsets.ISO_8859_1);
  private static final byte[] HTTP_NAME = "HTTP/".getBytes(StandardCharsets.ISO_8859_1);

  /**
   * Checks a complete request head in {@code line[0, lineLength)}, which ends in CRLF CRLF. One
   * pass over the bytes, in place: no string is made for a head that passes.
   */
  private @Nullable Refusal head() {
    dialect = Dialect.OLLAMA;
    int n = lineLength;
    // request-line = method SP request-target SP HTTP-version CRLF
    int sp1 = 0;
    while (Http1Grammar.isTchar(line[sp1])) {
      sp1++;
    }
    if (line[sp1] != ' ') {
      return line[sp1] == '\r' || line[sp1] == '\n' || sp1 == 0
          ? refusal(400, Problem.FRAMING_INVALID, "malformed request line")
          : refusal(400, Problem.FRAMING_INVALID, "method is not a token");
    }
    if (sp1 == 0) {
      return refusal(400, Problem.FRAMING_INVALID, "malformed request line");
    }
    int t0 = sp1 + 1;
    int sp2 = Http1Grammar.firstSpaceOrControl(line, t0, n);
    if (line[sp2] != ' ') {
      return line[sp2] == '\r' || line[sp2] == '\n'
          ? refusal(400, Problem.FRAMING_INVALID, "malformed request line")
          : refusal(
              400, Problem.FRAMING_INVALID, "control character or space in the request target");
    }
    if (sp2 == t0) {
      return refusal(400, Problem.FRAMING_INVALID, "malformed request line");
    }
    int eol = sp2 + 1;
    while (line[eol] != '\r' && line[eol] != '\n') {
      if (line[eol] == ' ') {
        return refusal(400, Problem.FRAMING_INVALID, "malformed request line");
      }
      eol++;
    }
    if (line[eol] != '\r' || line[eol + 1] != '\n') {
      return refusal(400, Problem.FRAMING_INVALID, "bare CR or LF in the request line");
    }
    if (eol > MAX_REQUEST_LINE) {
      return refusal(414, Problem.TARGET_TOO_LONG, "request line longer than " + MAX_REQUEST_LINE);
    }
    boolean http11 = Arrays.equals(line, sp2 + 1, eol, HTTP_11, 0, HTTP_11.length);
    if (!http11 && !Arrays.equals(line, sp2 + 1, eol, HTTP_10, 0, HTTP_10.length)) {
      // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3): another version is 505; anything
      // else (RTSP/1.0, SIP/2.0, http/1.1) is not HTTP
      return eol - sp2 - 1 == 8
              && Arrays.equals(line, sp2 + 1, sp2 + 6, HTTP_NAME, 0, HTTP_NAME.length)
              && isDigit(line[sp2 + 6])
              && line[sp2 + 7] == '.'
              && isDigit(line[sp2 + 8])
          ? refusal(505, Problem.VERSION_UNSUPPORTED, "HTTP version not served")
          : refusal(400, Problem.FRAMING_INVALID, "malformed request line");
    }
    // the dialect of a refusal: the path, up to any query, under /v1 is OpenAI's
    int q = t0;
    while (q < sp2 && line[q] != '?') {
      q++;
    }
    if (q - t0 >= 3
        && line[t0] == '/'
        && line[t0 + 1] == 'v'
        && line[t0 + 2] == '1'
        && (q - t0 == 3 || line[t0 + 3] == '/')) {
      dialect = Dialect.OPENAI;
    }
    Fields h = new Fields();
    Refusal r = fields(eol + 2, h);
    if (r == null && n - 2 - (eol + 2) - 2 * h.lines > maxFieldBytes) {
      // as the decoder counts them: the field lines' bytes without their CRLFs
      r = refusal(431, Problem.HEADERS_TOO_MANY, "header fields past " + maxFieldBytes + " bytes");
    }
    if (r == null) {
      r = framing(h, http11, t0, sp2);
    }
    if (r != null) {
      return r;
    }
    headsInRead++;
    return null;
  }

  /**
   * Checks the field lines from {@code from} to the blank line, collecting framing fields in {@code
   * h}.
   */
  private @Nullable Refusal fields(int from, Fields h) {
    String why = Http1Grammar.fields(line, from, lineLength, h);
    return why == null ? null : refusal(400, Problem.FRAMING_INVALID, why);
  }

  private static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }

  /** The body framing and Host rules, for a head whose lines are well formed. */
  private @Nullable Refusal framing(Fields h, boolean http11, int targetFrom, int targetTo) {
    if (h.transferEncodings > 0 && h.contentLengths > 0) {
      return refusal(400, Problem.FRAMING_INVALID, "both Transfer-Encoding and Content-Length");
    }
    if (h.transferEncodings > 1) {
      return refusal(400, Problem.FRAMING_INVALID, "more than one Transfer-Encoding line");
    }
    if (h.contentLengths > 1) {
      return refusal(400, Problem.FRAMING_INVALID, "more than one Content-Length line");
    }
    Refusal host = host(h, http11, targetFrom, targetTo);
    if (host != null) {
      return host;
    }
    if (h.transferEncodings == 1) {
      if (!http11) {
        return refusal(400, Problem.FRAMING_INVALID, "Transfer-Encoding on HTTP/1.0");
      }
      if (!h.chunkedOnly()) {
        return refusal(
            400, Problem.FRAMING_INVALID, "Transfer-Encoding other than one chunked coding");
      }
      state = State.CHUNK_SIZE;
      chunkedTotal = 0;
      startBody();
      return null;
    }
    if (h.contentLengths == 1) {
      long n = h.contentLengthValue();
      if (n < 0) {
        return refusal(400, Problem.FRAMING_INVALID, "Content-Length is not a number");
      }
      if (n > maxContentLength) {
        return refusal(413, Problem.BODY_TOO_LARGE, "Content-Length past the body limit");
      }
      if (n > 0) {
        remaining = n;
        state = State.BODY;
        startBody();
      }
    }
    return null;
  }

  private @Nullable Refusal host(Fields h, boolean http11, int targetFrom, int targetTo) {
    if (h.hosts > 1) {
      return refusal(400, Problem.HOST_INVALID, "more than one Host header");
    }
    if (h.hosts == 0) {
      return http11 ? refusal(400, Problem.HOST_INVALID, "no Host header on HTTP/1.1") : null;
    }
    int hostFrom = h.hostFrom();
    int hostTo = h.hostTo();
    if (hostFrom == hostTo || !validHost(line, hostFrom, hostTo)) {
      return refusal(
          400,
          Problem.HOST_INVALID,
          Http1Grammar.indexOf(line, (byte) '@', hostFrom, hostTo) >= 0
              ? "userinfo in Host"
              : "malformed Host");
    }
    int scheme =
        startsWithIgnoreCase(targetFrom, targetTo, "http://")
            ? 7
            : startsWithIgnoreCase(targetFrom, targetTo, "https://") ? 8 : -1;
    if (scheme > 0) {
      int a = targetFrom + scheme;
      int slash = Http1Grammar.indexOf(line, (byte) '/', a, targetTo);
      if (!Http1Grammar.equalsIgnoreCase(
          line, a, slash < 0 ? targetTo : slash, h.host().toLowerCase(Locale.ROOT))) {
        return refusal(400, Problem.HOST_INVALID, "Host disagrees with the absolute-form target");
      }
    }
    return null;
  }

  private boolean startsWithIgnoreCase(int from, int to, String lower) {
    return to - from >= lower.length()
        && Http1Grammar.equalsIgnoreCase(line, from, from + lower.length(), lower);
  }

  /** {@link #validHost(String)} of {@code a[from, to)}. */
  static boolean validHost(byte[] a, int from, int to) {
    return validHost(new HostChars(a, from, to));
  }

  static boolean validHost(String host) {
    return validHost((CharSequence) host);
  }

  /** A byte range read as Latin-1 characters, so the Host grammar below runs on it in place. */
  private record HostChars(byte[] a, int from, int to) implements CharSequence {
    @Override
    public int length() {
      return to - from;
    }

    @Override
    public char charAt(int index) {
      return (char) (a[from + index] & 0xff);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new HostChars(a, from + start, from + end);
    }

    @Override
    public String toString() {
      return new String(a, from, to - from, StandardCharsets.ISO_8859_1);
    }
  }

  /**
   * {@code uri-host [ ":" port ]} (RFC 9110 §7.2): a registered name of letters, digits and {@code
   * - . _ ~}, or a bracketed IP literal, then an optional port of up to five digits. Anything else
   * (userinfo, spaces, percent-encoding, a second colon) is refused.
   */
  private static boolean validHost(CharSequence host) {
    int i = 0;
    int n = host.length();
    if (host.charAt(0) == '[') {
      int close = indexOf(host, ']');
      if (close < 2) {
        return false;
      }
      for (int k = 1; k < close; k++) {
        char c = host.charAt(k);
        if (!(Character.digit(c, 16) >= 0 && c < 0x80 || c == ':' || c == '.')) {
          return false;
        }
      }
      i = close + 1;
    } else {
      while (i < n && host.charAt(i) != ':') {
        char c = host.charAt(i);
        if (!(c >= 'a' && c <= 'z'
            || c >= 'A' && c <= 'Z'
            || c >= '0' && c <= '9'
            || c == '-'
            || c == '.'
            || c == '_'
            || c == '~')) {
          return false;
        }
        i++;
      }
      if (i == 0) {
        return false;
      }
    }
    if (i == n) {
      return true;
    }
    if (host.charAt(i) != ':' || n - i - 1 > 5) {
      return false;
    }
    for (int k = i + 1; k < n; k++) {
      char c = host.charAt(k);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true; // an empty port (host:) is allowed by the grammar
  }

  private static int indexOf(CharSequence s, char c) {
    for (int k = 0; k < s.length(); k++) {
      if (s.charAt(k) == c) {
        return k;
      }
    }
    return -1;
  }

  /** {@code chunk-size CRLF}, exactly: 1-16 hex digits, no extensions, no white space. */
  private @Nullable Refusal chunkSize() {
    long size = Http1Grammar.chunkSize(line, lineLength);
    if (size == Http1Grammar.CHUNK_MALFORMED) {
      return refusal(
          400,
          Problem.FRAMING_INVALID,
          "chunk size is not hex digits alone (spaces, signs or extensions)");
    }
    if (size == Http1Grammar.CHUNK_TOO_MANY_DIGITS) {
      return refusal(400, Problem.FRAMING_INVALID, "chunk size of more than 16 hex digits");
    }
    if (size == Http1Grammar.CHUNK_OVERFLOW) {
      return refusal(413, Problem.BODY_TOO_LARGE, "chunk size past the body limit");
    }
    if (size == 0) {
      state = State.TRAILERS;
      return null;
    }
    if (size > maxChunkedBody - chunkedTotal) {
      return refusal(413, Problem.BODY_TOO_LARGE, "chunked body past the body limit");
    }
    chunkedTotal += size;
    remaining = size;
    state = State.CHUNK_DATA;
    return null;
  }

  private void startBody() {
    bodyActive = true;
    bodyStart = System.nanoTime();
    bodyBytes = 0;
  }

  private void armBodyCheck(long delayNanos) {
    bodyCheck =
        ctx.executor()
            .schedule(
                this::checkBody,
                Math.max(1, delayNanos),
                java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /**
   * The body deadline ({@code timeouts.body_read}): one check per slow body, none for a body that
   * arrives with its head. Past the deadline a body goes on only at {@code timeouts.body_min_rate}
   * on average since its head; it is checked again each second. A response stream is never cut
   * here: the check ends with the body.
   */
  private void checkBody() {
    bodyCheck = null;
    if (state == State.DEAD || !bodyActive || !ctx.channel().isActive()) {
      return;
    }
    long elapsed = System.nanoTime() - bodyStart;
    if (elapsed < bodyReadNanos) {
      armBodyCheck(bodyReadNanos - elapsed);
      return;
    }
    double rate = bodyBytes / (elapsed / 1e9);
    if (rate >= bodyMinRate) {
      armBodyCheck(1_000_000_000L);
      return;
    }
    Refusal r =
        refusal(
            408,
            Problem.BODY_TIMEOUT,
            "request body too slow: " + bodyBytes + " bytes in " + elapsed / 1_000_000 + " ms");
    refuse(ctx, r);
  }

  private Refusal refusal(int status, Problem problem, String why) {
    boolean inBody = state != State.HEAD;
    state = State.DEAD;
    // the request's head: the one being read, or the last that passed in this read (none when it
    // passed in an earlier one: the pipeline has the request, and its record names it)
    byte[] head = !inBody ? line : lastHead != null ? lastHead : Http1Grammar.NO_LINE;
    int length = !inBody ? lineLength : lastHead != null ? lastHeadLength : 0;
    // method SP origin-form path, as far as it goes; an absolute-form target may carry userinfo
    String method = null;
    String path = null;
    int sp1 = 0;
    while (sp1 < length && sp1 <= FramingRefusal.MAX_METHOD && Http1Grammar.isTchar(head[sp1])) {
      sp1++;
    }
    if (sp1 > 0 && sp1 <= FramingRefusal.MAX_METHOD && sp1 < length && head[sp1] == ' ') {
      method = new String(head, 0, sp1, StandardCharsets.ISO_8859_1);
      int t0 = sp1 + 1;
      int end = t0;
      while (end < length && end - t0 < FramingRefusal.MAX_PATH && pathByte(head[end])) {
        end++;
      }
      if (end > t0 && head[t0] == '/') {
        path = new String(head, t0, end - t0, StandardCharsets.ISO_8859_1);
      }
    }
    long bytesIn = inBody ? bodyBytes : 0; // body bytes, as the pipeline's records count them
    return new Refusal(status, problem, why, dialect, inBody, method, path, bytesIn);
  }

  /** A byte of a request target's path: visible, not the start of a query or fragment. */
  private static boolean pathByte(byte b) {
    int c = b & 0xff;
    return c > 0x20 && c != 0x7f && c != '?' && c != '#';
  }

  private void refuse(ChannelHandlerContext ctx, Refusal r) {
    state = State.DEAD;
    Channel ch = ctx.channel();
    String id = RequestIds.next();
    // An answer can go out only where no other response is being written or still owed: no
    // request in flight, or only the one whose body broke, before its response began.
    boolean free =
        heads == responses
            && (r.inBody() ? requests + headsInRead == responses + 1 : requests == responses);
    if (!free) {
      account(r, id, 0, false, "; closed without an answer (a response was owed)");
      ctx.close(); // an earlier response is still owed: no second one can be placed after it
      return;
    }
    byte[] body =
        r.dialect()
            .errorBody(r.problem(), r.problem().message, id)
            .getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 "
            + r.status()
            + " "
            + reason(r.status())
            + "\r\n"
            + "Content-Type: application/json; charset=utf-8\r\n"
            + "Content-Length: "
            + body.length
            + "\r\n"
            + "Cache-Control: no-store\r\n"
            + "X-Request-Id: "
            + id
            + "\r\n"
            + "Connection: close\r\n\r\n";
    ByteBuf out = Unpooled.buffer(head.length() + body.length);
    out.writeBytes(head.getBytes(StandardCharsets.ISO_8859_1)).writeBytes(body);
    account(r, id, body.length, true, "");
    // Lingering close: closing a socket with unread bytes makes the kernel send a reset, which can
    // destroy the answer before the client reads it. So the write side is shut (the client sees
    // the end of the answer), the rest of the request is read and dropped, and the connection is
    // closed after LINGER_MILLIS or LINGER_BYTES, whichever comes first.
    ctx.writeAndFlush(out)
        .addListener(
            f -> {
              if (ch instanceof io.netty.channel.socket.SocketChannel sc
                  && ch.pipeline().get(io.netty.handler.ssl.SslHandler.class) == null) {
                sc.shutdownOutput();
              }
              ctx.executor()
                  .schedule(
                      () -> {
                        ch.close();
                      },
                      LINGER_MILLIS,
                      java.util.concurrent.TimeUnit.MILLISECONDS);
            });
    ch.config().setAutoRead(true);
  }

  /**
   * Accounts for a refusal: one that cut a request the pipeline is serving (its head was handed on
   * in an earlier read, and its body broke) is left on the connection for that request's record
   * ({@link #cut}); any other goes to the account stage, or to this log when there is none.
   */
  private void account(Refusal r, String id, long bytesOut, boolean answered, String closing) {
    Channel ch = ctx.channel();
    boolean pipelined = r.inBody() && headsInRead == 0;
    FramingRefusal refusal =
        new FramingRefusal(
            id,
            r.status(),
            r.problem(),
            r.why() + closing,
            r.method(),
            r.path(),
            r.bytesIn(),
            bytesOut,
            answered,
            pipelined);
    if (pipelined) {
      ch.attr(CUT).set(refusal);
    } else if (account != null) {
      account.accept(refusal);
    } else {
      LOG.warning(
          () ->
              "event=request.framing_refused request_id="
                  + id
                  + " status="
                  + r.status()
                  + " peer="
                  + ch.remoteAddress()
                  + " reason=\""
                  + r.why()
                  + "\"");
    }
  }

  /** How long, and how many dropped bytes, a refused connection is read for before it is closed. */
  private static final long LINGER_MILLIS = 500;

  private static final long LINGER_BYTES = 256 * 1024;

  private static String reason(int status) {
    return switch (status) {
      case 413 -> "Request Entity Too Large";
      case 414 -> "URI Too Long";
      case 431 -> "Request Header Fields Too Large";
      case 505 -> "HTTP Version Not Supported";
      case 408 -> "Request Timeout";
      default -> "Bad Request";
    };
  }
}

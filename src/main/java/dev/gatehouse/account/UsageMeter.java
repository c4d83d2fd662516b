package dev.gatehouse.account;

import dev.gatehouse.exchange.BodyFields;
import dev.gatehouse.exchange.LimitsUnavailableException;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.ResponseTap;
import dev.gatehouse.http1.Http1Grammar;
import dev.gatehouse.store.UsageLedger;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Counts the tokens of one response from the upstream's own figures: Ollama's final {@code
 * prompt_eval_count} and {@code eval_count}, OpenAI's {@code usage} (also the Responses and
 * Anthropic shapes). While a stream runs, each content chunk is charged as one output token to the
 * {@link UsageLedger}, so a token budget can stop a stream the moment the ledger says it is spent
 * (a failed charge stops it too); at the end the estimate is replaced by the real figures.
 *
 * <p>Streams are passed on in whole lines (NDJSON) or whole events (SSE), as the upstream's own
 * bytes: they are read as bytes, and only an event carrying usage figures is decoded (a line's
 * figures, and a whole answer's, are read from its bytes). When the gateway itself asked for
 * OpenAI's usage event ({@code stream_options.include_usage}) the client did not ask for it, so
 * that event is dropped. One per request; not thread-safe.
 */
public final class UsageMeter implements ResponseTap {

  private static final int MAX_TEE = 1 << 20;

  private enum Mode {
    NONE,
    NDJSON,
    SSE,
    JSON
  }

  private final UsageLedger ledger;
  private final String keyId;
  private final @Nullable String model;
  private final long tokensPerMinute;
  private final long tokensPerDay;
  private final boolean stripUsage;
  private Mode mode = Mode.NONE;

  /**
   * What is held back: the body so far (JSON), or an unterminated line or event; null for nothing,
   * so a stream between chunks holds no empty buffer (two objects, about 80 bytes).
   */
  private @Nullable Buffer pending;

  /**
   * A JSON answer's {@link #pending} is still the upstream's first chunk itself, passed on to the
   * client as it is: read, never written to. A second chunk makes it a buffer of the meter's own.
   */
  private boolean pendingShared;

  private boolean teeOverflow;
  private long estimated;
  private long tokensIn = -1;
  private long tokensOut = -1;

  /** The key's totals as of this stream's latest charge (null before the first answer). */
  private volatile UsageLedger.@Nullable Totals seen;

  /** A charge failed: the stream is cut, since its budget can no longer be told. */
  private volatile boolean chargeFailed;

  /** The failed charge was the shared limits' outage (written before {@link #chargeFailed}). */
  private volatile boolean sharedLimitsDown;

  private boolean settled;

  /** The ledger's answer to this response's settlement; succeeded until it is asked. */
  private Future<Void> recorded = Future.succeededFuture();

  public UsageMeter(
      UsageLedger ledger,
      String keyId,
      @Nullable String model,
      long tokensPerMinute,
      long tokensPerDay,
      boolean stripUsage) {
    this.ledger = ledger;
    this.keyId = keyId;
    this.model = model;
    this.tokensPerMinute = tokensPerMinute;
    this.tokensPerDay = tokensPerDay;
    this.stripUsage = stripUsage;
  }

  @Override
  public void onHead(int status, @Nullable String contentType) {
    if (status != 200 || contentType == null) {
      mode = Mode.NONE;
    } else if (contentType.startsWith("application/x-ndjson")) {
      mode = Mode.NDJSON;
    } else if (contentType.startsWith("text/event-stream")) {
      mode = Mode.SSE;
    } else if (contentType.startsWith("application/json")) {
      mode = Mode.JSON;
    }
  }

  @Override
  public Buffer onChunk(Buffer chunk) {
    switch (mode) {
      case NONE:
        return chunk;
      case JSON:
        if (!teeOverflow) {
          Buffer body = pending;
          if ((body == null ? 0 : body.length()) + chunk.length() > MAX_TEE) {
            teeOverflow = true;
            pending = null;
          } else if (body == null) {
            pending = chunk; // a body of one chunk, the usual, is read where it lies
            pendingShared = true;
          } else if (pendingShared) {
            // the upstream's chunks are never written to
            pending =
                Buffer.buffer(body.length() + chunk.length())
                    .appendBuffer(body)
                    .appendBuffer(chunk);
            pendingShared = false;
          } else {
            body.appendBuffer(chunk);
          }
        }
        return chunk;
      default:
        // Read as bytes: only an event carrying usage figures is decoded, and the
        // bytes passed on are the upstream's own (a character split between two reads included).
        Buffer tail = pending;
        boolean holding = tail != null;
        Buffer held = tail != null ? tail.appendBuffer(chunk) : chunk;
        Bytes b = Bytes.of(held);
        Buffer out = mode == Mode.NDJSON ? lines(held, b) : events(held, b);
        int done = b.done - b.offset;
        if (done < held.length()) {
          // the incomplete tail, copied: the upstream's chunk is never written to
          pending =
              Buffer.buffer(held.length() - done).appendBuffer(held, done, held.length() - done);
        } else if (holding) {
          pending = null;
        }
        return out;
    }
  }

  /** A held stream's bytes, and how far its complete lines or events reach ({@code done}). */
  private static final class Bytes {
    final byte[] a;
    final int offset;
    final int end;
    int done;

    private Bytes(byte[] a, int offset, int end) {
      this.a = a;
      this.offset = offset;
      this.end = end;
      this.done = offset;
    }

    static Bytes of(Buffer held) {
      BodyFields.Bytes v = BodyFields.Bytes.of(held); // no copy for a heap buffer, the usual
      return new Bytes(v.array(), v.offset(), v.offset() + v.length());
    }

    int indexOf(byte c, int from, int to) {
      return Http1Grammar.indexOf(a, c, from, to);
    }

    boolean contains(byte[] what, int from, int to) {
      for (int i = from; i <= to - what.length; i++) {
        if (Arrays.equals(a, i, i + what.length, what, 0, what.length)) {
          return true;
        }
      }
      return false;
    }

    boolean startsWith(byte[] what, int from, int to) {
      return to - from >= what.length && contains(what, from, from + what.length);
    }

    boolean equals(byte[] what, int from, int to) {
      return to - from == what.length && contains(what, from, to);
    }

    String text(int from, int to) {
      return new String(a, from, to - from, StandardCharsets.UTF_8);
    }
  }

  private static final byte[] PROMPT_EVAL_COUNT = ascii("\"prompt_eval_count\"");
  private static final byte[] EVAL_COUNT = ascii("\"eval_count\"");
  private static final byte[] ERROR = ascii("{\"error\"");
  private static final byte[] USAGE = ascii("\"usage\"");
  private static final byte[] DATA = ascii("data:");
  private static final byte[] DONE = ascii("[DONE]");

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** Complete NDJSON lines held so far, passed on as they are; the incomplete tail stays held. */
  private Buffer lines(Buffer held, Bytes b) {
    int start = b.offset;
    for (int nl = b.indexOf((byte) '\n', start, b.end);
        nl >= 0;
        nl = b.indexOf((byte) '\n', start, b.end)) {
      if (b.contains(PROMPT_EVAL_COUNT, start, nl) || b.contains(EVAL_COUNT, start, nl)) {
        readUsage(UsageFigures.read(b.a, start, nl - start));
      } else if (!blank(b, start, nl) && !b.startsWith(ERROR, start, nl)) {
        count(1);
      }
      start = nl + 1;
    }
    b.done = start;
    return start == b.end ? held : held.slice(0, start - b.offset);
  }

  /** As {@link String#isBlank} reads the line: only whitespace, of any script. */
  private static boolean blank(Bytes b, int from, int to) {
    boolean ascii = true;
    for (int i = from; i < to; i++) {
      byte c = b.a[i];
      if (c < 0) {
        ascii = false; // a non-ASCII character: decoded below to tell whitespace from text
      } else if (!Character.isWhitespace(c)) {
        return false;
      }
    }
    return ascii || b.text(from, to).isBlank();
  }

  /**
   * Complete SSE events held so far (each ends in a blank line, LF or CRLF), passed on as they are
   * minus a usage event the client did not ask for; the incomplete tail stays held.
   */
  private Buffer events(Buffer held, Bytes b) {
    Buffer out = null; // set once an event is dropped: what is kept, copied
    int kept = b.offset; // the kept events not yet copied into out start here
    int start = b.offset;
    for (int end = eventEnd(b, start); end >= 0; end = eventEnd(b, start)) {
      // the event's data lines (LF or CRLF ended)
      int dataLines = 0;
      int value = -1;
      int valueEnd = -1;
      boolean usage = false;
      for (int at = start; at < end; ) {
        int lineEnd = lineEnd(b, at, end);
        int e = textEnd(b, at, lineEnd);
        int v = dataValue(b, at, e);
        if (v >= 0) {
          dataLines++;
          value = v;
          valueEnd = e;
          usage |= b.contains(USAGE, value, valueEnd);
        }
        at = lineEnd + 1;
      }
      boolean drop = false;
      if (usage) {
        UsageFigures figures = readUsage(dataOf(b, start, end));
        drop = stripUsage && figures != null && figures.noChoices(); // asked by the gateway
      } else if (dataLines > 1 || (dataLines == 1 && !b.equals(DONE, value, valueEnd))) {
        count(1);
      }
      if (drop) {
        out = out == null ? Buffer.buffer() : out;
        out.appendBytes(b.a, kept, start - kept);
        kept = end;
      }
      start = end;
    }
    b.done = start;
    if (out == null) {
      return start == b.end ? held : held.slice(0, start - b.offset);
    }
    return out.appendBytes(b.a, kept, start - kept);
  }

  /** Where the event at {@code from} ends, past its blank line (first of LF LF or CRLF CRLF). */
  private static int eventEnd(Bytes b, int from) {
    for (int i = b.indexOf((byte) '\n', from, b.end);
        i >= 0;
        i = b.indexOf((byte) '\n', i + 1, b.end)) {
      if (i + 1 < b.end && b.a[i + 1] == '\n') {
        return i + 2;
      }
      if (i >= from + 1
          && b.a[i - 1] == '\r'
          && i + 2 < b.end
          && b.a[i + 1] == '\r'
          && b.a[i + 2] == '\n') {
        return i + 3;
      }
    }
    return -1;
  }

  /** The event's data: its data lines' values joined by LF. */
  private static String dataOf(Bytes b, int from, int to) {
    StringBuilder out = new StringBuilder();
    boolean first = true;
    for (int at = from; at < to; ) {
      int lineEnd = lineEnd(b, at, to);
      int e = textEnd(b, at, lineEnd);
      int v = dataValue(b, at, e);
      if (v >= 0) {
        if (!first) {
          out.append('\n');
        }
        first = false;
        out.append(b.text(v, e));
      }
      at = lineEnd + 1;
    }
    return out.toString();
  }

  /** Where the line at {@code at} ends: its LF, or {@code to} for a last line without one. */
  private static int lineEnd(Bytes b, int at, int to) {
    int nl = b.indexOf((byte) '\n', at, to);
    return nl < 0 ? to : nl;
  }

  /** Where the line's text ends: before the CR of a CRLF. */
  private static int textEnd(Bytes b, int at, int lineEnd) {
    return lineEnd > at && b.a[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd;
  }

  /**
   * Where a data line's value starts (after "data:" and one optional space), or -1 for a line that
   * is not one.
   */
  private static int dataValue(Bytes b, int at, int textEnd) {
    if (!b.startsWith(DATA, at, textEnd)) {
      return -1;
    }
    int v = at + DATA.length;
    return v < textEnd && b.a[v] == ' ' ? v + 1 : v;
  }

  private void count(long tokens) {
    estimated += tokens;
    var charged = ledger.charge(keyId, tokens);
    if (tokensPerMinute > 0 || tokensPerDay > 0) {
      // The local ledger has answered already; a remote one answers later, and the stream is cut
      // at the first chunk after its answer (written from the ledger's thread, hence volatile).
      charged.onComplete(
          ar -> {
            if (ar.succeeded()) {
              seen = ar.result();
            } else {
              sharedLimitsDown = ar.cause() instanceof LimitsUnavailableException;
              chargeFailed = true;
            }
          });
    }
  }

  /**
   * Most tokens one figure may say; larger ones are read as this, so that they spend a budget
   * ({@link UsageFigures} reads a figure exactly: 2^64+1, which a plain {@code asLong} wraps to 1,
   * and 2^64-1000, which it wraps to a negative that would refund a budget, count as this).
   */
  static final long MAX_TOKENS = Integer.MAX_VALUE;

  /**
   * Takes usage figures from one JSON object, whichever API shape it has ({@link UsageFigures}: a
   * streaming read of the figures alone, no tree); null when it is not a JSON object.
   */
  private @Nullable UsageFigures readUsage(String json) {
    return readUsage(UsageFigures.read(json));
  }

  /** Takes the figures read, if any; returns them. */
  private @Nullable UsageFigures readUsage(@Nullable UsageFigures f) {
    if (f != null) {
      if (f.in() >= 0) {
        tokensIn = f.in();
      }
      if (f.out() >= 0) {
        tokensOut = f.out();
      }
    }
    return f;
  }

  @Override
  public @Nullable Problem cut() {
    if (chargeFailed) {
      // the budget can no longer be told: fail closed
      return sharedLimitsDown ? Problem.LIMITS_UNAVAILABLE : Problem.LIMITER_UNAVAILABLE;
    }
    UsageLedger.Totals used = seen;
    if (used == null) {
      return null;
    }
    if ((tokensPerMinute > 0 && used.minute() >= tokensPerMinute)
        || (tokensPerDay > 0 && used.day() >= tokensPerDay)) {
      return Problem.BUDGET_EXHAUSTED;
    }
    return null;
  }

  @Override
  public Buffer onEnd() {
    Buffer rest = Buffer.buffer();
    Buffer held = pending;
    if (mode == Mode.JSON) {
      if (!teeOverflow && held != null && held.length() > 0) {
        Bytes b = Bytes.of(held);
        readUsage(UsageFigures.read(b.a, b.offset, b.end - b.offset));
      }
    } else if (mode != Mode.NONE && held != null && held.length() > 0) {
      rest = held; // an unterminated last line or event still belongs to the client
    }
    pending = null;
    settle();
    return rest;
  }

  @Override
  public long tokensIn() {
    return tokensIn;
  }

  @Override
  public long tokensOut() {
    return tokensOut >= 0 ? tokensOut : estimated > 0 ? estimated : -1;
  }

  @Override
  public void onAbort() {
    settle();
  }

  /**
   * The ledger's answer to this response's settlement, when the key has a token budget: its next
   * request is checked against the totals, so the answer waits until they have this response's
   * figures. Without a budget nothing on the request path reads them, and nothing waits.
   */
  @Override
  public Future<Void> settled() {
    return tokensPerMinute > 0 || tokensPerDay > 0 ? recorded : Future.succeededFuture();
  }

  private void settle() {
    if (settled) {
      return;
    }
    settled = true;
    long in = Math.max(0, tokensIn);
    long out = tokensOut >= 0 ? tokensOut : estimated;
    // the ledger owns a failure (UsageLedger): nothing here retries or waits for it, apart from
    // the pipeline holding the last bytes for it (settled)
    recorded = ledger.settle(keyId, model, estimated, in, out);
  }
}

package dev.gatehouse.account;

import dev.gatehouse.exchange.LimitsUnavailableException;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.ResponseTap;
import dev.gatehouse.store.UsageLedger;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Counts the tokens of one response from the upstream's own figures: Ollama's final {@code
 * prompt_eval_count} and {@code eval_count}, OpenAI's {@code usage} (also the Responses and
 * Anthropic shapes). While a stream runs, each content chunk is charged as one output token to the
 * {@link UsageLedger}, so a token budget can stop a stream the moment the ledger says it is spent
 * (a failed charge stops it too); at the end the estimate is replaced by the real figures.
 *
 * <p>Streams are passed on in whole lines (NDJSON) or whole events (SSE). When the gateway itself
 * asked for OpenAI's usage event ({@code stream_options.include_usage}) the client did not ask for
 * it, so that event is dropped. One per request; not thread-safe.
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
  private Buffer pending = Buffer.buffer();
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
          if (pending.length() + chunk.length() > MAX_TEE) {
            teeOverflow = true;
            pending = Buffer.buffer();
          } else {
            pending.appendBuffer(chunk);
          }
        }
        return chunk;
      default:
        pending.appendBuffer(chunk);
        return mode == Mode.NDJSON ? lines() : events();
    }
  }

  /** Complete NDJSON lines held so far; the incomplete tail stays pending. */
  private Buffer lines() {
    String text = pending.toString(StandardCharsets.UTF_8);
    int last = text.lastIndexOf('\n');
    if (last < 0) {
      return Buffer.buffer();
    }
    String complete = text.substring(0, last + 1);
    pending = Buffer.buffer(text.substring(last + 1));
    int start = 0;
    for (int nl = complete.indexOf('\n'); nl >= 0; nl = complete.indexOf('\n', start)) {
      String line = complete.substring(start, nl);
      start = nl + 1;
      if (line.contains("\"prompt_eval_count\"") || line.contains("\"eval_count\"")) {
        readUsage(line);
      } else if (!line.isBlank() && !line.startsWith("{\"error\"")) {
        count(1);
      }
    }
    return Buffer.buffer(complete);
  }

  /** Complete SSE events held so far, minus a usage event the client did not ask for. */
  private Buffer events() {
    String text = pending.toString(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(text.length());
    int start = 0;
    while (true) {
      int end = text.indexOf("\n\n", start);
      int sep = 2;
      int crlf = text.indexOf("\r\n\r\n", start);
      if (crlf >= 0 && (end < 0 || crlf < end)) {
        end = crlf;
        sep = 4;
      }
      if (end < 0) {
        break;
      }
      String event = text.substring(start, end + sep);
      start = end + sep;
      String data = dataOf(event);
      if (data != null && data.contains("\"usage\"")) {
        UsageFigures figures = readUsage(data);
        boolean usageOnly = figures != null && figures.noChoices();
        if (stripUsage && usageOnly) {
          continue; // the gateway asked for it, not the client
        }
      } else if (data != null && !data.equals("[DONE]")) {
        count(1);
      }
      out.append(event);
    }
    pending = Buffer.buffer(text.substring(start));
    return Buffer.buffer(out.toString());
  }

  private static @Nullable String dataOf(String event) {
    StringBuilder b = null;
    for (String line : event.split("\r?\n")) {
      if (line.startsWith("data:")) {
        if (b == null) {
          b = new StringBuilder();
        } else {
          b.append('\n');
        }
        b.append(line.substring(line.startsWith("data: ") ? 6 : 5));
      }
    }
    return b == null ? null : b.toString();
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
    UsageFigures f = UsageFigures.read(json);
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
    if (mode == Mode.JSON) {
      if (!teeOverflow && pending.length() > 0) {
        readUsage(pending.toString(StandardCharsets.UTF_8));
      }
    } else if (mode != Mode.NONE && pending.length() > 0) {
      rest = pending; // an unterminated last line or event still belongs to the client
    }
    pending = Buffer.buffer();
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

  private void settle() {
    if (settled) {
      return;
    }
    settled = true;
    long in = Math.max(0, tokensIn);
    long out = tokensOut >= 0 ? tokensOut : estimated;
    ledger.settle(
        keyId, model, estimated, in,
        out); // fire and forget: the ledger owns a failure (UsageLedger)
  }
}

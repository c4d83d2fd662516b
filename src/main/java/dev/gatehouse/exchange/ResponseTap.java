package dev.gatehouse.exchange;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * Watches a relayed response as it streams: the proxy hands it every chunk before writing it, and
 * the tap may hold back partial lines or events, drop some (a usage event the client did not ask
 * for), and ask for the stream to be cut (a token budget spent mid-stream). One per request, called
 * on its event loop; not thread-safe.
 */
public interface ResponseTap {

  /** Called once with the response head, before any chunk. */
  void onHead(int status, @Nullable String contentType);

  /** The bytes to send on for this chunk (possibly empty). */
  Buffer onChunk(Buffer chunk);

  /** A problem that must end the stream now, or null. */
  @Nullable Problem cut();

  /** Called at the end of the upstream's response; returns any bytes still held back. */
  Buffer onEnd();

  /** Prompt tokens as the upstream reported them, or -1 when unknown (so far). */
  default long tokensIn() {
    return -1;
  }

  /** Output tokens as reported, or estimated from the stream when not, or -1 when unknown. */
  default long tokensOut() {
    return -1;
  }

  /**
   * Called when the response ended otherwise (cut, failure or client gone): settle what was
   * counted.
   */
  void onAbort();

  /**
   * Completes once what the tap counted, if a later request's decision reads it, is recorded where
   * every gateway reads it (the usage ledger of a key with a budget has the response's figures); at
   * once for a tap that records nothing a decision reads, or has not settled yet. It fails when the
   * record could not be made; the tap's owner then retries it (see {@code UsageLedger}). The
   * pipeline holds the response's last bytes until then.
   */
  default Future<Void> settled() {
    return Future.succeededFuture();
  }

  /**
   * Two taps as one: {@code first} sees each chunk as the upstream sent it, and {@code second} sees
   * what {@code first} passed on (so a tap that inspects output sees what the client gets). Either
   * may cut the stream. Token counts are {@code first}'s, else {@code second}'s. Either argument
   * may be null.
   */
  static @Nullable ResponseTap chain(@Nullable ResponseTap first, @Nullable ResponseTap second) {
    if (first == null) {
      return second;
    }
    if (second == null) {
      return first;
    }
    return new ResponseTap() {
      @Override
      public void onHead(int status, @Nullable String contentType) {
        first.onHead(status, contentType);
        second.onHead(status, contentType);
      }

      @Override
      public Buffer onChunk(Buffer chunk) {
        return second.onChunk(first.onChunk(chunk));
      }

      @Override
      public @Nullable Problem cut() {
        Problem p = first.cut();
        return p != null ? p : second.cut();
      }

      @Override
      public Buffer onEnd() {
        Buffer held = first.onEnd();
        Buffer out = held == null || held.length() == 0 ? Buffer.buffer() : second.onChunk(held);
        Buffer rest = second.onEnd();
        return rest == null || rest.length() == 0 ? out : out.appendBuffer(rest);
      }

      @Override
      public long tokensIn() {
        long t = first.tokensIn();
        return t >= 0 ? t : second.tokensIn();
      }

      @Override
      public long tokensOut() {
        long t = first.tokensOut();
        return t >= 0 ? t : second.tokensOut();
      }

      @Override
      public void onAbort() {
        try {
          first.onAbort();
        } finally {
          second.onAbort();
        }
      }

      @Override
      public Future<Void> settled() {
        return Future.join(first.settled(), second.settled()).mapEmpty();
      }
    };
  }
}

package dev.gatehouse.pipeline;

import io.vertx.core.buffer.Buffer;

/**
 * Watches a relayed response as it streams: the proxy hands it every chunk before writing it, and
 * the tap may hold back partial lines or events, drop some (a usage event the client did not ask
 * for), and ask for the stream to be cut (a token budget spent mid-stream). One per request,
 * called on its event loop; not thread-safe.
 */
public interface ResponseTap {

  /** Called once with the response head, before any chunk. */
  void onHead(int status, String contentType);

  /** The bytes to send on for this chunk (possibly empty). */
  Buffer onChunk(Buffer chunk);

  /** A problem that must end the stream now, or null. */
  Problem cut();

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

  /** Called when the response ended otherwise (cut, failure or client gone): settle what was counted. */
  void onAbort();
}

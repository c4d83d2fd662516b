package dev.gatehouse.exchange;

import org.jspecify.annotations.Nullable;

/**
 * A request refused on its bytes, before the pipeline could see it: by the strict framing check
 * ({@code listen/StrictFraming}: a head or body that is not well-formed HTTP/1.1, or that passes
 * the decoder's limits), or by the decoder itself ({@code listen/UndecodableRequest}). The listen
 * stage reports it, and the account stage records it as it records any refusal: a log line, an
 * audit record, the metrics and alert rules, and probe scoring. Immutable.
 *
 * @param requestId the id the client was told ({@code X-Request-Id}), or would have been had the
 *     refusal been answered
 * @param status the status answered (or that would have been, when {@code answered} is false)
 * @param why what was wrong, for the logs only; never a header value or body byte, only the rule
 *     broken and sizes (and, when no answer was sent, why not)
 * @param method the request line's method, when it began with a token of at most {@value
 *     #MAX_METHOD} characters followed by a space; else null
 * @param path the request target's path (up to any query) when the target was in origin form
 *     ({@code /...}); else null. Never the query, nor an absolute-form target (which may carry
 *     userinfo)
 * @param bytesIn the request body's bytes read before the refusal (0 when its head was refused)
 * @param bytesOut the bytes of the answer (0 when closed without one)
 * @param answered false when the connection was closed without an answer: an earlier response on it
 *     was still owed, or its head was cut short by the timeout
 * @param pipelined true when the head had been handed on to the pipeline, which recorded the
 *     request itself: then this refusal cut that request (its body broke), and the pipeline's
 *     record carries it
 */
public record FramingRefusal(
    String requestId,
    int status,
    Problem problem,
    String why,
    @Nullable String method,
    @Nullable String path,
    long bytesIn,
    long bytesOut,
    boolean answered,
    boolean pipelined) {

  /** Longest method kept. */
  public static final int MAX_METHOD = 24;

  /** Longest path kept; the rest is cut. */
  public static final int MAX_PATH = 512;

  /**
   * Whether the refusal says the client does not speak HTTP/1.x as it is framed: another protocol,
   * a broken request line or head, a framing that lets two parsers disagree (the shape of request
   * smuggling), a bad Host. Size and time limits (413, 414, 431, 408) are refusals, not malformed
   * bytes: a working client can reach them.
   */
  public boolean malformed() {
    return malformed(problem);
  }

  /** As {@link #malformed()}, for a problem. */
  public static boolean malformed(@Nullable Problem p) {
    return p == Problem.FRAMING_INVALID
        || p == Problem.HOST_INVALID
        || p == Problem.VERSION_UNSUPPORTED;
  }
}

package dev.gatehouse.exchange;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/**
 * The error shape a client understands, chosen by path: OpenAI's error object under {@code /v1},
 * Ollama's {@code {"error": "..."}} everywhere else. Both carry the request id that the log shows.
 */
public enum Dialect {
  OLLAMA,
  OPENAI;

  public static Dialect of(String path) {
    return path.startsWith("/v1/") || path.equals("/v1") ? OPENAI : OLLAMA;
  }

  /** The JSON error body for a complete (non-streamed) error response. */
  public String errorBody(Problem problem, @Nullable String message, String requestId) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode root = f.objectNode();
    if (this == OPENAI) {
      ObjectNode e = root.putObject("error");
      e.put("message", message);
      e.put("type", problem.openAiType);
      e.putNull("param");
      e.put("code", problem.code);
      e.put("request_id", requestId);
    } else {
      root.put("error", message);
      root.put("code", problem.code);
      root.put("request_id", requestId);
    }
    return root.toString();
  }

  /**
   * The last piece of a stream that had to be cut: an SSE error event for event streams, an error
   * object line for NDJSON. Clients of each API surface these as errors rather than as a silent
   * truncation.
   */
  public static String streamError(boolean sse, Problem problem, String message, String requestId) {
    if (sse) {
      return "data: " + OPENAI.errorBody(problem, message, requestId) + "\n\n";
    }
    return OLLAMA.errorBody(problem, message, requestId) + "\n";
  }
}

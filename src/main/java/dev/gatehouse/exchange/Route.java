package dev.gatehouse.exchange;

import java.util.List;
import java.util.Set;

/**
 * One classified endpoint of the model servers.
 *
 * @param methods the methods this path answers; any other gets 405
 * @param path the exact path, or a prefix ending in '/' when {@code param} is true
 * @param param true when one more non-empty path segment follows {@code path}
 * @param operation the scope a key needs
 * @param body how the request body is read and checked
 * @param response how the upstream's response is handled
 * @param modelFields the JSON fields that name a model (checked against the key's allowlist, cloud
 *     and registry rules)
 * @param pathModel true when the path parameter is a model id ({@code /v1/models/:model})
 */
public record Route(
    Set<String> methods,
    String path,
    boolean param,
    Operation operation,
    Body body,
    Response response,
    List<String> modelFields,
    boolean pathModel) {

  /** How a route's request body is handled. */
  public enum Body {
    /** No body expected; anything sent is read (bounded) and dropped. */
    NONE,
    /** A JSON object is required; anything else is 400. */
    JSON,
    /** Empty, or a JSON object. */
    JSON_OPTIONAL,
    /** multipart/form-data, buffered (bounded) so its {@code model} part can be checked. */
    MULTIPART,
    /** Streamed to the upstream unbuffered (model blobs). */
    STREAM
  }

  /** How the upstream's response is handled. */
  public enum Response {
    /** Relayed chunk by chunk. */
    RELAY,
    /** Ollama's {@code {"models":[...]}} (tags, ps), filtered to the key's models. */
    FILTER_OLLAMA_MODELS,
    /** OpenAI's {@code {"data":[{"id":...}]}}, filtered to the key's models. */
    FILTER_OPENAI_MODELS
  }

  /** True when a field or path segment of this route names a model. */
  public boolean namesModel() {
    return pathModel || !modelFields.isEmpty();
  }
}

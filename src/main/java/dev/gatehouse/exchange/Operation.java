package dev.gatehouse.exchange;

import java.util.EnumSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a request does to the model server, as a scope a key must hold. Every route belongs to
 * exactly one operation; see {@link RouteTable}.
 */
public enum Operation {
  /** Chat, generate, completions, responses, messages: costs compute. */
  INFERENCE("inference"),
  EMBEDDINGS("embeddings"),
  /** Model lists, loaded models, version, health. */
  MODELS_READ("models.read"),
  /** Model details (can reveal system prompts and templates) and server internals. */
  MODELS_INSPECT("models.inspect"),
  /** Pull, push, create, copy, delete, blob upload: changes or exports the model store. */
  MODELS_MANAGE("models.manage"),
  /** The server owner's ollama.com account. */
  ACCOUNT("account"),
  /** Features that run on ollama.com under the server owner's account. */
  CLOUD("cloud");

  public final String scope;

  Operation(String scope) {
    this.scope = scope;
  }

  /** The scopes an ordinary key gets: never model management, inspection, account or cloud. */
  public static final Set<Operation> DEFAULT_SCOPES =
      java.util.Collections.unmodifiableSet(EnumSet.of(INFERENCE, EMBEDDINGS, MODELS_READ));

  /** The operation for a scope name, or null when there is none. */
  public static @Nullable Operation byScope(String scope) {
    for (Operation o : values()) {
      if (o.scope.equals(scope)) {
        return o;
      }
    }
    return null;
  }

  /** All scope names, comma-separated, for help and error messages. */
  public static String allScopes() {
    StringBuilder b = new StringBuilder();
    for (Operation o : values()) {
      b.append(b.isEmpty() ? "" : ", ").append(o.scope);
    }
    return b.toString();
  }
}

package dev.gatehouse.authorize;

import dev.gatehouse.exchange.ModelName;
import org.jspecify.annotations.Nullable;

/**
 * The registry and cloud readings of a model reference, both taken from {@link ModelName}, the one
 * model-name parser. The gateway refuses a name that does not parse ({@code request.model_invalid})
 * before it asks either question; for such strings these answers only err towards refusal.
 */
public final class ModelNames {

  private ModelNames() {}

  /**
   * The registry host a model reference names explicitly (lower case, with any port), or null when
   * it uses the default registry. A two-part name whose namespace is {@code localhost} is answered
   * as naming the host {@code localhost}: Ollama reads it as a namespace, but a reader that guessed
   * at hosts would contact it, so the policy treats it as a registry.
   */
  public static @Nullable String registry(String name) {
    ModelName n = ModelName.parse(name);
    if (n != null) {
      if (n.hostGiven()) {
        return n.registry();
      }
      return n.namespace().equals("localhost") ? "localhost" : null;
    }
    return guessedHost(name);
  }

  /**
   * True for models that Ollama runs on ollama.com under the server owner's account: tag {@code
   * cloud}, a tag ending in {@code -cloud} ({@code gpt-oss:120b-cloud}), or a {@code :cloud} suffix
   * after a complete name ({@code tiny:latest:cloud}). A string that is not a name counts as cloud
   * when it ends in either suffix.
   */
  public static boolean isCloud(String name) {
    ModelName n = ModelName.parse(name);
    if (n != null) {
      return n.isCloud();
    }
    String t = ModelName.lower(name.strip());
    return t.endsWith(":cloud") || t.endsWith("-cloud");
  }

  /**
   * Whatever a lenient reader might contact for a string that is not a name; never null for a
   * host-like one.
   */
  private static @Nullable String guessedHost(String raw) {
    String n = ModelName.lower(raw.strip());
    int scheme = n.indexOf("://");
    if (scheme >= 0) {
      String rest = n.substring(scheme + 3);
      int slash = rest.indexOf('/');
      String host = slash < 0 ? rest : rest.substring(0, slash);
      return host.isEmpty() ? "(empty host)" : host;
    }
    String[] parts = n.split("/", -1);
    if (parts.length >= 3
        || (parts.length == 2
            && (parts[0].contains(".")
                || parts[0].contains(":")
                || parts[0].equals("localhost")))) {
      return parts[0];
    }
    return null;
  }
}

package dev.gatehouse.pins;

import java.util.Locale;

/**
 * An Ollama model name in full: registry, namespace, model and tag, with Ollama's defaults
 * ({@code registry.ollama.ai}, {@code library}, {@code latest}) filled in, so that
 * {@code llama3}, {@code library/llama3:latest} and {@code registry.ollama.ai/library/llama3:latest}
 * are one name. Compared in lower case, as Ollama does. Immutable.
 */
public record ModelName(String registry, String namespace, String model, String tag) {

  public static final String DEFAULT_REGISTRY = "registry.ollama.ai";
  public static final String DEFAULT_NAMESPACE = "library";
  public static final String DEFAULT_TAG = "latest";

  public ModelName {
    registry = registry.toLowerCase(Locale.ROOT);
    namespace = namespace.toLowerCase(Locale.ROOT);
    model = model.toLowerCase(Locale.ROOT);
    tag = tag.toLowerCase(Locale.ROOT);
  }

  /**
   * Parses {@code [scheme://][registry/][namespace/]model[:tag][@digest]}; null when it is not a
   * name (empty parts, spaces, more than three path segments).
   */
  public static ModelName parse(String text) {
    if (text == null) {
      return null;
    }
    String t = text.strip();
    int scheme = t.indexOf("://");
    if (scheme >= 0) {
      t = t.substring(scheme + 3);
    }
    int at = t.indexOf('@');
    if (at >= 0) {
      t = t.substring(0, at);
    }
    if (t.isEmpty() || t.chars().anyMatch(c -> c <= ' ' || c == '\\')) {
      return null;
    }
    String tag = DEFAULT_TAG;
    int colon = t.lastIndexOf(':');
    if (colon > t.lastIndexOf('/')) {
      tag = t.substring(colon + 1);
      t = t.substring(0, colon);
    }
    String[] parts = t.split("/", -1);
    for (String p : parts) {
      if (p.isEmpty()) {
        return null;
      }
    }
    if (tag.isEmpty()) {
      return null;
    }
    return switch (parts.length) {
      case 1 -> new ModelName(DEFAULT_REGISTRY, DEFAULT_NAMESPACE, parts[0], tag);
      case 2 -> new ModelName(DEFAULT_REGISTRY, parts[0], parts[1], tag);
      case 3 -> new ModelName(parts[0], parts[1], parts[2], tag);
      default -> null;
    };
  }

  /** {@code registry/namespace/model:tag}. */
  public String canonical() {
    return registry + "/" + namespace + "/" + model + ":" + tag;
  }

  /** The shortest form Ollama shows: {@code llama3.2:3b}, {@code user/model:tag}, {@code hf.co/user/model:tag}. */
  public String display() {
    if (!registry.equals(DEFAULT_REGISTRY)) {
      return canonical();
    }
    return (namespace.equals(DEFAULT_NAMESPACE) ? "" : namespace + "/") + model + ":" + tag;
  }

  @Override
  public String toString() {
    return display();
  }
}

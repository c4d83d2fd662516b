package dev.gatehouse.authorize;

import java.util.Locale;

/** How Ollama reads a model reference: {@code [scheme://][host[:port]/][namespace/]model[:tag]}. */
public final class ModelNames {

  private ModelNames() {}

  /**
   * The registry host a model reference names explicitly (lower case, with any port), or null
   * when it uses the default registry. A scheme ({@code http://}) always names a registry; so
   * does a first segment of three or more, or a first segment that looks like a host (contains
   * a dot or a port, or is localhost).
   */
  public static String registry(String name) {
    String n = name.trim();
    int scheme = n.indexOf("://");
    if (scheme >= 0) {
      String rest = n.substring(scheme + 3);
      int slash = rest.indexOf('/');
      String host = slash < 0 ? rest : rest.substring(0, slash);
      return host.isEmpty() ? "(empty host)" : host.toLowerCase(Locale.ROOT);
    }
    String[] parts = n.split("/", -1);
    if (parts.length >= 3) {
      return parts[0].toLowerCase(Locale.ROOT);
    }
    if (parts.length == 2
        && (parts[0].contains(".") || parts[0].contains(":") || parts[0].equalsIgnoreCase("localhost"))) {
      return parts[0].toLowerCase(Locale.ROOT);
    }
    return null;
  }

  /**
   * True for models that Ollama runs on ollama.com under the server owner's account: tag
   * {@code cloud}, or a tag ending in {@code -cloud} ({@code gpt-oss:120b-cloud}).
   */
  public static boolean isCloud(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    int colon = n.indexOf(':', n.lastIndexOf('/') + 1);
    if (colon < 0) {
      return false;
    }
    String tag = n.substring(colon + 1);
    return tag.equals("cloud") || tag.endsWith("-cloud");
  }
}

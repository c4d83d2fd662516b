package dev.gatehouse.exchange;

import org.jspecify.annotations.Nullable;

/**
 * A model name as Ollama reads it, and the one parser every check that reads a model name uses: key
 * allowlists, the cloud rule, registry rules, pins, model listings and the usage record.
 *
 * <p>The grammar is Ollama's own ({@code types/model/name.go}): {@code
 * [host/][namespace/]model[:tag]} with an optional {@code @digest}, and Ollama's defaults ({@code
 * registry.ollama.ai}, {@code library}, {@code latest}) filled in, so that {@code llama3}, {@code
 * library/llama3:latest} and {@code registry.ollama.ai/library/llama3:latest} are one name. Each
 * part is 1 to 80 ASCII characters (the host up to 350), starting with a letter, digit or {@code
 * _}, followed by letters, digits, {@code _ - .}; a namespace has no {@code .}; only the host may
 * hold a {@code :} (its port). A scheme ({@code http://}, {@code HTTPS://}, any letters) is read
 * only before a host, as Ollama reads it, and is not part of the name.
 *
 * <p>Where Ollama's readers are lenient enough that two of them could read one string differently,
 * this parser refuses instead: anything that is not ASCII or not in the character sets above
 * (spaces, control characters, NUL, {@code %}, zero-width and bidi characters, other scripts), an
 * empty part ({@code tiny::latest}, {@code /x}), more than three path segments ({@code
 * tiny/../../x}), more than {@value #MAX_LENGTH} characters in all (as sent, and in its canonical
 * form), a digest other than {@code sha256:} and 64 hex digits, and leading or trailing whitespace
 * (never trimmed, so the upstream receives exactly the string that was checked).
 *
 * <p><b>Cloud.</b> Ollama runs a model on ollama.com, under the server owner's account, when its
 * tag is {@code cloud} or ends in {@code -cloud} ({@code gpt-oss:120b-cloud}), and its cloud-source
 * reading also takes a {@code :cloud} suffix after a complete name ({@code tiny:latest:cloud}).
 * That last form is read here as the name before the suffix with {@link #cloudSuffix()} set, so it
 * is always a cloud name and never a local one.
 *
 * <p>Parts are kept in lower case: Ollama compares names with ASCII-only case folding, and since a
 * valid name is ASCII, folding here is ASCII-only too ({@code tİny} is not a name at all, and never
 * equals {@code tiny}). Immutable.
 *
 * @param registry the host, with any port ({@code registry.ollama.ai} when none was given)
 * @param namespace the namespace ({@code library} when none was given)
 * @param model the model
 * @param tag the tag ({@code latest} when none was given)
 * @param digest the digest after {@code @}, or null
 * @param hostGiven true when the name spelled its host out
 * @param cloudSuffix true when the name ended in a {@code :cloud} suffix after its own tag
 */
public record ModelName(
    String registry,
    String namespace,
    String model,
    String tag,
    @Nullable String digest,
    boolean hostGiven,
    boolean cloudSuffix) {

  public static final String DEFAULT_REGISTRY = "registry.ollama.ai";
  public static final String DEFAULT_NAMESPACE = "library";
  public static final String DEFAULT_TAG = "latest";

  /**
   * Most characters in a name, all parts together. Ollama's own limit is looser (a 350-character
   * host).
   */
  public static final int MAX_LENGTH = 256;

  /** Most characters in a host part (with its port), as in Ollama. */
  public static final int MAX_HOST = 350;

  /** Most characters in a namespace, model or tag part, as in Ollama. */
  public static final int MAX_PART = 80;

  /** The kinds of part, each with its own character set and length. */
  public enum Part {
    HOST,
    NAMESPACE,
    MODEL,
    TAG
  }

  public ModelName {
    registry = lower(registry);
    namespace = lower(namespace);
    model = lower(model);
    tag = lower(tag);
    digest = digest == null ? null : lower(digest);
  }

  /** A name from its four parts, as found in Ollama's model store; not validated. */
  public ModelName(String registry, String namespace, String model, String tag) {
    this(registry, namespace, model, tag, null, true, false);
  }

  /**
   * Parses a model name; null when it is not one (see the class comment for what is refused). Never
   * throws.
   */
  public static @Nullable ModelName parse(String text) {
    if (text == null || text.isEmpty() || text.length() > MAX_LENGTH) {
      return null;
    }
    for (int i = 0; i < text.length(); i++) {
      if (!nameChar(text.charAt(i))) {
        return null; // one scan refuses every non-ASCII, control, space, %, NUL, ... at once
      }
    }
    String s = text;
    boolean scheme = false;
    int schemeEnd = s.indexOf("://");
    if (schemeEnd >= 0) {
      // Ollama drops whatever precedes "://" in front of a host (http, HTTPS, ...) and pulls over
      // TLS unless told insecure; the scheme is not part of the name
      if (!validScheme(s.substring(0, schemeEnd))) {
        return null;
      }
      s = s.substring(schemeEnd + 3);
      scheme = true;
    }
    String digest = null;
    int at = s.indexOf('@');
    if (at >= 0) {
      digest = s.substring(at + 1);
      s = s.substring(0, at);
      if (!validDigest(digest)) {
        return null;
      }
    }
    int lastSlash = s.lastIndexOf('/');
    boolean cloudSuffix = false;
    String last = s.substring(lastSlash + 1);
    int firstColon = last.indexOf(':');
    if (firstColon >= 0 && firstColon != last.lastIndexOf(':') && endsWithIgnoreCase(s, ":cloud")) {
      // name:tag:cloud, Ollama's cloud-source form: the name before the suffix, run on ollama.com
      s = s.substring(0, s.length() - ":cloud".length());
      last = s.substring(lastSlash + 1);
      cloudSuffix = true;
    }
    String tag = DEFAULT_TAG;
    int colon = last.indexOf(':');
    if (colon >= 0) {
      tag = last.substring(colon + 1);
      if (!validPart(Part.TAG, tag)) {
        return null; // empty (tiny:), or a second colon (tiny::latest, a:b:c)
      }
      s = s.substring(0, lastSlash + 1 + colon);
    }
    String[] parts = s.split("/", -1);
    if (scheme && parts.length != 3) {
      return null; // Ollama reads a scheme only in front of a host
    }
    ModelName name = ofParts(parts, tag, digest, cloudSuffix);
    // The length bound holds for every form the name is written in, not only the one sent: the
    // canonical form adds the default tag (and, for a bare name, the default registry), and a
    // rule, a log line or a pin that holds it must read back as the same name.
    return name != null
            && Math.max(name.canonical().length(), name.recorded().length()) <= MAX_LENGTH
        ? name
        : null;
  }

  private static @Nullable ModelName ofParts(
      String[] parts, String tag, @Nullable String digest, boolean cloudSuffix) {
    return switch (parts.length) {
      case 1 ->
          validPart(Part.MODEL, parts[0])
              ? new ModelName(
                  DEFAULT_REGISTRY, DEFAULT_NAMESPACE, parts[0], tag, digest, false, cloudSuffix)
              : null;
      case 2 ->
          validPart(Part.NAMESPACE, parts[0]) && validPart(Part.MODEL, parts[1])
              ? new ModelName(DEFAULT_REGISTRY, parts[0], parts[1], tag, digest, false, cloudSuffix)
              : null;
      case 3 ->
          validPart(Part.HOST, parts[0])
                  && validPart(Part.NAMESPACE, parts[1])
                  && validPart(Part.MODEL, parts[2])
              ? new ModelName(parts[0], parts[1], parts[2], tag, digest, true, cloudSuffix)
              : null;
      default -> null;
    };
  }

  /**
   * True when Ollama would run this model on ollama.com: a cloud tag, or the {@code :cloud} suffix.
   */
  public boolean isCloud() {
    return cloudSuffix || tag.equals("cloud") || tag.endsWith("-cloud");
  }

  /** The host the name spells out, or null when it uses Ollama's default registry implicitly. */
  public @Nullable String explicitRegistry() {
    return hostGiven ? registry : null;
  }

  /** {@code registry/namespace/model:tag}, lower case: the form every comparison uses. */
  public String canonical() {
    return registry + "/" + namespace + "/" + model + ":" + tag;
  }

  /**
   * The shortest form Ollama shows: {@code llama3.2:3b}, {@code user/model:tag}, {@code
   * hf.co/user/model:tag}.
   */
  public String display() {
    if (!registry.equals(DEFAULT_REGISTRY)) {
      return canonical();
    }
    return (namespace.equals(DEFAULT_NAMESPACE) ? "" : namespace + "/") + model + ":" + tag;
  }

  /**
   * What the usage record and logs name: {@link #display()}, with a {@code :cloud} suffix kept
   * visible.
   */
  public String recorded() {
    return display() + (cloudSuffix ? ":cloud" : "");
  }

  @Override
  public String toString() {
    return recorded();
  }

  /**
   * True when {@code s} is a valid part of this kind: Ollama's {@code isValidPart} and part
   * lengths.
   */
  public static boolean validPart(Part kind, String s) {
    int max = kind == Part.HOST ? MAX_HOST : MAX_PART;
    if (s.isEmpty() || s.length() > max || !alnumOrUnderscore(s.charAt(0))) {
      return false;
    }
    int colons = 0;
    for (int i = 1; i < s.length(); i++) {
      char c = s.charAt(i);
      if (alnumOrUnderscore(c) || c == '-') {
        continue;
      }
      if (c == '.' && kind != Part.NAMESPACE) {
        continue;
      }
      if (c == ':' && kind == Part.HOST) {
        colons++;
        continue;
      }
      return false;
    }
    if (colons > 0) {
      // a host's colon separates its port: exactly one, then 1-5 digits (Ollama takes any
      // number of colons; a registry address has one port)
      int colon = s.indexOf(':');
      String port = s.substring(colon + 1);
      return colons == 1
          && !port.isEmpty()
          && port.length() <= 5
          && port.chars().allMatch(c -> c >= '0' && c <= '9');
    }
    return true;
  }

  /** The characters that may appear anywhere in a name (each part narrows them further). */
  private static boolean nameChar(char c) {
    return alnumOrUnderscore(c) || c == '-' || c == '.' || c == ':' || c == '/' || c == '@';
  }

  private static boolean alnumOrUnderscore(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }

  private static boolean validScheme(String scheme) {
    if (scheme.isEmpty() || scheme.length() > 16 || !Character.isLetter(scheme.charAt(0))) {
      return false;
    }
    return scheme
        .chars()
        .allMatch(
            c ->
                (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '.');
  }

  private static boolean validDigest(String d) {
    if (d.length() != 71 || !(d.startsWith("sha256:") || d.startsWith("sha256-"))) {
      return false;
    }
    for (int i = 7; i < d.length(); i++) {
      char c = d.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
        return false;
      }
    }
    return true;
  }

  private static boolean endsWithIgnoreCase(String s, String suffix) {
    return s.length() >= suffix.length()
        && s.regionMatches(true, s.length() - suffix.length(), suffix, 0, suffix.length());
  }

  /** ASCII-only lower case: never maps a non-ASCII letter to an ASCII one, whatever the locale. */
  public static String lower(String s) {
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        if (b == null) {
          b = new StringBuilder(s);
        }
        b.setCharAt(i, (char) (c + 32));
      }
    }
    return b == null ? s : b.toString();
  }
}

package dev.gatehouse.exchange;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A key's model allowlist: glob patterns matched against the canonical form of a parsed model name
 * ({@link ModelName#canonical()}, {@code registry/namespace/model:tag} in lower case). An empty
 * list allows every model. Immutable and thread-safe.
 *
 * <p>How a pattern matches (see also {@code docs/policy.md}):
 *
 * <ul>
 *   <li>{@code *} matches any run of characters, {@code ?} exactly one character other than {@code
 *       /}; everything else is literal. Case is folded in ASCII only, so {@code TINY} is {@code
 *       tiny} but {@code tİny} matches nothing (it is not a model name).
 *   <li>A pattern is completed the way Ollama completes a name: no {@code /} means the default
 *       registry and namespace ({@code tiny} is {@code registry.ollama.ai/library/tiny}), one
 *       {@code /} means the default registry ({@code user/tiny}). A pattern that starts with {@code
 *       *} or whose first segment is a host ({@code hf.co/*}, {@code host:5000/ns/m}) is taken as
 *       written.
 *   <li>A pattern with no tag and no wildcard in its last segment means the {@code latest} tag:
 *       {@code tiny} allows {@code tiny}, {@code tiny:latest}, {@code library/tiny} and {@code
 *       registry.ollama.ai/library/tiny:latest}, but not {@code tiny:7b} or {@code user/tiny}. A
 *       wildcard pattern without a tag ({@code tiny*}) is matched against {@code model:tag}, and
 *       for a {@code latest} model also against the name without its tag, so {@code x?y} allows
 *       {@code xay}.
 *   <li>A string that does not parse as a model name is never allowed.
 * </ul>
 */
public final class ModelGlobs {

  private final List<String> patterns;
  private final @Nullable Pattern compiled;

  public ModelGlobs(List<String> patterns) {
    this.patterns = List.copyOf(patterns);
    if (patterns.isEmpty()) {
      this.compiled = null;
      return;
    }
    List<String> alternatives = new ArrayList<>();
    for (String p : patterns) {
      alternatives.add(toRegex(completed(ModelName.lower(p.strip()))));
    }
    this.compiled = Pattern.compile(String.join("|", alternatives));
  }

  /** The pattern as a glob over canonical names. */
  static String completed(String p) {
    String[] segments = p.split("/", -1);
    String first = segments[0];
    boolean asWritten =
        p.startsWith("*")
            || (segments.length > 1
                && (first.contains(".") || first.contains(":") || first.equals("localhost")));
    String full =
        asWritten
            ? p
            : switch (segments.length) {
              case 1 -> ModelName.DEFAULT_REGISTRY + "/" + ModelName.DEFAULT_NAMESPACE + "/" + p;
              case 2 -> ModelName.DEFAULT_REGISTRY + "/" + p;
              default -> p;
            };
    String last = full.substring(full.lastIndexOf('/') + 1);
    if (last.indexOf(':') < 0 && last.indexOf('*') < 0 && last.indexOf('?') < 0) {
      full = full + ":" + ModelName.DEFAULT_TAG;
    }
    return full;
  }

  private static String toRegex(String glob) {
    StringBuilder b = new StringBuilder("(?:");
    StringBuilder literal = new StringBuilder();
    for (char c : glob.toCharArray()) {
      if (c == '*' || c == '?') {
        if (!literal.isEmpty()) {
          b.append(Pattern.quote(literal.toString()));
          literal.setLength(0);
        }
        b.append(c == '*' ? ".*" : "[^/]");
      } else {
        literal.append(c);
      }
    }
    if (!literal.isEmpty()) {
      b.append(Pattern.quote(literal.toString()));
    }
    return b.append(')').toString();
  }

  /** True when no restriction applies. */
  public boolean allowsAll() {
    return compiled == null;
  }

  /** True when the key may use this model; a string that is not a model name is never allowed. */
  public boolean allows(String model) {
    if (compiled == null) {
      return true;
    }
    ModelName n = ModelName.parse(model);
    return n != null && allows(n);
  }

  /** True when the key may use this parsed model. */
  public boolean allows(ModelName n) {
    if (compiled == null) {
      return true;
    }
    String canonical = n.canonical();
    if (compiled.matcher(canonical).matches()) {
      return true;
    }
    return n.tag().equals(ModelName.DEFAULT_TAG)
        && compiled
            .matcher(
                canonical.substring(0, canonical.length() - 1 - ModelName.DEFAULT_TAG.length()))
            .matches();
  }

  public List<String> patterns() {
    return patterns;
  }

  @Override
  public String toString() {
    return patterns.isEmpty() ? "*" : ModelName.lower(String.join(",", patterns));
  }
}

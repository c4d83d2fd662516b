package dev.gatehouse.identify;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A key's model allowlist: glob patterns ({@code *} any run of characters, {@code ?} one) matched
 * case-insensitively, as Ollama itself treats model names. An empty list allows every model.
 *
 * <p>Ollama's implicit {@code :latest} tag is honoured both ways: a pattern {@code llama3} allows
 * {@code llama3:latest}, and a request for {@code llama3} is checked as {@code llama3:latest} too,
 * so the same model never gets two answers. Immutable and thread-safe.
 */
public final class ModelGlobs {

  private final List<String> patterns;
  private final Pattern compiled;

  public ModelGlobs(List<String> patterns) {
    this.patterns = List.copyOf(patterns);
    if (patterns.isEmpty()) {
      this.compiled = null;
      return;
    }
    StringBuilder re = new StringBuilder();
    for (String p : patterns) {
      if (!re.isEmpty()) {
        re.append('|');
      }
      re.append(toRegex(p));
      if (!p.contains("*") && !p.contains("?") && !hasTag(p)) {
        re.append('|').append(toRegex(p + ":latest"));
      }
    }
    this.compiled = Pattern.compile(re.toString(), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
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
        b.append(c == '*' ? ".*" : ".");
      } else {
        literal.append(c);
      }
    }
    if (!literal.isEmpty()) {
      b.append(Pattern.quote(literal.toString()));
    }
    return b.append(')').toString();
  }

  /** True when the last path segment of a model name carries a tag. */
  static boolean hasTag(String name) {
    return name.indexOf(':', name.lastIndexOf('/') + 1) >= 0;
  }

  /** True when no restriction applies. */
  public boolean allowsAll() {
    return compiled == null;
  }

  /** True when the key may use this model. */
  public boolean allows(String model) {
    if (compiled == null) {
      return true;
    }
    if (compiled.matcher(model).matches()) {
      return true;
    }
    return !hasTag(model) && compiled.matcher(model + ":latest").matches();
  }

  public List<String> patterns() {
    return patterns;
  }

  @Override
  public String toString() {
    return patterns.isEmpty() ? "*" : String.join(",", patterns).toLowerCase(Locale.ROOT);
  }
}

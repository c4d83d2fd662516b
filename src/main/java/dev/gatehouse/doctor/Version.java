package dev.gatehouse.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A release version in one versioning scheme, comparable only with versions of the same scheme.
 * Model servers use four:
 *
 * <ul>
 *   <li>{@link Scheme#SEMVER}: Semantic Versioning 2.0 (Ollama, LocalAI, and llama.cpp's {@code
 *       v0.x.y} tags): {@code 0.6.8-rc1 < 0.6.8 < 0.12.3}; a leading {@code v} is ignored, as is
 *       build metadata after {@code +}.
 *   <li>{@link Scheme#PEP440}: Python's versions (vLLM): epochs ({@code 1!0.1}), {@code aN}, {@code
 *       bN}, {@code rcN}, {@code .postN}, {@code .devN} and {@code +local} labels, ordered {@code
 *       0.6.3.dev1 < 0.6.3rc1 < 0.6.3 < 0.6.3+cu121 < 0.6.3.post1}.
 *   <li>{@link Scheme#LLAMA_BUILD}: llama.cpp's build tags {@code bNNNN}, one per master commit
 *       that CI released: compared as integers.
 *   <li>{@link Scheme#LMSTUDIO}: LM Studio's {@code 0.4.22+1}, where the number after {@code +} is
 *       a build and counts ({@code 0.4.22 < 0.4.22+1 < 0.4.23}).
 * </ul>
 *
 * llama.cpp's build numbers and its semantic-version tags are two schemes: {@code b12405} and
 * {@code 0.7.0} are never compared. Immutable.
 *
 * @param scheme how it is ordered
 * @param text the version as given
 * @param epoch PEP 440 epoch, else 0
 * @param release the dotted numeric parts (a build number alone for llama.cpp)
 * @param pre the pre-release identifiers (SemVer), or {@code [phase, n]} (PEP 440); empty for a
 *     release
 * @param post PEP 440 post-release number, or the LM Studio build; -1 when absent
 * @param dev PEP 440 dev-release number, -1 when absent
 * @param local PEP 440 local label, empty when absent
 */
public record Version(
    Scheme scheme,
    String text,
    long epoch,
    List<Long> release,
    List<String> pre,
    long post,
    long dev,
    String local)
    implements Comparable<Version> {

  /** The versioning schemes; see the class comment. */
  public enum Scheme {
    SEMVER,
    PEP440,
    LLAMA_BUILD,
    LMSTUDIO
  }

  private static final Pattern SEMVER =
      Pattern.compile(
          "[vV]?(\\d{1,9}(?:\\.\\d{1,9}){0,3})(?:-([0-9A-Za-z.-]+))?(?:\\+([0-9A-Za-z.-]+))?");
  private static final Pattern PEP440 =
      Pattern.compile(
          "[vV]?(?:(\\d{1,9})!)?(\\d{1,9}(?:\\.\\d{1,9})*)"
              + "(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\\d{0,9}))?"
              + "(?:-(\\d{1,9})|[-_.]?(?:post|rev|r)[-_.]?(\\d{0,9}))?"
              + "(?:[-_.]?dev[-_.]?(\\d{0,9}))?"
              + "(?:\\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?");
  private static final Pattern BUILD = Pattern.compile("[bB](\\d{1,9})");
  private static final Pattern LMSTUDIO =
      Pattern.compile(
          "[vV]?(\\d{1,9}(?:\\.\\d{1,9}){0,3})(?:\\+(\\d{1,9})|\\s*\\(build (\\d{1,9})\\))?");

  public Version {
    release = List.copyOf(release);
    pre = List.copyOf(pre);
  }

  /** Parses a version of this scheme; null when the text is not one. */
  public static @Nullable Version parse(Scheme scheme, String text) {
    if (text == null || text.isBlank() || text.length() > 128) {
      return null;
    }
    String t = text.strip();
    return switch (scheme) {
      case SEMVER -> semver(t);
      case PEP440 -> pep440(t);
      case LLAMA_BUILD -> {
        Matcher m = BUILD.matcher(t);
        yield m.matches()
            ? new Version(scheme, t, 0, List.of(Long.parseLong(m.group(1))), List.of(), -1, -1, "")
            : null;
      }
      case LMSTUDIO -> {
        Matcher m = LMSTUDIO.matcher(t);
        if (!m.matches()) {
          yield null;
        }
        String build = m.group(2) != null ? m.group(2) : m.group(3);
        yield new Version(
            scheme,
            t,
            0,
            numbers(m.group(1)),
            List.of(),
            build == null ? 0 : Long.parseLong(build),
            -1,
            "");
      }
    };
  }

  private static @Nullable Version semver(String t) {
    Matcher m = SEMVER.matcher(t);
    if (!m.matches()) {
      return null;
    }
    List<String> pre = m.group(2) == null ? List.of() : List.of(m.group(2).split("\\."));
    if (pre.stream().anyMatch(String::isEmpty)) {
      return null;
    }
    return new Version(Scheme.SEMVER, t, 0, numbers(m.group(1)), pre, -1, -1, "");
  }

  private static @Nullable Version pep440(String t) {
    Matcher m = PEP440.matcher(t.toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      return null;
    }
    long epoch = m.group(1) == null ? 0 : Long.parseLong(m.group(1));
    List<String> pre = List.of();
    if (m.group(3) != null) {
      String phase =
          switch (m.group(3)) {
            case "a", "alpha" -> "0";
            case "b", "beta" -> "1";
            default -> "2"; // c, rc, pre, preview
          };
      pre = List.of(phase, m.group(4).isEmpty() ? "0" : m.group(4));
    }
    long post =
        m.group(5) != null
            ? Long.parseLong(m.group(5))
            : m.group(6) != null ? (m.group(6).isEmpty() ? 0 : Long.parseLong(m.group(6))) : -1;
    // "post" alone (no digits) is group 6 empty; no post marker leaves both groups null
    if (m.group(5) == null && m.group(6) == null) {
      post = -1;
    }
    long dev = m.group(7) == null ? -1 : m.group(7).isEmpty() ? 0 : Long.parseLong(m.group(7));
    String local = m.group(8) == null ? "" : m.group(8).replace('-', '.').replace('_', '.');
    return new Version(Scheme.PEP440, t, epoch, numbers(m.group(2)), pre, post, dev, local);
  }

  private static List<Long> numbers(String dotted) {
    List<Long> out = new ArrayList<>();
    for (String p : dotted.split("\\.")) {
      out.add(Long.parseLong(p));
    }
    return out;
  }

  /** True when every release number is 0 (Ollama's development builds report {@code 0.0.0}). */
  public boolean allZero() {
    return release.stream().allMatch(n -> n == 0);
  }

  /**
   * Orders two versions of the same scheme.
   *
   * @throws IllegalArgumentException when the schemes differ: such versions have no order
   */
  @Override
  public int compareTo(Version o) {
    if (scheme != o.scheme) {
      throw new IllegalArgumentException(
          "cannot compare " + scheme + " " + text + " with " + o.scheme + " " + o.text);
    }
    int c = Long.compare(epoch, o.epoch);
    if (c != 0) {
      return c;
    }
    c = compareRelease(release, o.release);
    if (c != 0) {
      return c;
    }
    return switch (scheme) {
      case SEMVER -> comparePre(pre, o.pre);
      case PEP440 -> comparePep440Suffix(o);
      case LLAMA_BUILD -> 0;
      case LMSTUDIO -> Long.compare(post, o.post);
    };
  }

  private static int compareRelease(List<Long> a, List<Long> b) {
    int n = Math.max(a.size(), b.size());
    for (int i = 0; i < n; i++) {
      long x = i < a.size() ? a.get(i) : 0;
      long y = i < b.size() ? b.get(i) : 0;
      if (x != y) {
        return Long.compare(x, y);
      }
    }
    return 0;
  }

  /**
   * SemVer 2.0 section 11: a pre-release sorts before its release; identifiers compare one by one.
   */
  private static int comparePre(List<String> a, List<String> b) {
    if (a.isEmpty() || b.isEmpty()) {
      return Boolean.compare(a.isEmpty(), b.isEmpty());
    }
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      String x = a.get(i);
      String y = b.get(i);
      boolean nx = x.matches("\\d{1,18}");
      boolean ny = y.matches("\\d{1,18}");
      int c =
          nx && ny
              ? Long.compare(Long.parseLong(x), Long.parseLong(y))
              : nx ? -1 : ny ? 1 : x.compareTo(y);
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.size(), b.size());
  }

  /**
   * PEP 440: X.devN < X.aN < X.bN < X.rcN < X < X+local < X.postN, dev releases before their stage.
   */
  private int comparePep440Suffix(Version o) {
    int c = Long.compare(preRank(), o.preRank());
    if (c != 0) {
      return c;
    }
    if (!pre.isEmpty()) {
      c = Long.compare(Long.parseLong(pre.get(1)), Long.parseLong(o.pre.get(1)));
      if (c != 0) {
        return c;
      }
    }
    c = Long.compare(post, o.post);
    if (c != 0) {
      return c;
    }
    c = Long.compare(dev < 0 ? Long.MAX_VALUE : dev, o.dev < 0 ? Long.MAX_VALUE : o.dev);
    if (c != 0) {
      return c;
    }
    return compareLocal(local, o.local);
  }

  /**
   * -1 for a bare dev release, the phase (0 a, 1 b, 2 rc) for a pre-release, 3 for a final release.
   */
  private long preRank() {
    if (!pre.isEmpty()) {
      return Long.parseLong(pre.get(0));
    }
    return dev >= 0 && post < 0 ? -1 : 3;
  }

  /** A local label sorts after none; segments compare numerically when both are numbers. */
  private static int compareLocal(String a, String b) {
    if (a.isEmpty() || b.isEmpty()) {
      return Boolean.compare(!a.isEmpty(), !b.isEmpty());
    }
    String[] x = a.split("\\.");
    String[] y = b.split("\\.");
    for (int i = 0; i < Math.min(x.length, y.length); i++) {
      boolean nx = x[i].matches("\\d{1,18}");
      boolean ny = y[i].matches("\\d{1,18}");
      int c =
          nx && ny
              ? Long.compare(Long.parseLong(x[i]), Long.parseLong(y[i]))
              : nx ? 1 : ny ? -1 : x[i].compareTo(y[i]);
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(x.length, y.length);
  }

  @Override
  public String toString() {
    return text;
  }
}

package dev.gatehouse.exchange;

import org.jspecify.annotations.Nullable;

/**
 * A request target that passed strict normalisation: origin-form, printable ASCII, no ambiguity.
 *
 * <p>Why strict: a gateway that matches one spelling of a path while the model server decodes
 * another is bypassed by the difference (the classic {@code /api/%2e%2e/push} and {@code
 * //api/push} tricks). So nothing that two parsers could read differently is accepted at all:
 * percent-encoded {@code / \ . %} or NUL, any other encoded byte outside printable ASCII, dot
 * segments, doubled slashes, backslashes, absolute-form and asterisk-form targets, fragments and
 * raw non-ASCII are refused with 400 before any route is matched. Case is left as sent, so {@code
 * /API/PUSH} is simply an unknown path.
 *
 * @param path the decoded path used for route matching
 * @param raw the target exactly as received, forwarded unchanged to the upstream
 */
public record RequestTarget(String path, String raw) {

  /** Parses a raw request target; returns null when it must be refused. */
  public static @Nullable RequestTarget parse(String raw) {
    if (raw == null || raw.isEmpty() || raw.charAt(0) != '/') {
      return null; // absolute-form (http://host/...), authority-form and "*" never reach routes
    }
    int n = raw.length();
    for (int i = 0; i < n; i++) {
      char c = raw.charAt(i);
      if (c < 0x21 || c > 0x7e || c == '#' || c == '\\') {
        return null; // control characters, spaces, non-ASCII, fragments, backslashes
      }
    }
    int q = raw.indexOf('?');
    String rawPath = q < 0 ? raw : raw.substring(0, q);
    if (rawPath.contains("//")) {
      return null;
    }
    StringBuilder decoded = null;
    for (int i = 0; i < rawPath.length(); i++) {
      char c = rawPath.charAt(i);
      if (c == '%') {
        if (i + 2 >= rawPath.length()) {
          return null;
        }
        int hi = Character.digit(rawPath.charAt(i + 1), 16);
        int lo = Character.digit(rawPath.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        char d = (char) (hi * 16 + lo);
        if (d < 0x21 || d > 0x7e || d == '/' || d == '\\' || d == '.' || d == '%' || d == '#'
            || d == '?') {
          return null;
        }
        if (decoded == null) {
          decoded = new StringBuilder(rawPath.length()).append(rawPath, 0, i);
        }
        decoded.append(d);
        i += 2;
      } else if (decoded != null) {
        decoded.append(c);
      }
    }
    String path = decoded == null ? rawPath : decoded.toString();
    if (hasDotSegment(path)) {
      return null;
    }
    return new RequestTarget(path, raw);
  }

  private static boolean hasDotSegment(String path) {
    int start = 1;
    while (start <= path.length()) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      int len = end - start;
      if ((len == 1 && path.charAt(start) == '.')
          || (len == 2 && path.charAt(start) == '.' && path.charAt(start + 1) == '.')) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }
}

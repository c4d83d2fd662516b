package dev.gatehouse.authorize;

import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.exchange.Route;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Query parameters, which change what some servers do: llama.cpp's router mode reads {@code
 * ?model=} and {@code ?autoload=} on its GET routes ({@code /props}, {@code /slots}, {@code
 * /metrics}, {@code /v1/models}, ...) to pick, and even load, a model that the body-based checks
 * never see.
 *
 * <p>So the query is deny by default too: each route takes only the parameters listed here, and any
 * other is 400 {@code request.query_denied}. A {@code model} parameter is a model name like any
 * other (parsed, allowlisted, cloud rule). {@code autoload} other than {@code false} loads a model
 * and needs the {@code models.manage} scope. Parameters are decoded strictly (a malformed escape, a
 * repeated name or a non-ASCII byte is refused), since servers disagree on which of two repeats
 * wins. Stateless.
 */
final class QueryPolicy {

  /** llama.cpp router-mode GET routes that read ?model= and ?autoload=. */
  private static final Set<String> ROUTER_GETS =
      Set.of(
          "/props", "/slots", "/metrics", "/v1/models", "/health", "/v1/health", "/lora-adapters");

  private QueryPolicy() {}

  /** The parsed query: names to values, in order; or a rejection. */
  record Parsed(Map<String, String> params, @Nullable Rejection rejection) {}

  static Parsed parse(String rawTarget) {
    int q = rawTarget.indexOf('?');
    Map<String, String> out = new LinkedHashMap<>();
    if (q < 0) {
      return new Parsed(out, null);
    }
    for (String pair : rawTarget.substring(q + 1).split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (name == null || value == null) {
        return new Parsed(out, Rejection.of(Problem.QUERY_DENIED, "malformed query parameter"));
      }
      if (out.put(name, value) != null) {
        return new Parsed(
            out,
            Rejection.of(
                Problem.QUERY_DENIED, "query parameter " + printable(name) + " is repeated"));
      }
    }
    return new Parsed(out, null);
  }

  /** The parameters this route takes. */
  static Set<String> allowed(Route route, String method) {
    String path = route.path();
    if (route.param() && path.equals("/slots/")) {
      return Set.of(
          "action"); // llama.cpp: POST /slots/{id}?action=save|restore|erase (models.manage)
    }
    if (path.equals("/v1/messages") || path.equals("/v1/messages/count_tokens")) {
      return Set.of("beta"); // the Anthropic SDKs' beta endpoints: ?beta=true
    }
    if (path.equals("/slots") && method.equals("GET")) {
      return Set.of("model", "autoload", "fail_on_no_slot");
    }
    if (method.equals("GET") && !route.param() && ROUTER_GETS.contains(path)) {
      return Set.of("model", "autoload");
    }
    return Set.of();
  }

  /**
   * Strict percent-decoding: '+' is a space (as cpp-httplib and Go read it), bytes must be ASCII.
   */
  static @Nullable String decode(String s) {
    ByteArrayOutputStream b = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()) {
          return null;
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        int v = hi * 16 + lo;
        if (v >= 0x80) {
          return null;
        }
        b.write(v);
        i += 2;
      } else if (c == '+') {
        b.write(' ');
      } else {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.US_ASCII);
  }

  static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && b.length() < 60; i++) {
      char c = s.charAt(i);
      b.append(c >= 0x21 && c < 0x7f ? c : '?');
    }
    return b.toString();
  }
}

package dev.gatehouse.listen;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.Exchange;
import io.vertx.core.http.HttpServerResponse;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;

/**
 * Cross-origin access for browser apps: off unless {@code cors.origins} lists origins.
 *
 * <p>When on, a preflight ({@code OPTIONS} with {@code Origin} and {@code
 * Access-Control-Request-Method}) for a known route from a listed origin is answered here with 204,
 * without a key and without reaching the upstream: a preflight carries no credentials by design.
 * Other requests from a listed origin get {@code Access-Control-Allow-Origin} with that one origin
 * echoed, whatever their status, so a page can read a 401 or 429 as well as a 200. An origin not
 * listed gets no CORS header at all, so the browser withholds the response from it.
 *
 * <p>Never {@code *}, and never {@code Access-Control-Allow-Credentials}: keys travel in headers
 * the page sets itself, never in cookies, so there is nothing ambient for a page to borrow. {@code
 * Vary: Origin} goes on every response while CORS is on, so that no cache serves one origin's
 * answer to another. Immutable and thread-safe.
 */
public final class Cors {

  /** Request headers a page may send: what the OpenAI, Anthropic and Ollama clients use. */
  private static final Set<String> ALLOWED_HEADERS =
      Set.of(
          "authorization",
          "content-type",
          "x-api-key",
          "openai-beta",
          "openai-organization",
          "openai-project",
          "anthropic-version",
          "anthropic-beta",
          "anthropic-dangerous-direct-browser-access",
          "x-request-id");

  private final Set<String> origins;
  private final String maxAge;

  /**
   * Whether a method on a path is a route Gatehouse serves (the route table, given by the
   * composition root).
   */
  private final java.util.function.BiPredicate<String, String> knownRoute;

  public Cors(
      GatehouseConfig.Cors config, java.util.function.BiPredicate<String, String> knownRoute) {
    this.origins =
        Set.copyOf(config.origins().stream().map(o -> o.toLowerCase(Locale.ROOT)).toList());
    this.maxAge = Long.toString(config.maxAge().toSeconds());
    this.knownRoute = knownRoute;
  }

  /**
   * Adds the CORS headers this request earns, and answers it if it is a preflight for a known route
   * from a listed origin. Returns true when it answered.
   */
  public boolean handle(Exchange x) {
    if (origins.isEmpty()) {
      return false;
    }
    HttpServerResponse resp = x.response();
    resp.headers().add("Vary", "Origin");
    String origin = x.request().getHeader("Origin");
    if (origin == null || !origins.contains(origin.toLowerCase(Locale.ROOT))) {
      return false;
    }
    String wanted = x.request().getHeader("Access-Control-Request-Method");
    if (x.request().method().name().equals("OPTIONS") && wanted != null) {
      if (!knownRoute.test(wanted, Objects.requireNonNull(x.target(), "listen.shape ran").path())) {
        return false; // unknown route or method: no CORS headers, and the usual answer (401)
      }
      resp.putHeader("Access-Control-Allow-Origin", origin);
      resp.putHeader("Access-Control-Allow-Methods", wanted);
      String headers = allowedHeaders(x.request().getHeader("Access-Control-Request-Headers"));
      if (!headers.isEmpty()) {
        resp.putHeader("Access-Control-Allow-Headers", headers);
      }
      resp.putHeader("Access-Control-Max-Age", maxAge);
      resp.putHeader("Cache-Control", "no-store");
      resp.setStatusCode(204).end();
      return true;
    }
    resp.putHeader("Access-Control-Allow-Origin", origin);
    resp.putHeader("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
    return false;
  }

  /**
   * The requested headers that are allowed, as sent; others are left out, so the browser refuses.
   */
  private static String allowedHeaders(String requested) {
    if (requested == null) {
      return "";
    }
    StringJoiner out = new StringJoiner(", ");
    for (String h : requested.split(",")) {
      String name = h.trim().toLowerCase(Locale.ROOT);
      // x-stainless-* are the OpenAI SDKs' telemetry headers; never forwarded upstream.
      if (ALLOWED_HEADERS.contains(name) || name.matches("x-stainless-[a-z0-9-]{1,40}")) {
        out.add(name);
      }
    }
    return out.toString();
  }
}

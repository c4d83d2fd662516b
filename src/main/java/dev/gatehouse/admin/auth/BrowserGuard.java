package dev.gatehouse.admin.auth;

import dev.gatehouse.admin.ProblemJson;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The admin listener's first check on every request, before any credential is looked at: the {@code
 * Host} must name this listener and an {@code Origin}, when sent, must be this listener too.
 *
 * <p>Why: a web page on another site can make the browser of an operator send requests to {@code
 * 127.0.0.1}. With DNS rebinding such a page's own name resolves to 127.0.0.1, so the browser
 * treats the admin API as same-origin; its requests still carry the attacker's name in {@code
 * Host}, which is refused here. A cross-site request ({@code fetch} or a form) carries its own
 * {@code Origin} (or {@code Sec-Fetch-Site: cross-site}), refused here as well; see {@link
 * AdminAuth} for the session cookie's CSRF rule.
 */
public final class BrowserGuard implements Handler<RoutingContext> {

  private final Supplier<@Nullable Set<String>> allowedHosts;

  /**
   * @param allowedHosts the {@code Host} values accepted, lower case ({@code host:port}, IPv6 in
   *     brackets); null until the listener knows its port, and until then everything is refused
   */
  public BrowserGuard(Supplier<@Nullable Set<String>> allowedHosts) {
    this.allowedHosts = allowedHosts;
  }

  /** The Host values a listener on {@code host:port} accepts, with the configured extra ones. */
  public static Set<String> allowedHosts(String host, int port, List<String> extra) {
    String own = host.contains(":") ? "[" + host + "]" : host;
    java.util.Set<String> out = new java.util.LinkedHashSet<>();
    out.add((own + ":" + port).toLowerCase(Locale.ROOT));
    out.add("localhost:" + port);
    out.add("127.0.0.1:" + port);
    out.add("[::1]:" + port);
    extra.forEach(h -> out.add(h.toLowerCase(Locale.ROOT)));
    return Set.copyOf(out);
  }

  @Override
  public void handle(RoutingContext rc) {
    HttpServerRequest req = rc.request();
    Set<String> allowed = allowedHosts.get();
    List<String> hosts = req.headers().getAll("Host");
    if (allowed == null
        || hosts.size() != 1
        || !allowed.contains(hosts.getFirst().toLowerCase(Locale.ROOT))) {
      ProblemJson.send(
          rc,
          403,
          "admin.host_denied",
          "the Host header does not name this admin listener; add the name to admin.hosts");
      return;
    }
    // The provider's redirect back to the callback is a top-level GET from another site by design
    // (OAuth 2.0); it opens a session only when its state is the one bound to this browser's
    // cookie at the start of the login (OidcRoutes), which is the CSRF check for that route.
    boolean providerReturn =
        req.method().equals(HttpMethod.GET) && OidcRoutes.CALLBACK.equals(req.path());
    List<String> origins = req.headers().getAll("Origin");
    if (providerReturn) {
      rc.next();
      return;
    }
    if (origins.size() > 1
        || (origins.size() == 1 && !originAllowed(origins.getFirst(), allowed))
        || "cross-site".equalsIgnoreCase(req.getHeader("Sec-Fetch-Site"))) {
      ProblemJson.send(rc, 403, "admin.origin_denied", "requests from another site are refused");
      return;
    }
    rc.next();
  }

  /** True for {@code http://} or {@code https://} and an allowed host, nothing more. */
  static boolean originAllowed(String origin, Set<String> allowed) {
    String o = origin.toLowerCase(Locale.ROOT);
    String rest;
    if (o.startsWith("http://")) {
      rest = o.substring("http://".length());
    } else if (o.startsWith("https://")) {
      rest = o.substring("https://".length());
    } else {
      return false; // "null" (a sandboxed or file: page) and every other scheme
    }
    return allowed.contains(rest);
  }
}

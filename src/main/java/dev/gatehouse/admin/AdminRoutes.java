package dev.gatehouse.admin;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The one place admin API routes are declared. Each route names the least role it needs; the
 * registrar puts the role check in front of the handler, and keeps the list that {@code
 * /openapi.json} and the tests are checked against. Paths are written as in OpenAPI ({@code
 * /api/v1/keys/{id}/revoke}).
 */
public final class AdminRoutes {

  /** The routing-context key under which the authenticated {@link AdminPrincipal} is kept. */
  public static final String PRINCIPAL = "gatehouse.admin";

  /** One declared route. */
  public record Route(HttpMethod method, String path, Role role, String summary) {}

  private final Router router;
  private final Function<Role, Handler<RoutingContext>> require;

  /**
   * A route that needs no credential: only the dashboard's login and logout ({@code
   * /api/v1/session}), whose handlers make their own checks.
   */
  public record OpenRoute(HttpMethod method, String path, String summary) {}

  private final List<Route> routes = new ArrayList<>();
  private final List<OpenRoute> open = new ArrayList<>();

  /**
   * @param require a handler that lets a request through only with a credential of at least that
   *     role (401 without one, 403 with too small a role)
   */
  public AdminRoutes(Router router, Function<Role, Handler<RoutingContext>> require) {
    this.router = router;
    this.require = require;
  }

  /**
   * Declares a route that needs {@code role}. A GET route answers HEAD too (HTTP's rule: the same
   * head, no body), under the same check.
   */
  public void add(
      HttpMethod method, String path, Role role, String summary, Handler<RoutingContext> handler) {
    routes.add(new Route(method, path, role, summary));
    router.route(method, vertxPath(path)).handler(require.apply(role)).handler(handler);
    if (method.equals(HttpMethod.GET)) {
      router.route(HttpMethod.HEAD, vertxPath(path)).handler(require.apply(role)).handler(handler);
    }
  }

  /**
   * Declares a route that needs no credential. Only for logging in and out: every other route goes
   * through {@link #add}.
   */
  public void addWithoutCredential(
      HttpMethod method, String path, String summary, Handler<RoutingContext> handler) {
    open.add(new OpenRoute(method, path, summary));
    router.route(method, vertxPath(path)).handler(handler);
  }

  /** The routes that need no credential, in declaration order. */
  public List<OpenRoute> openRoutes() {
    return List.copyOf(open);
  }

  /**
   * The methods declared for a request path, for the {@code Allow} header of a 405; empty when no
   * route has this path.
   */
  public java.util.SortedSet<String> methodsFor(String requestPath) {
    java.util.SortedSet<String> out = new java.util.TreeSet<>();
    for (Route r : routes) {
      if (matches(r.path(), requestPath)) {
        out.add(r.method().name());
        if (r.method().equals(HttpMethod.GET)) {
          out.add(HttpMethod.HEAD.name());
        }
      }
    }
    for (OpenRoute r : open) {
      if (matches(r.path(), requestPath)) {
        out.add(r.method().name());
      }
    }
    return out;
  }

  private static boolean matches(String openApiPath, String requestPath) {
    String[] p = openApiPath.split("/", -1);
    String[] q = requestPath.split("/", -1);
    if (p.length != q.length) {
      return false;
    }
    for (int i = 0; i < p.length; i++) {
      boolean param = p[i].startsWith("{") && p[i].endsWith("}");
      if (param ? q[i].isEmpty() : !p[i].equals(q[i])) {
        return false;
      }
    }
    return true;
  }

  /** Every declared route, in declaration order. */
  public List<Route> routes() {
    return List.copyOf(routes);
  }

  /** The authenticated caller of a request that passed the role check. */
  public static AdminPrincipal principal(RoutingContext rc) {
    AdminPrincipal p = rc.get(PRINCIPAL);
    if (p == null) {
      throw new IllegalStateException("no admin principal: the route skipped its role check");
    }
    return p;
  }

  /** {@code /a/{id}/b} as Vert.x Web writes it: {@code /a/:id/b}. */
  static String vertxPath(String openApiPath) {
    return openApiPath.replaceAll("\\{([A-Za-z0-9_]+)}", ":$1");
  }
}

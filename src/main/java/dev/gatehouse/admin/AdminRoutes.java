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
  private final List<Route> routes = new ArrayList<>();

  /**
   * @param require a handler that lets a request through only with a credential of at least that
   *     role (401 without one, 403 with too small a role)
   */
  public AdminRoutes(Router router, Function<Role, Handler<RoutingContext>> require) {
    this.router = router;
    this.require = require;
  }

  /** Declares a route that needs {@code role}. */
  public void add(
      HttpMethod method, String path, Role role, String summary, Handler<RoutingContext> handler) {
    routes.add(new Route(method, path, role, summary));
    router.route(method, vertxPath(path)).handler(require.apply(role)).handler(handler);
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

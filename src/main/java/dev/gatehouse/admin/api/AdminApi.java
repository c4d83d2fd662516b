package dev.gatehouse.admin.api;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminPrincipal;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import io.vertx.core.http.HttpMethod;

/** The admin REST API's routes (a first one; the API is filled in by the next change). */
public final class AdminApi {

  private AdminApi() {}

  /** Registers every API route. */
  public static void register(AdminRoutes routes, AdminContext ctx) {
    routes.add(
        HttpMethod.GET,
        "/api/v1/me",
        Role.VIEWER,
        "The caller's credential",
        rc -> {
          AdminPrincipal p = AdminRoutes.principal(rc);
          ObjectNode o = JsonNodeFactory.instance.objectNode();
          o.put("id", p.id());
          o.put("name", p.name());
          o.put("role", p.role().label());
          rc.response().putHeader("Content-Type", "application/json").end(o.toString());
        });
  }
}

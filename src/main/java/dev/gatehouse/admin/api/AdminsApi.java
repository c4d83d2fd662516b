package dev.gatehouse.admin.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import dev.gatehouse.admin.auth.AdminJson;
import dev.gatehouse.store.AdminRecord;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code /api/v1/admins}: admin credentials, for the {@code admin} role only. A token is in the
 * answer that creates it and nowhere else; revoking the last active admin is refused (409 {@code
 * admin.last_admin}), so the control plane can never lock itself out.
 */
final class AdminsApi {

  private final AdminContext ctx;

  AdminsApi(AdminContext ctx) {
    this.ctx = ctx;
  }

  void register(AdminRoutes routes) {
    routes.add(HttpMethod.GET, "/api/v1/admins", Role.ADMIN, "List admin credentials", this::list);
    routes.add(
        HttpMethod.POST, "/api/v1/admins", Role.ADMIN, "Create an admin credential", this::create);
    routes.add(
        HttpMethod.DELETE,
        "/api/v1/admins/{id}",
        Role.ADMIN,
        "Revoke an admin credential",
        this::revoke);
  }

  private void list(RoutingContext rc) {
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> ctx.admins().list(),
        all -> {
          ArrayNode a = Api.JSON.createArrayNode();
          all.forEach(c -> a.add(json(c)));
          Api.ok(rc, Api.wrap("admins", a));
        });
  }

  private void create(RoutingContext rc) {
    String name;
    Role role;
    try {
      ObjectNode body = Api.body(rc);
      name = Api.required(body, "name");
      String label = Api.required(body, "role");
      role = Role.parse(label);
      if (role == null) {
        throw new IllegalArgumentException(
            "role: " + label + " (expected: viewer, operator or admin)");
      }
    } catch (IllegalArgumentException e) {
      Api.invalid(rc, e.getMessage());
      return;
    }
    Role r = role;
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> ctx.admins().create(name, r),
        c -> {
          ObjectNode o = Api.JSON.createObjectNode();
          o.set("admin", json(c.record()));
          o.put("secret", c.token());
          Api.json(rc, 201, o);
        });
  }

  private void revoke(RoutingContext rc) {
    String id = rc.pathParam("id");
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> {
          return switch (ctx.admins().revoke(id)) {
            case REVOKED -> true;
            case LAST_ADMIN ->
                throw new Api.Conflict(
                    "admin.last_admin",
                    "admin credential " + id + " is the last active admin: create another first");
            case NOT_FOUND ->
                throw new Api.NotFound("admin credential " + id + ": no such active credential");
          };
        },
        done -> rc.response().setStatusCode(204).putHeader("Cache-Control", "no-store").end());
  }

  private static ObjectNode json(AdminRecord c) {
    return AdminJson.of(c);
  }
}

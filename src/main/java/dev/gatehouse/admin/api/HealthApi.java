package dev.gatehouse.admin.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminPrincipal;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import dev.gatehouse.upstream.UpstreamHealth;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;

/**
 * {@code GET /api/v1/me} (who is asking) and {@code GET /api/v1/health} (the upstream's last health
 * check and the audit queue). Both read memory only and answer on the event loop.
 */
final class HealthApi {

  private final AdminContext ctx;

  HealthApi(AdminContext ctx) {
    this.ctx = ctx;
  }

  void register(AdminRoutes routes) {
    routes.add(HttpMethod.GET, "/api/v1/me", Role.VIEWER, "The caller's credential", this::me);
    routes.add(
        HttpMethod.GET, "/api/v1/health", Role.VIEWER, "Upstream and audit health", this::health);
  }

  private void me(RoutingContext rc) {
    AdminPrincipal p = AdminRoutes.principal(rc);
    ObjectNode o = Api.JSON.createObjectNode();
    o.put("id", p.id());
    o.put("name", p.name());
    o.put("role", p.role().label());
    Api.ok(rc, o);
  }

  private void health(RoutingContext rc) {
    ObjectNode up = upstream(ctx);
    boolean down = up.path("up").isBoolean() && !up.path("up").asBoolean();
    ObjectNode o = Api.JSON.createObjectNode();
    o.put("status", down ? "degraded" : "ok");
    o.set("upstream", up);
    o.putObject("audit").put("queued", ctx.gateway().audit().queued());
    o.put("version", AdminApi.version());
    Api.ok(rc, o);
  }

  /** The upstream's URL and its last health check: up true or false, null before the first. */
  static ObjectNode upstream(AdminContext ctx) {
    UpstreamHealth h = ctx.gateway().upstreamHealth();
    ObjectNode o = Api.JSON.createObjectNode();
    o.put("url", ctx.config().get().upstream().toString());
    switch (h.state()) {
      case 1 -> o.put("up", true);
      case 0 -> o.put("up", false);
      default -> o.putNull("up");
    }
    Instant at = h.checkedAt();
    if (at == null) {
      o.putNull("checked_at");
    } else {
      o.put("checked_at", at.toString());
    }
    return o;
  }
}

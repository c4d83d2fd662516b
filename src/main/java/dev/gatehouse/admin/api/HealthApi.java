package dev.gatehouse.admin.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminPrincipal;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import dev.gatehouse.upstream.Upstream;
import dev.gatehouse.upstream.UpstreamHealth;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;

/**
 * {@code GET /api/v1/me} (who is asking) and {@code GET /api/v1/health} (the upstreams' state, the
 * first one's last health check as {@code upstream}, and the audit queue). Both read memory only
 * and answer on the event loop.
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
    ArrayNode all = upstreams(ctx);
    boolean down = false;
    for (var u : all) {
      down |= !"up".equals(u.path("state").asText());
    }
    ObjectNode o = Api.JSON.createObjectNode();
    o.put("status", down && all.size() > 1 ? "degraded" : statusOf(up));
    o.set("upstream", up);
    o.set("upstreams", all);
    o.putObject("audit").put("queued", ctx.gateway().audit().queued());
    o.put("version", AdminApi.version());
    Api.ok(rc, o);
  }

  private static String statusOf(ObjectNode up) {
    return up.path("up").isBoolean() && !up.path("up").asBoolean() ? "degraded" : "ok";
  }

  /**
   * Every upstream, in the order configured: name, URL, weight, labels, the API it speaks, its
   * state ({@code up}; {@code down}, found so by its health check; {@code ejected}, after failures
   * in a row; {@code unknown} before its first check), its last check, requests in flight, failures
   * in a row, and how many models it lists (-1: not read).
   */
  static ArrayNode upstreams(AdminContext ctx) {
    ArrayNode list = Api.JSON.createArrayNode();
    for (Upstream u : ctx.gateway().upstreams().members()) {
      ObjectNode o = list.addObject();
      o.put("name", u.name());
      o.put("url", u.uri().toString());
      o.put("weight", u.entry().weight());
      ObjectNode labels = o.putObject("labels");
      u.entry().labels().forEach(labels::put);
      o.put("kind", u.catalog().kind().name().toLowerCase(java.util.Locale.ROOT));
      int state = u.health().state();
      o.put(
          "state",
          u.outlier().ejected() ? "ejected" : state == 1 ? "up" : state == 0 ? "down" : "unknown");
      Instant at = u.health().checkedAt();
      if (at == null) {
        o.putNull("checked_at");
      } else {
        o.put("checked_at", at.toString());
      }
      o.put("in_flight", u.inFlight());
      o.put("consecutive_failures", u.outlier().consecutiveFailures());
      o.put("models", u.catalog().size());
    }
    return list;
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

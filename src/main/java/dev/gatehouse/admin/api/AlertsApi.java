package dev.gatehouse.admin.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import dev.gatehouse.alerts.Alert;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;

/**
 * {@code GET /api/v1/alerts}: the alerts this gateway raised recently (its in-memory ring of 200),
 * most recent first. Read only; nothing here touches a store, so it answers on the event loop.
 */
final class AlertsApi {

  private final AdminContext ctx;

  AlertsApi(AdminContext ctx) {
    this.ctx = ctx;
  }

  void register(AdminRoutes routes) {
    routes.add(HttpMethod.GET, "/api/v1/alerts", Role.VIEWER, "Recent alerts", this::list);
  }

  private void list(RoutingContext rc) {
    ArrayNode a = Api.JSON.createArrayNode();
    for (Alert al : ctx.gateway().alerts().engine().recent().newestFirst()) {
      ObjectNode o = a.addObject();
      o.put("id", al.id());
      o.put("at", Instant.ofEpochMilli(al.timeMillis()).toString());
      o.put("rule", al.rule().name());
      o.put("severity", al.rule().severity());
      o.put("summary", al.summary());
      if (al.rule().groupBy() == null) {
        o.putNull("subject");
      } else {
        o.put("subject", al.rule().groupBy() + " " + al.groupValue());
      }
      o.put("value", al.total());
      o.put("suppressed", al.suppressed());
    }
    Api.ok(rc, Api.wrap("alerts", a));
  }
}

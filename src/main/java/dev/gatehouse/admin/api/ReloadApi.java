package dev.gatehouse.admin.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.ProblemJson;
import dev.gatehouse.admin.Role;
import dev.gatehouse.gateway.ReloadOutcome;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /api/v1/reload}: re-reads the configuration as {@code SIGHUP} does. A valid one is
 * applied to new requests (200 with what changed and what waits for a restart); an invalid one
 * changes nothing and is answered 422 {@code config.invalid} with every error.
 */
final class ReloadApi {

  private final AdminContext ctx;

  ReloadApi(AdminContext ctx) {
    this.ctx = ctx;
  }

  void register(AdminRoutes routes) {
    routes.add(
        HttpMethod.POST, "/api/v1/reload", Role.OPERATOR, "Reload the configuration", this::reload);
  }

  private void reload(RoutingContext rc) {
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> ctx.reload().call(),
        (ReloadOutcome r) -> {
          if (!r.applied()) {
            ProblemJson.send(
                rc,
                422,
                "config.invalid",
                "the configuration was not reloaded: it has errors; the running one stays",
                r.errors());
            return;
          }
          ObjectNode o = Api.JSON.createObjectNode();
          o.put("applied", true);
          ArrayNode changed = o.putArray("changed");
          r.changed().forEach(changed::add);
          ArrayNode restart = o.putArray("restart_required");
          r.restartRequired().forEach(restart::add);
          Api.ok(rc, o);
        });
  }
}

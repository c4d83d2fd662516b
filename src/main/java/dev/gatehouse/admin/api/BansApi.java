package dev.gatehouse.admin.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.abuse.BanExport;
import dev.gatehouse.abuse.ManualBans;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import dev.gatehouse.store.BanRecord;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/**
 * {@code /api/v1/bans}: list, add, remove and export client bans through the same {@link
 * ManualBans} and {@link BanExport} as {@code gatehouse bans}. A change lands in the ban store,
 * which the running gateway reloads at once.
 */
final class BansApi {

  private final AdminContext ctx;

  BansApi(AdminContext ctx) {
    this.ctx = ctx;
  }

  void register(AdminRoutes routes) {
    routes.add(
        HttpMethod.GET,
        "/api/v1/bans",
        Role.VIEWER,
        "List bans (in force; with all=true, ended ones too)",
        this::list);
    routes.add(HttpMethod.POST, "/api/v1/bans", Role.OPERATOR, "Ban an address", this::add);
    routes.add(
        HttpMethod.GET,
        "/api/v1/bans/export",
        Role.VIEWER,
        "Export bans as indicators of compromise (JSON or CSV)",
        this::export);
    routes.add(HttpMethod.DELETE, "/api/v1/bans/{ip}", Role.OPERATOR, "Lift a ban", this::remove);
  }

  private ManualBans manual() {
    return new ManualBans(ctx.stores().bans(), ctx.config().get().bans(), Clock.systemUTC());
  }

  private void list(RoutingContext rc) {
    boolean all = "true".equals(Api.param(rc, "all"));
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> ctx.stores().bans().listBans(),
        rows -> {
          Instant now = Instant.now();
          List<BanRecord> shown = rows.stream().filter(r -> all || r.activeAt(now)).toList();
          Api.ok(rc, Api.wrap("bans", BanExport.toJson(shown, now)));
        });
  }

  private void add(RoutingContext rc) {
    ObjectNode body;
    String ip;
    try {
      body = Api.body(rc);
      ip = Api.required(body, "ip");
      ManualBans.address(ip); // a bad address is the caller's mistake, not the store's
    } catch (IllegalArgumentException e) {
      Api.invalid(rc, e.getMessage());
      return;
    }
    Api.blocking(
        ctx.vertx(),
        rc,
        () ->
            manual()
                .add(
                    ip,
                    Api.text(body, "duration"),
                    Api.text(body, "reason"),
                    List.of("duration", "reason")),
        r -> Api.json(rc, 201, Api.wrap("ban", BanExport.toJson(r, Instant.now()))));
  }

  private void remove(RoutingContext rc) {
    String ip = rc.pathParam("ip");
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> {
          if (!manual().remove(ip)) {
            throw new Api.NotFound("ban " + ip + ": this address is not banned");
          }
          return true;
        },
        done -> rc.response().setStatusCode(204).putHeader("Cache-Control", "no-store").end());
  }

  private void export(RoutingContext rc) {
    String format = Api.param(rc, "format");
    String f = format == null ? "json" : format;
    if (!f.equals("json") && !f.equals("csv")) {
      Api.invalid(rc, "format: " + format + " (expected: json or csv)");
      return;
    }
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> ctx.stores().bans().listBans(),
        rows -> {
          Instant now = Instant.now();
          if (f.equals("json")) {
            Api.ok(rc, BanExport.toJson(rows, now));
            return;
          }
          rc.response()
              .putHeader("Content-Type", "text/csv; charset=utf-8")
              .putHeader("Content-Disposition", "attachment; filename=\"gatehouse-bans.csv\"")
              .putHeader("Cache-Control", "no-store")
              .end(BanExport.csv(rows, now));
        });
  }
}

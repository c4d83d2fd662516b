package dev.gatehouse.admin.api;

import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminRoutes;

/**
 * The admin REST API: every route under {@code /api/v1/} except the session's, one class per area,
 * each declaring its routes and their least role through {@link AdminRoutes}. The listener ({@code
 * AdminServer}) authenticates, checks Host and Origin, and limits bodies before any of these runs.
 */
public final class AdminApi {

  private AdminApi() {}

  /** Declares every route on {@code routes}, and starts the overview's once-a-second sampling. */
  public static void register(AdminRoutes routes, AdminContext ctx) {
    new HealthApi(ctx).register(routes);
    new OverviewApi(ctx).register(routes);
    new KeysApi(ctx).register(routes);
    new BansApi(ctx).register(routes);
    new UsageApi(ctx).register(routes);
    new AuditApi(ctx).register(routes);
    new AlertsApi(ctx).register(routes);
    new DoctorApi(ctx).register(routes);
    new ConfigApi(ctx).register(routes);
    new ReloadApi(ctx).register(routes);
    new AdminsApi(ctx).register(routes);
  }

  /** This build's version, from the jar manifest. */
  static String version() {
    String v = AdminApi.class.getPackage().getImplementationVersion();
    return v == null ? "development build" : v;
  }
}

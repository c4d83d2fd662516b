package dev.gatehouse.admin.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import dev.gatehouse.doctor.ConfigAudit;
import dev.gatehouse.doctor.Doctor;
import dev.gatehouse.doctor.Finding;
import dev.gatehouse.doctor.JdkHttpProbe;
import dev.gatehouse.doctor.Report;
import dev.gatehouse.store.KeyRecord;
import dev.gatehouse.store.KeyStore;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code /api/v1/doctor}: the findings of {@code gatehouse doctor}, run in the gateway's process
 * with the inputs the periodic posture check uses ({@link Doctor.Inputs#inGateway}) plus the
 * running key store, so keys are audited too. {@code GET} answers the last run (running one first
 * if there was none); {@code POST} runs it now. A run probes loopback ports for a few seconds, on a
 * worker thread.
 */
final class DoctorApi {

  private final AdminContext ctx;
  private final AtomicReference<Report> last = new AtomicReference<>();

  DoctorApi(AdminContext ctx) {
    this.ctx = ctx;
  }

  void register(AdminRoutes routes) {
    routes.add(
        HttpMethod.GET, "/api/v1/doctor", Role.VIEWER, "The last doctor run's findings", this::get);
    routes.add(
        HttpMethod.POST,
        "/api/v1/doctor",
        Role.OPERATOR,
        "Run doctor now and answer its findings",
        this::run);
  }

  private void get(RoutingContext rc) {
    Report r = last.get();
    if (r != null) {
      Api.ok(rc, json(r));
      return;
    }
    run(rc);
  }

  private void run(RoutingContext rc) {
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> {
          Report r;
          try (JdkHttpProbe http = new JdkHttpProbe(Duration.ofSeconds(3), "gatehouse-doctor")) {
            r =
                Doctor.run(
                    Doctor.Inputs.inGateway(
                        ctx.config().get(),
                        ctx.configFile(),
                        ctx.env(),
                        new StoreKeys(ctx.stores().keys()),
                        http,
                        Clock.systemUTC(),
                        AdminApi.version()));
          }
          last.set(r);
          return r;
        },
        r -> Api.ok(rc, json(r)));
  }

  private static ObjectNode json(Report r) {
    ObjectNode o = Api.JSON.createObjectNode();
    o.put("ran_at", r.generatedAt().toString());
    ArrayNode a = o.putArray("findings");
    for (Finding f : r.findings()) {
      ObjectNode n = a.addObject();
      n.put("id", f.id());
      n.put("severity", f.severity().label());
      n.put("title", f.title());
      n.put("subject", f.subject());
      n.put("fix", f.fix());
      ArrayNode ev = n.putArray("evidence");
      f.evidence().forEach(ev::add);
    }
    ArrayNode errors = o.putArray("errors");
    r.errors().forEach(errors::add);
    return o;
  }

  /** The running gateway's keys, which doctor audits (expiry, scopes, age). */
  private record StoreKeys(KeyStore store) implements ConfigAudit.KeySource {
    @Override
    public boolean exists() {
      return true;
    }

    @Override
    public List<KeyRecord> keys() {
      return store.list();
    }

    @Override
    public String describe() {
      return "the running gateway's key store";
    }
  }
}

package dev.gatehouse.admin.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import dev.gatehouse.metrics.GatewayMetrics;
import dev.gatehouse.store.AuditStore;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * {@code GET /api/v1/overview}: the dashboard's live page. Rates and refusals come from the metrics
 * counters sampled each second on the admin side ({@link RateSampler}, from the first request on);
 * the top keys and addresses from the audit store over the last 15 minutes (one grouped query each,
 * on a worker).
 */
final class OverviewApi {

  /** How far back the top lists look. */
  static final Duration TOP_WINDOW = Duration.ofMinutes(15);

  /** How many keys and addresses each top list names. */
  static final int TOP = 10;

  private final AdminContext ctx;
  private final RateSampler sampler;
  private final java.util.concurrent.atomic.AtomicBoolean sampling =
      new java.util.concurrent.atomic.AtomicBoolean();

  OverviewApi(AdminContext ctx) {
    this.ctx = ctx;
    this.sampler = new RateSampler(() -> ctx.gateway().metrics().totals());
  }

  void register(AdminRoutes routes) {
    routes.add(
        HttpMethod.GET,
        "/api/v1/overview",
        Role.VIEWER,
        "Live rates, refusals, upstream health and top keys and addresses",
        this::overview);
  }

  private record Top(List<AuditStore.Count> keys, List<AuditStore.Count> addresses) {}

  private void overview(RoutingContext rc) {
    if (sampling.compareAndSet(false, true)) {
      // Started by the first look, on the admin side only: the timer reads counters the request
      // path already keeps, and adds nothing to it.
      ctx.vertx().setPeriodic(1000, id -> sampler.sample());
    }
    String since = Instant.now().minus(TOP_WINDOW).toString();
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> {
          AuditStore audit = ctx.stores().audit();
          return new Top(audit.topKeysSince(since, TOP), audit.topAddressesSince(since, TOP));
        },
        top -> Api.ok(rc, json(top)));
  }

  private ObjectNode json(Top top) {
    List<RateSampler.Sample> s = sampler.samples();
    GatewayMetrics.Totals now = s.get(s.size() - 1).totals();
    ObjectNode o = Api.JSON.createObjectNode();
    o.put("window_seconds", RateSampler.WINDOW);
    o.put("requests_per_second", RateSampler.rate(s, GatewayMetrics.Totals::requests));
    o.put("tokens_per_second", RateSampler.rate(s, GatewayMetrics.Totals::tokens));
    o.put("active_streams", now.activeStreams());
    ObjectNode refusals = o.putObject("refusals");
    RateSampler.refusals(s).forEach(refusals::put);
    ObjectNode totals = o.putObject("totals");
    totals.put("requests", now.requests());
    totals.put("refused", now.refused());
    o.set("upstream", HealthApi.upstream(ctx));
    ArrayNode keys = o.putArray("top_keys");
    top.keys()
        .forEach(c -> keys.addObject().put("key_id", c.value()).put("requests", c.requests()));
    ArrayNode ips = o.putArray("top_addresses");
    top.addresses()
        .forEach(c -> ips.addObject().put("ip", c.value()).put("requests", c.requests()));
    ArrayNode series = o.putArray("series");
    for (RateSampler.Step st : RateSampler.steps(s)) {
      series
          .addObject()
          .put("t", st.at().toString())
          .put("requests", st.requests())
          .put("refused", st.refused())
          .put("tokens", st.tokens());
    }
    return o;
  }
}

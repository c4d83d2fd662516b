package dev.gatehouse.gateway;

import dev.gatehouse.metrics.GatewayMetrics;
import dev.gatehouse.upstream.Upstream;
import dev.gatehouse.upstream.UpstreamPool;

/** The metrics of each upstream, labelled {@code upstream} with its name (docs/upstreams.md). */
final class UpstreamGauges {

  private UpstreamGauges() {}

  static void register(GatewayMetrics metrics, UpstreamPool upstreams) {
    for (Upstream u : upstreams.members()) {
      String name = u.name();
      metrics.gauge(
          "gatehouse_upstream_up",
          "1 when the upstream answered its last health check, 0 when not, -1 before the first",
          u,
          x -> x.health().state(),
          "upstream",
          name);
      metrics.gauge(
          "gatehouse_upstream_check_seconds",
          "Duration of the last upstream health check",
          u,
          x -> x.health().lastCheckMicros() / 1e6,
          "upstream",
          name);
      metrics.gauge(
          "gatehouse_upstream_in_flight",
          "Requests relayed to the upstream now",
          u,
          Upstream::inFlight,
          "upstream",
          name);
      metrics.gauge(
          "gatehouse_upstream_ejected",
          "1 while the upstream is out of rotation after consecutive failures",
          u,
          x -> x.outlier().ejected() ? 1 : 0,
          "upstream",
          name);
      for (Upstream.Outcome o : Upstream.Outcome.values()) {
        metrics.counter(
            "gatehouse_upstream_requests",
            "Requests relayed to the upstream, by how they ended: ok, failed (before the"
                + " response started), failed_over (then retried on another), broken (after it"
                + " started), cancelled (by the client or the gateway)",
            u,
            x -> x.requests(o),
            "upstream",
            name,
            "outcome",
            o.label());
      }
    }
  }
}

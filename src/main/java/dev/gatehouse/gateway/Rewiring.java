package dev.gatehouse.gateway;

import dev.gatehouse.abuse.AuthFailures;
import dev.gatehouse.abuse.BanList;
import dev.gatehouse.abuse.ProbeDetector;
import dev.gatehouse.abuse.SharedCounts;
import dev.gatehouse.account.AccessLog;
import dev.gatehouse.account.Accounting;
import dev.gatehouse.account.UsageMeters;
import dev.gatehouse.alerts.Alerts;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.authorize.Authorizer;
import dev.gatehouse.authorize.PinnedModels;
import dev.gatehouse.authorize.RouteTable;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.Readiness;
import dev.gatehouse.guard.GuardStage;
import dev.gatehouse.identify.ApiKeys;
import dev.gatehouse.identify.KeyRing;
import dev.gatehouse.identify.jwt.JwksSource;
import dev.gatehouse.identify.jwt.JwtVerifier;
import dev.gatehouse.limit.ConcurrencyGate;
import dev.gatehouse.limit.Limiter;
import dev.gatehouse.limit.RateLimiter;
import dev.gatehouse.limit.SharedLimits;
import dev.gatehouse.listen.BodyMemory;
import dev.gatehouse.listen.ConnectionLimits;
import dev.gatehouse.listen.Cors;
import dev.gatehouse.metrics.GatewayMetrics;
import dev.gatehouse.pins.ModelPins;
import dev.gatehouse.store.UsageLedger;
import dev.gatehouse.upstream.UpstreamPool;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a config builds into {@link Gateway.Shared}, and what it keeps across reloads. The parts
 * that hold state for the life of the process (the key ring, the ban list, the usage ledger, the
 * rate buckets, the concurrency gate, the connection counts, the audit writer, the metrics, the
 * alerts, the upstream and its pools, the body memory) are made once and handed to every config;
 * the rest is built again from each reloaded config, and a stateful part whose settings did not
 * change (probe scores, authentication-failure counts, the guard's model, the pins) is kept too.
 * Thread-safe: used at start, then by one reload at a time.
 */
final class Rewiring {

  private final RouteTable routes;
  private final KeyRing ring;
  private final ApiKeys keys;
  private final BanList bans;
  private final RateLimiter rates;
  private final ConcurrencyGate concurrency;
  private final UsageLedger ledger;
  private final @Nullable SharedCounts counts;
  private final Clock clock;
  private final UsageMeters usage;
  private final AccessLog accessLog;
  private final ConnectionLimits connectionLimits;
  private final AuditWriter audit;
  private final GatewayMetrics metrics;
  private final Alerts alerts;
  private final UpstreamPool upstream;
  private final BodyMemory bodyMemory;
  private final List<Readiness> readiness;

  Rewiring(
      RouteTable routes,
      KeyRing ring,
      ApiKeys keys,
      BanList bans,
      SharedLimits limits,
      Clock clock,
      ConnectionLimits connectionLimits,
      AuditWriter audit,
      GatewayMetrics metrics,
      Alerts alerts,
      UpstreamPool upstream,
      BodyMemory bodyMemory,
      List<Readiness> readiness) {
    this.readiness = List.copyOf(readiness);
    this.routes = routes;
    this.ring = ring;
    this.keys = keys;
    this.bans = bans;
    this.rates = limits.rates();
    this.concurrency = limits.gate();
    this.ledger = limits.ledger();
    this.counts = limits.counts();
    this.clock = clock;
    this.usage = new UsageMeters(ledger);
    this.accessLog = new AccessLog();
    this.connectionLimits = connectionLimits;
    this.audit = audit;
    this.metrics = metrics;
    this.alerts = alerts;
    this.upstream = upstream;
    this.bodyMemory = bodyMemory;
  }

  /** The first config's parts; {@code guard} was built beside the start. */
  Gateway.Shared first(GatehouseConfig config, GuardStage guard) throws IOException {
    return shared(
        config,
        pins(config),
        new AuthFailures(config.bans(), bans, counts),
        new ProbeDetector(config.probes(), bans, counts),
        accounting(config),
        guard,
        jwt(config));
  }

  /**
   * The parts for a reloaded config ({@code next}, already merged with the running values of the
   * settings that need a restart), keeping those of {@code running} whose settings did not change.
   * Reads the pins lock file and may load the guard's model: call it off the event loops.
   */
  Gateway.Shared next(Gateway.Shared running, GatehouseConfig next) throws IOException {
    GatehouseConfig was = running.config();
    @Nullable PinnedModels pins =
        Objects.equals(was.models(), next.models()) ? running.pins() : pins(next);
    AuthFailures authFailures =
        was.bans().authFailures() == next.bans().authFailures()
                && was.bans().authWindow().equals(next.bans().authWindow())
            ? running.authFailures()
            : new AuthFailures(next.bans(), bans, counts);
    // scores count toward the threshold in force; a new threshold or window starts them over
    ProbeDetector probes =
        was.probes().equals(next.probes())
            ? running.probes()
            : new ProbeDetector(next.probes(), bans, counts);
    Accounting accounting =
        was.audit().prompt() == next.audit().prompt() ? running.accounting() : accounting(next);
    GuardStage guard =
        was.guard().equals(next.guard()) ? running.guard() : GuardStage.of(next.guard());
    // a verifier keeps its cached key set while jwt.* stays the same; a jwks_file is read again
    @Nullable JwtVerifier jwt =
        running.jwt() != null
                && was.jwt().equals(next.jwt())
                && Objects.requireNonNull(running.jwt()).fetches()
            ? running.jwt()
            : jwt(next);
    // the ban list's own policy (lengths, escalation, exemptions) applies to the next ban it issues
    bans.policy(next.bans());
    return shared(next, pins, authFailures, probes, accounting, guard, jwt);
  }

  private Gateway.Shared shared(
      GatehouseConfig config,
      @Nullable PinnedModels pins,
      AuthFailures authFailures,
      ProbeDetector probes,
      Accounting accounting,
      GuardStage guard,
      @Nullable JwtVerifier jwt) {
    return new Gateway.Shared(
        config,
        routes,
        ring,
        keys,
        new Authorizer(config.policy()),
        new Limiter(config, rates, concurrency, ledger, clock),
        usage,
        accessLog,
        pins,
        bans,
        new Cors(config.cors(), (method, path) -> routes.match(method, path).route() != null),
        authFailures,
        probes,
        connectionLimits,
        accounting,
        upstream,
        bodyMemory,
        guard,
        jwt,
        readiness);
  }

  private @Nullable PinnedModels pins(GatehouseConfig config) throws IOException {
    return config.models().pinned() == null
        ? null
        : new PinnedModels(ModelPins.load(config.models().pinned()), upstream);
  }

  /**
   * The JWT verifier of {@code config}, or null when {@code jwt.*} is off. Reads a JWKS file now; a
   * JWKS URL's first fetch starts in the background, and until it answers a token waits for it.
   */
  private @Nullable JwtVerifier jwt(GatehouseConfig config) throws IOException {
    GatehouseConfig.Jwt j = config.jwt();
    if (!j.enabled()) {
      return null;
    }
    JwksSource source =
        j.jwksUrl() != null
            ? JwksSource.fromUrl(j.jwksUrl(), clock, j.jwksRefresh(), j.jwksMinRefetch())
            : JwksSource.fromFile(
                Objects.requireNonNull(j.jwksFile(), "the config requires a url or a file"));
    return new JwtVerifier(j, source);
  }

  private Accounting accounting(GatehouseConfig config) {
    return new Accounting(audit, metrics, alerts::request, config.audit().prompt());
  }
}

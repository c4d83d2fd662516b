package dev.gatehouse.gateway;

import dev.gatehouse.abuse.AuthFailures;
import dev.gatehouse.abuse.BanList;
import dev.gatehouse.abuse.ProbeDetector;
import dev.gatehouse.account.AccessLog;
import dev.gatehouse.account.Accounting;
import dev.gatehouse.account.UsageMeters;
import dev.gatehouse.alerts.AlertEngine;
import dev.gatehouse.alerts.Alerts;
import dev.gatehouse.alerts.KeyNetworks;
import dev.gatehouse.alerts.ManageHours;
import dev.gatehouse.alerts.Webhook;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.authorize.Authorizer;
import dev.gatehouse.authorize.PinnedModels;
import dev.gatehouse.authorize.RouteTable;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.Readiness;
import dev.gatehouse.guard.GuardStage;
import dev.gatehouse.identify.ApiKeys;
import dev.gatehouse.identify.KeyRing;
import dev.gatehouse.identify.jwt.JwtVerifier;
import dev.gatehouse.limit.ConcurrencyGate;
import dev.gatehouse.limit.Limiter;
import dev.gatehouse.limit.LocalRateLimiter;
import dev.gatehouse.limit.RateLimiter;
import dev.gatehouse.limit.SharedLimits;
import dev.gatehouse.listen.BodyMemory;
import dev.gatehouse.listen.ConnectionLimits;
import dev.gatehouse.listen.Cors;
import dev.gatehouse.listen.RedirectHandler;
import dev.gatehouse.listen.StrictFraming;
import dev.gatehouse.listen.TlsMaterial;
import dev.gatehouse.listen.UndecodableRequest;
import dev.gatehouse.metrics.GatewayMetrics;
import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.BanStore;
import dev.gatehouse.store.KeyStore;
import dev.gatehouse.store.StoreHealth;
import dev.gatehouse.store.StoreWatch;
import dev.gatehouse.store.Stores;
import dev.gatehouse.store.UsageLedger;
import dev.gatehouse.store.UsageStore;
import dev.gatehouse.upstream.UpstreamHealth;
import dev.gatehouse.upstream.UpstreamPool;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * A running gateway: the public listener on every event loop, the optional redirect listener, and
 * the certificate watcher. Start with {@link #start}; {@link #close} stops it all.
 */
public final class Gateway implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse");

  /**
   * How often keys and bans are checked for changes nobody announced (a database edited by hand).
   */
  private static final java.time.Duration WATCH_PERIOD = java.time.Duration.ofSeconds(1);

  /** Vert.x worker threads (see where Vert.x is made). */
  private static final int WORKERS = 4;

  /** What all event loops share; every member is immutable or thread-safe. */
  record Shared(
      GatehouseConfig config,
      RouteTable routes,
      KeyRing ring,
      ApiKeys keys,
      Authorizer authorizer,
      Limiter limiter,
      UsageMeters usage,
      AccessLog accessLog,
      @Nullable PinnedModels pins,
      BanList bans,
      Cors cors,
      AuthFailures authFailures,
      ProbeDetector probes,
      ConnectionLimits connectionLimits,
      Accounting accounting,
      UpstreamPool upstream,
      BodyMemory bodyMemory,
      GuardStage guard,
      @Nullable JwtVerifier jwt,
      List<Readiness> readiness) {}

  private final Vertx vertx;
  private final int port;
  private final int redirectPort;
  private final List<GatewayVerticle> instances;
  private final UsageLedger ledger;
  private final UsageStore usageStore;
  private final BanList bans;
  private final ConnectionLimits connections;
  private final AuditWriter audit;
  private final GatewayMetrics metrics;
  private final Alerts alerts;

  /** What keeps keys and bans current in memory: closed after everything that may still write. */
  private final List<StoreWatch> watches;

  /** The upstreams: their checks stopped first on close, so that shutdown reads as no outage. */
  private final UpstreamPool upstreams;

  /** What a reload builds the next {@link Shared} with, and keeps. */
  private final Rewiring rewiring;

  /** The drain on SIGTERM, which /readyz reports first. */
  private final Drain drain;

  /** The config in force and what was built from it; replaced by a reload, one at a time. */
  private volatile Shared current;

  private Gateway(
      Vertx vertx,
      int port,
      int redirectPort,
      List<GatewayVerticle> instances,
      UsageLedger ledger,
      UsageStore usageStore,
      BanList bans,
      ConnectionLimits connections,
      AuditWriter audit,
      GatewayMetrics metrics,
      Alerts alerts,
      List<StoreWatch> watches,
      UpstreamPool upstreams,
      Rewiring rewiring,
      Drain drain,
      Shared shared) {
    this.rewiring = rewiring;
    this.drain = drain;
    this.current = shared;
    this.watches = watches;
    this.upstreams = upstreams;
    this.audit = audit;
    this.metrics = metrics;
    this.alerts = alerts;
    this.vertx = vertx;
    this.port = port;
    this.redirectPort = redirectPort;
    this.instances = instances;
    this.ledger = ledger;
    this.usageStore = usageStore;
    this.bans = bans;
    this.connections = connections;
  }

  /** Starts serving on the configured stores; blocks until listening. */
  public static Gateway start(GatehouseConfig config, Stores stores, ApiKeys keys)
      throws Exception {
    return start(config, stores, keys, new LocalRateLimiter(), Clock.systemUTC());
  }

  /**
   * Starts serving; blocks until listening or failed. Tests pass a rate limiter or store that
   * fails, to show the gateway fails closed, and a clock they move to show windows releasing. The
   * audit log's queryable copy goes to {@code usageStore} when it is also an {@link AuditStore}
   * (the SQLite store is both).
   */
  public static Gateway start(
      GatehouseConfig config, Stores stores, ApiKeys keys, RateLimiter rates, Clock clock)
      throws Exception {
    return start(config, stores, keys, rates, clock, false);
  }

  /**
   * Starts the same gateway as a bare relay, for {@code gatehouse bench-relay} only: the same
   * wiring, listener and relay, with no policy stage, connection check or account on the request
   * path ({@link Pipeline#relayOnly}). The caller refuses any address but loopback.
   */
  public static Gateway startRelayOnly(GatehouseConfig config, Stores stores, ApiKeys keys)
      throws Exception {
    return start(config, stores, keys, new LocalRateLimiter(), Clock.systemUTC(), true);
  }

  /**
   * The bound on request bodies held at once ({@code limits.body_memory}; by default 60% of the
   * heap, within what its old generation holds beside the gateway's own objects). Refuses to start
   * when it is smaller than one body of {@code limits.max_body}: every such body would be refused.
   */
  static BodyMemory bodyMemory(GatehouseConfig config, long maxHeap, long oldGeneration) {
    long bytes = config.limits().bodyMemoryBytes(maxHeap, oldGeneration);
    if (bytes < config.limits().maxBody()) {
      throw new IllegalArgumentException(
          "limits.max_body ("
              + config.limits().maxBody()
              + " bytes) is more than the memory for request bodies ("
              + bytes
              + " bytes: 60% of a heap of "
              + maxHeap
              + ", and at most its old generation of "
              + oldGeneration
              + " less "
              + GatehouseConfig.Limits.HEAP_RESERVE
              + "): give the JVM a larger heap (-Xmx in GATEHOUSE_JAVA_OPTS) or lower"
              + " limits.max_body");
    }
    return new BodyMemory(bytes);
  }

  /**
   * The most this JVM's old generation can hold, where a body held for seconds ends up: Serial's
   * "Tenured Gen" and Parallel's "PS Old Gen" have a fixed maximum below the heap's (the young
   * generation takes the rest); G1's, ZGC's and Shenandoah's grow into the whole heap, {@code
   * maxHeap}.
   */
  static long oldGeneration(long maxHeap) {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      String name = pool.getName();
      if (pool.getType() == MemoryType.HEAP && (name.contains("Old") || name.contains("Tenured"))) {
        long max = pool.getUsage().getMax();
        return max > 0 ? Math.min(max, maxHeap) : maxHeap;
      }
    }
    return maxHeap;
  }

  private static Gateway start(
      GatehouseConfig config,
      Stores stores,
      ApiKeys keys,
      RateLimiter rates,
      Clock clock,
      boolean relayOnly)
      throws Exception {
    long maxHeap = Runtime.getRuntime().maxMemory();
    BodyMemory bodyMemory = bodyMemory(config, maxHeap, oldGeneration(maxHeap));
    // Work that needs nothing from the stores runs on a thread of its own beside their loading and
    // Vert.x's start: the guard's model (a 2 MB file parsed once, shared by every event loop) and
    // the metrics registry with its JVM meters. Both are joined before the listener is deployed,
    // so nothing is served without them.
    FutureTask<GuardStage> guard = new FutureTask<>(() -> GuardStage.of(config.guard()));
    FutureTask<GatewayMetrics> metricsTask = new FutureTask<>(GatewayMetrics::new);
    Thread.ofPlatform()
        .name("gatehouse-start")
        .daemon()
        .start(
            () -> {
              guard.run();
              metricsTask.run();
            });
    KeyStore store = stores.keys();
    UsageStore usageStore = stores.usage();
    BanStore banStore = stores.bans();
    TlsMaterial tls = config.tlsEnabled() ? TlsMaterial.load(config.tls()) : null;
    BanList bans = new BanList(banStore, config.bans(), clock);
    KeyRing ring = new KeyRing(store);
    // Keys and bans are read from memory on the request path; the watches reload them when the
    // store announces a change (the CLI's, another gateway's) and every second otherwise.
    List<StoreWatch> watches = new java.util.ArrayList<>();
    try {
      watches.add(StoreWatch.start(store, WATCH_PERIOD, List.of(ring)));
      watches.add(StoreWatch.start(banStore, WATCH_PERIOD, List.of(bans)));
      ring.requireLoaded(); // the store must answer at start
      bans.requireLoaded();
    } catch (RuntimeException e) {
      bans.close();
      closeAll(watches);
      throw e;
    }
    int loops = config.effectiveEventLoops();
    // Workers: the blocking work here is short and periodic (the usage flush each second, the rate
    // sweep, a certificate reload, a /metrics scrape), each ordered on its own context, so four
    // are plenty. Vert.x's default of 20 grows one thread per task until it has them all (the
    // usage flush alone gets there in 20 s), each with a stack and its malloc arena.
    io.vertx.core.transport.Transport transport = EventLoopTransport.pick(config.transport());
    Vertx vertx =
        Vertx.builder()
            .with(
                new VertxOptions()
                    .setEventLoopPoolSize(loops)
                    .setWorkerPoolSize(WORKERS)
                    .setBlockedThreadCheckInterval(5)
                    .setBlockedThreadCheckIntervalUnit(TimeUnit.SECONDS))
            .withTransport(transport)
            .build();
    LOG.info(() -> "event loops: " + loops + " on " + transport.name());
    AuditWriter audit;
    AuditStore auditStore = stores.audit();
    try {
      audit =
          AuditWriter.open(
              config.dataDir(),
              auditStore,
              config.audit().hmacKeyFile(),
              config.audit().checkpointEvery(),
              config.audit().checkpointInterval(),
              config.audit().retention(),
              clock,
              config.audit().dbMaxLag(),
              config.audit().durability());
    } catch (Exception e) {
      vertx.close().await(10, TimeUnit.SECONDS);
      bans.close();
      closeAll(watches);
      throw e;
    }
    try {
      int port =
          config.listen().port() == 0 ? freePort(config.listen().host()) : config.listen().port();
      GatewayMetrics metrics = joined(metricsTask);
      Alerts alerts = alerts(config, vertx, auditStore, clock);
      // The store behind the key ring and ban list: /readyz, gatehouse_store_up and an alert on
      // each change (docs/store-postgres.md), checked every second from memory only.
      StoreHealth storeHealth =
          new StoreHealth(
              List.of(ring, bans),
              (up, detail) -> {
                if (up) {
                  LOG.info("store: answering again");
                } else {
                  LOG.warning("store: unavailable: " + detail);
                }
                alerts.dependency("store", up, detail);
              });
      // limits.kind: rates, budgets, concurrency and abuse counts, local or in Redis
      SharedLimits limits =
          SharedLimits.open(
              config,
              vertx,
              clock,
              rates,
              usageStore,
              bans,
              (up, detail) -> alerts.dependency("limits", up, detail));
      UsageLedger ledger = limits.ledger();
      ConcurrencyGate concurrency = limits.gate();
      // the upstreams (docs/upstreams.md): one alert per upstream, named by its URL as before
      UpstreamPool upstream =
          new UpstreamPool(
              vertx, config, (u, up, detail) -> alerts.upstream(u.uri().toString(), up, detail));
      // at shutdown.grace, closing the upstreams' connections ends the streams still running
      Drain drain = new Drain(upstream::close);
      Rewiring rewiring =
          new Rewiring(
              RouteTable.standard(),
              ring,
              keys,
              bans,
              limits,
              clock,
              new ConnectionLimits(config.connections(), config.network().trustedProxies()),
              audit,
              metrics,
              alerts,
              upstream,
              bodyMemory,
              // what /readyz asks, in order; the shared store and limits add theirs
              java.util.stream.Stream.concat(
                      java.util.stream.Stream.of(
                          drain,
                          Readiness.of("upstream", upstream::ready),
                          Readiness.of("store", () -> Future.succeededFuture(storeHealth.up()))),
                      limits.readiness().stream())
                  .toList());
      Shared shared = rewiring.first(config, joined(guard));
      List<GatewayVerticle> instances = new CopyOnWriteArrayList<>();
      vertx
          .deployVerticle(
              () -> {
                GatewayVerticle v = new GatewayVerticle(shared, tls, port, relayOnly);
                instances.add(v);
                return v;
              },
              new DeploymentOptions().setInstances(loops))
          .await(30, TimeUnit.SECONDS);
      int redirectPort = -1;
      if (config.tls().redirectListen() != null) {
        var rl = config.tls().redirectListen();
        int maxFieldBytes = config.limits().maxHeaderBytes();
        HttpServer redirect =
            vertx
                .createHttpServer(
                    StrictFraming.limitDecoder(
                        new HttpServerOptions()
                            .setHost(rl.host())
                            .setPort(rl.port())
                            .setIdleTimeout(10)
                            .setHttp2ClearTextEnabled(false),
                        maxFieldBytes))
                // the same strict framing as the gateway's own listener, so that bytes which are
                // not HTTP/1.x get Gatehouse's answer here too, never Netty's or Vert.x's (a
                // fingerprint); its refusals are logged (it serves and records no requests)
                .connectionHandler(conn -> StrictFraming.install(conn, config, maxFieldBytes, null))
                .invalidRequestHandler(UndecodableRequest::answer)
                .requestHandler(new RedirectHandler(port));
        redirectPort = redirect.listen().await(30, TimeUnit.SECONDS).actualPort();
      }
      Gateway g =
          new Gateway(
              vertx,
              port,
              redirectPort,
              instances,
              ledger,
              usageStore,
              bans,
              shared.connectionLimits(),
              audit,
              metrics,
              alerts,
              watches,
              upstream,
              rewiring,
              drain,
              shared);
      upstream.start(config.admin().healthInterval());
      g.registerGauges(concurrency, upstream, storeHealth);
      vertx.setPeriodic(1000, id -> storeHealth.check());
      metrics.gauge(
          "gatehouse_limits_up",
          "1 when the limits can be decided (Redis answers, with limits.kind redis), else 0",
          limits,
          SharedLimits::up);
      vertx.setPeriodic(60_000, id -> alerts.sweep());
      if (tls != null) {
        g.watchCertificates(config, tls);
      }
      // Usage is written in batches off the request path; idle rate buckets are forgotten.
      vertx.setPeriodic(
          1000,
          id ->
              vertx.executeBlocking(
                  () -> {
                    g.flushUsage();
                    return null;
                  }));
      vertx.setPeriodic(
          60_000,
          id ->
              vertx.executeBlocking(
                  () -> {
                    limits.rates().sweep();
                    return null;
                  }));
      return g;
    } catch (Exception e) {
      vertx.close().await(10, TimeUnit.SECONDS);
      bans.close();
      audit.close();
      closeAll(watches);
      throw e;
    }
  }

  /** The result of work started beside the start-up; its failure fails the start. */
  private static <T> T joined(FutureTask<T> task) throws Exception {
    try {
      return task.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  /**
   * Alerting: the rules in force, the networks each key was used from over the last 30 days (from
   * the audit log), and the webhook when one is configured.
   */
  private static Alerts alerts(
      GatehouseConfig config, Vertx vertx, AuditStore auditStore, Clock clock) throws IOException {
    GatehouseConfig.Alerts ac = config.alerts();
    Webhook webhook = null;
    if (ac.webhook() != null) {
      byte[] secret =
          ac.webhookSecretFile() == null
              ? null
              : java.nio.file.Files.readString(ac.webhookSecretFile())
                  .strip()
                  .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      webhook =
          new Webhook(
              vertx,
              ac.webhook(),
              secret,
              ac.webhookTimeout(),
              ac.webhookRetries(),
              ac.webhookBackoff(),
              gatewayName(config));
    }
    AlertEngine engine =
        new AlertEngine(
            Alerts.rules(ac.defaultRules(), ac.rules()), webhook != null ? webhook : a -> {});
    KeyNetworks networks = new KeyNetworks(ac.networkPrefixV4(), ac.networkPrefixV6());
    String since = clock.instant().minus(java.time.Duration.ofDays(30)).toString();
    for (AuditStore.KeyAddress ka : auditStore.keyAddressesSince(since)) {
      networks.remember(ka.keyId(), ka.ip());
    }
    return new Alerts(
        engine, networks, ManageHours.parse(ac.manageHours(), ac.timezone()), clock, webhook);
  }

  private static String gatewayName(GatehouseConfig config) {
    String host = System.getenv("HOSTNAME");
    return (host == null || host.isBlank() ? "gatehouse" : host) + " (" + config.listen() + ")";
  }

  /** The gauges over live state, read at each scrape. */
  private void registerGauges(
      ConcurrencyGate concurrency, UpstreamPool upstreams, StoreHealth storeHealth) {
    metrics.gauge(
        "gatehouse_store_up",
        "1 when the store of keys and bans answered its last check and the gateway decides from it, 0 when not",
        storeHealth,
        h -> h.up() ? 1 : 0);
    metrics.gauge(
        "gatehouse_requests_in_flight",
        "Requests holding a concurrency slot",
        concurrency,
        ConcurrencyGate::inFlight);
    metrics.gauge(
        "gatehouse_requests_queued",
        "Requests waiting for a concurrency slot",
        concurrency,
        ConcurrencyGate::waiting);
    metrics.gauge(
        "gatehouse_connections_open",
        "Client connections open on the public listener",
        connections,
        ConnectionLimits::open);
    metrics.gauge("gatehouse_bans_active", "Addresses banned now", bans, BanList::activeBans);
    metrics.gauge(
        "gatehouse_tarpits_active", "Addresses tarpitted now", bans, BanList::activeTarpits);
    metrics.counter(
        "gatehouse_bans_issued", "Bans this process has issued", bans, BanList::bansIssued);
    metrics.counter(
        "gatehouse_tarpits_issued",
        "Tarpits this process has started",
        bans,
        BanList::tarpitsIssued);
    UpstreamGauges.register(metrics, upstreams);
    metrics.gauge(
        "gatehouse_audit_queue",
        "Audit records queued and not yet written",
        audit,
        AuditWriter::queued);
    metrics.counter(
        "gatehouse_audit_records",
        "Audit records written since start",
        audit,
        AuditWriter::written);
    metrics.counter(
        "gatehouse_audit_batches",
        "Audit batches written since start",
        audit,
        AuditWriter::batches);
    metrics.counter(
        "gatehouse_audit_fsyncs",
        "Fsyncs of the audit file since start",
        audit,
        AuditWriter::fsyncs);
    audit.onFsync(metrics::auditFsynced);
    metrics.counter(
        "gatehouse_alerts", "Alerts raised since start", alerts.engine(), AlertEngine::fired);
    Webhook w = alerts.webhook();
    if (w != null) {
      metrics.counter(
          "gatehouse_alert_deliveries", "Alerts delivered to the webhook", w, Webhook::delivered);
      metrics.counter(
          "gatehouse_alert_delivery_failures",
          "Webhook attempts that failed, retried or not",
          w,
          Webhook::failedAttempts);
      metrics.counter(
          "gatehouse_alerts_dropped", "Alerts the webhook gave up on", w, Webhook::dropped);
    }
  }

  /** The config in force: the one started with, or the last reload's. */
  public GatehouseConfig config() {
    return current.config();
  }

  /**
   * Puts a new config in force for new connections and requests ({@link GatewayReload}); blocks
   * until every event loop has it. Never call it on an event loop.
   *
   * @param next a config as loaded from the same sources as serve's
   */
  public synchronized ReloadOutcome reload(GatehouseConfig next) {
    GatewayReload.Result r = GatewayReload.apply(current, next, rewiring, instances);
    current = r.shared();
    return r.outcome();
  }

  /** The metrics, which the admin listener serves. */
  public GatewayMetrics metrics() {
    return metrics;
  }

  /** The first upstream's health check. */
  public UpstreamHealth upstreamHealth() {
    return upstreams.members().get(0).health();
  }

  /** The upstreams, whose state the admin API reports. */
  public UpstreamPool upstreams() {
    return upstreams;
  }

  /** The alerts (tests read their counters; the admin API lists the recent ones). */
  public Alerts alerts() {
    return alerts;
  }

  /** The Vert.x instance, for listeners that share its event loops (the admin listener). */
  public Vertx vertx() {
    return vertx;
  }

  private static int freePort(String host) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName(host))) {
      return s.getLocalPort();
    }
  }

  /**
   * Polls the PEM files and swaps a changed, valid certificate into every listener instance. Open
   * connections keep theirs; a broken or mismatched replacement is logged and ignored, so a
   * half-written renewal never takes the listener down.
   */
  private void watchCertificates(GatehouseConfig config, TlsMaterial initial) {
    TlsMaterial[] current = {initial};
    vertx.setPeriodic(
        config.tls().reloadInterval().toMillis(),
        id ->
            vertx
                .executeBlocking(() -> TlsMaterial.load(config.tls()))
                .onFailure(e -> LOG.warning("certificate reload skipped: " + e.getMessage()))
                .onSuccess(
                    m -> {
                      if (!m.differsFrom(current[0])) {
                        return;
                      }
                      current[0] = m;
                      Future.all(instances.stream().map(v -> v.updateTls(m)).toList())
                          .onSuccess(
                              v ->
                                  LOG.info(
                                      "certificate reloaded: "
                                          + m.leaf().getSubjectX500Principal()
                                          + ", valid until "
                                          + m.leaf().getNotAfter().toInstant()))
                          .onFailure(
                              e -> LOG.warning("certificate reload failed: " + e.getMessage()));
                    }));
  }

  /** The public listener's port. */
  public int port() {
    return port;
  }

  /** Client connections open now on the public listener (those counted by connections.*). */
  public int openConnections() {
    return connections.open();
  }

  /** The audit writer (tests read its counters). */
  public AuditWriter audit() {
    return audit;
  }

  /** The redirect listener's port, or -1 when there is none. */
  public int redirectPort() {
    return redirectPort;
  }

  /**
   * Writes queued usage to the store. A failed write puts the rows back for the next attempt, so
   * usage is lost only if the process dies before a write succeeds (at most about one second).
   */
  void flushUsage() {
    List<UsageStore.UsageRow> rows = ledger.drain();
    try {
      usageStore.addUsage(rows);
    } catch (RuntimeException e) {
      ledger.requeue(rows);
      LOG.warning("usage write failed, will retry: " + e.getMessage());
    }
  }

  /**
   * Drains on SIGTERM ({@link Drain}): stops accepting, lets requests in flight run on for up to
   * {@code grace}, then ends the streams still running with an error in their dialect. Blocks until
   * done; {@link #close} then writes the audit records and flushes usage. Never on an event loop.
   *
   * @return true when every request finished by itself within the grace
   */
  public boolean drain(java.time.Duration grace) {
    return drain.run(instances, connections::open, grace);
  }

  /** True once {@link #drain} has begun. */
  public boolean draining() {
    return drain.begun();
  }

  @Override
  public void close() {
    upstreams.close(); // a check cut short by the shutdown must not raise upstream_down
    vertx.close().await();
    audit.close(); // after the listeners: nothing appends once they are closed
    flushUsage();
    bans.close(); // writes pending bans and request counts
    closeAll(watches);
  }

  /**
   * Re-reads keys and bans now if the store's versions moved, as the one-second timer does, and
   * returns when done: for changes that nobody announced.
   */
  public void checkStoresNow() {
    for (StoreWatch w : watches) {
      w.refreshNow();
    }
  }

  private static void closeAll(List<StoreWatch> watches) {
    watches.forEach(StoreWatch::close);
  }

  /** The bytes of request bodies held now ({@code limits.body_memory}); for tests. */
  long bodyMemoryHeld() {
    return instances.isEmpty() ? 0 : instances.get(0).bodyMemoryHeld();
  }
}

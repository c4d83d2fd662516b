package dev.gatehouse.upstream;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.UpstreamSettings;
import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.ModelName;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * One model server Gatehouse protects: its name and address, parsed once from its {@code upstreams}
 * entry (or the single {@code upstream}); its connections; its health, which is also what {@code
 * /readyz} answers; its passive ejection ({@link Outlier}); the models it lists ({@link
 * ModelCatalog}) and their digests. One per configured upstream, shared by every event loop.
 * Thread-safe.
 *
 * <p>Connections: the relay's requests ({@link #call}) go over one pool per event loop ({@link
 * LoopConnections}), of at most {@code limits.max_upstream_connections} (the setting is documented
 * per event loop), made on the loop's first request. A request then stays on the loop that serves
 * its client: one pool shared by all loops would hand one loop's connection to another loop's
 * request, and every chunk of a stream would cross threads. The gateway's own requests (the health
 * check, model lists, digests: {@link #request}) go over a Vert.x HTTP client of their own. Every
 * connection reads its responses through {@link UpstreamFraming}, the relay's and the health
 * check's and the digest fetch's alike.
 *
 * <p>{@link UpstreamPool} holds one or several and picks one per request.
 */
public final class Upstream implements AutoCloseable {

  /**
   * Where the upstream is, from its URL: {@code http} or {@code https}, the host as it goes in a
   * URL and in the {@code Host} header (an IPv6 literal keeps its brackets, which Vert.x connects
   * to as well), the port (80 or 443 when none is given), and the path every request target is put
   * under ({@code ""} when there is none; never ends in {@code /}).
   */
  public record Address(String scheme, String host, int port, boolean tls, String basePath) {

    /**
     * Parses an upstream URL. Refuses (IllegalArgumentException) anything but an http or https URL
     * with a host: user info (credentials do not belong in a URL that is logged), a query or a
     * fragment (a request target cannot be appended to either), a port out of range.
     */
    public static Address parse(URI uri) {
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      boolean ok =
          (scheme.equals("http") || scheme.equals("https"))
              && uri.getHost() != null
              && !uri.getHost().isEmpty()
              && uri.getRawUserInfo() == null
              && uri.getRawQuery() == null
              && uri.getRawFragment() == null
              && uri.getPort() <= 65535;
      if (!ok) {
        throw new IllegalArgumentException(
            "upstream: "
                + uri
                + " (expected: an http or https URL with a host, and no user info, query or fragment)");
      }
      boolean tls = scheme.equals("https");
      int port = uri.getPort() > 0 ? uri.getPort() : (tls ? 443 : 80);
      String path = uri.getRawPath() == null ? "" : uri.getRawPath();
      while (path.endsWith("/")) {
        path = path.substring(0, path.length() - 1);
      }
      return new Address(scheme, uri.getHost(), port, tls, path);
    }

    /**
     * The {@code Host} of a request to it: the host, and the port when it is not the scheme's
     * default.
     */
    public String authority() {
      return port == (tls ? 443 : 80) ? host : host + ":" + port;
    }

    /** The path and query to send for a request target ({@code /api/tags}): under the base path. */
    public String target(String requestTarget) {
      return basePath + requestTarget;
    }
  }

  private final Vertx vertx;
  private final UpstreamSettings.Entry entry;
  private final ModelGlobs models;
  private final URI uri;
  private final Address address;
  private final int maxConnections;
  private final long connectMillis;
  private final long healthMillis;
  private final String hostHeader;

  /** The relay's connections, one pool per event loop. */
  private final Map<EventLoop, LoopConnections> byLoop = new ConcurrentHashMap<>();

  /** TLS to the upstream (https): the JDK's trusted roots, and its name checked. */
  private final @Nullable SslContext tls;

  /** The gateway's own requests (health checks, model lists, digests), from any thread. */
  private final HttpClient control;

  private final UpstreamHealth health;
  private final ModelDigests digests;
  private final ModelCatalog catalog;
  private final Outlier outlier;

  /** Requests relayed to it now: from the pick until the response ends or fails. */
  private final AtomicInteger inFlight = new AtomicInteger();

  /** Requests ended, by {@link Outcome}. */
  private final Map<Outcome, LongAdder> outcomes = new java.util.EnumMap<>(Outcome.class);

  private volatile boolean closed;

  /**
   * Where a request made on no Vert.x thread at all (the first health check, from start-up; a test)
   * is sent from. Vert.x gives such a thread a context of its own that it holds only weakly: a
   * request made there hung about once in a hundred (UpstreamTest, 400 rounds), its response never
   * delivered and no timeout firing, which left the health check, and /readyz with it, waiting
   * forever. Held here, the context lives as long as the upstream.
   */
  private final Context home;

  /**
   * Builds the pools, one per event loop ({@code server.event_loops}) and one for callers off them.
   * Called off the event loops (the composition root is): Vert.x closes a client with the context
   * that built it, and a client built here lives as long as Vert.x does.
   *
   * @param onChange called with (up, detail) whenever a health check finds the upstream's state
   *     changed; must not block
   */
  public Upstream(Vertx vertx, GatehouseConfig config, BiConsumer<Boolean, String> onChange) {
    this(vertx, config, config.upstreams().entries().get(0), false, onChange);
  }

  /**
   * One upstream of {@code config.upstreams()}.
   *
   * @param ejecting whether consecutive failures take it out of rotation (only when there are
   *     others to send requests to)
   */
  public Upstream(
      Vertx vertx,
      GatehouseConfig config,
      UpstreamSettings.Entry entry,
      boolean ejecting,
      BiConsumer<Boolean, String> onChange) {
    if (Vertx.currentContext() != null) {
      throw new IllegalStateException("an Upstream is built off the event loops");
    }
    this.vertx = vertx;
    this.entry = entry;
    this.models = new ModelGlobs(entry.models());
    for (Outcome o : Outcome.values()) {
      outcomes.put(o, new LongAdder());
    }
    this.uri = entry.url();
    this.address = Address.parse(uri);
    this.hostHeader = address.authority();
    this.maxConnections = config.limits().maxUpstreamConnections();
    this.connectMillis = config.timeouts().upstreamConnect().toMillis();
    this.healthMillis = Math.max(100, config.admin().healthTimeout().toMillis());
    this.control = newClient();
    this.tls = address.tls() ? clientTls(null) : null;
    this.home = vertx.getOrCreateContext();
    this.health = new UpstreamHealth(vertx, uri.toString(), this::probe, onChange);
    this.digests = new ModelDigests(this, config.models().pinRefresh());
    this.catalog = new ModelCatalog(this, entry.kind());
    UpstreamSettings.Routing r = config.upstreams().routing();
    this.outlier =
        new Outlier(
            vertx,
            entry.name(),
            ejecting ? r.ejectAfter() : Integer.MAX_VALUE,
            r.ejectBase(),
            r.ejectMax(),
            health::check);
  }

  /** Its name: the {@code upstream} label of its metrics, unique among the upstreams. */
  public String name() {
    return entry.name();
  }

  /** Its entry as configured (weight, labels, model globs, kind). */
  public UpstreamSettings.Entry entry() {
    return entry;
  }

  /** Whether its model globs let {@code name} go there (no globs: every model). */
  public boolean allows(ModelName name) {
    return models.allowsAll() || models.allows(name);
  }

  /** The models it lists and the API it speaks, as last read. */
  public ModelCatalog catalog() {
    return catalog;
  }

  /** Its passive ejection state. */
  public Outlier outlier() {
    return outlier;
  }

  /** Whether it may be picked now: not found down by its health check, and not ejected. */
  public boolean admitted() {
    return health.state() != 0 && !outlier.ejected();
  }

  /** Requests relayed to it now. */
  public int inFlight() {
    return inFlight.get();
  }

  /** How one request on an upstream ended, for {@code gatehouse_upstream_requests{outcome}}. */
  public enum Outcome {
    /** Relayed to its end. */
    OK,
    /** Failed before the response started, and answered with an error. */
    FAILED,
    /** Failed before the response started, and retried on another upstream. */
    FAILED_OVER,
    /** The upstream died or went silent after the response started; the stream was cut. */
    BROKEN,
    /**
     * Ended by the gateway or the client (left, cut by a budget), saying nothing of the upstream.
     */
    CANCELLED;

    /** The label value. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A request starts on it: counted in flight until its {@link Attempt} ends. */
  public Attempt begin() {
    inFlight.incrementAndGet();
    return new Attempt();
  }

  /** One request on this upstream, ended once. Used on the request's event loop only. */
  public final class Attempt {
    private boolean over;

    private Attempt() {}

    /** The upstream this attempt went to. */
    public Upstream upstream() {
      return Upstream.this;
    }

    /** Its response head came: the upstream answers, and its failures in a row start over. */
    public void answered() {
      outlier.succeeded();
    }

    /**
     * Ends it. A failure ({@link Outcome#FAILED}, {@link Outcome#FAILED_OVER}, {@link
     * Outcome#BROKEN}) counts toward the upstream's ejection; a second end changes nothing.
     */
    public void end(Outcome outcome, String why) {
      if (over) {
        return;
      }
      over = true;
      inFlight.decrementAndGet();
      Objects.requireNonNull(outcomes.get(outcome), "one per outcome").increment();
      if (outcome == Outcome.FAILED
          || outcome == Outcome.FAILED_OVER
          || outcome == Outcome.BROKEN) {
        outlier.failed(why);
      }
    }
  }

  /** Requests on it that ended with {@code outcome}. */
  public long requests(Outcome outcome) {
    return Objects.requireNonNull(outcomes.get(outcome), "one per outcome").sum();
  }

  /** The URL as configured. */
  public URI uri() {
    return uri;
  }

  /** Where the upstream is, parsed from {@link #uri}. */
  public Address address() {
    return address;
  }

  @Override
  public String toString() {
    return uri.toString();
  }

  /**
   * Options for a request to {@code target} (a request target, {@code /api/chat?x=1}): the
   * upstream's host and port, the target under the base path, and {@code timeouts.upstream_connect}
   * to get a connection.
   */
  public RequestOptions options(HttpMethod method, String target) {
    return new RequestOptions()
        .setMethod(method)
        .setHost(address.host())
        .setPort(address.port())
        .setURI(address.target(target))
        .setConnectTimeout(connectMillis);
  }

  /**
   * Opens one of the gateway's own requests (not the relay's: {@link #call}). Fails, and opens
   * nothing, once closed.
   */
  public Future<HttpClientRequest> request(RequestOptions options) {
    if (closed) {
      return Future.failedFuture("upstream client closed");
    }
    if (Vertx.currentContext() == null) {
      Promise<HttpClientRequest> sent = Promise.promise();
      home.runOnContext(v -> request(options).onComplete(sent));
      return sent.future();
    }
    try {
      return control.request(options);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** The health check: its state feeds the metrics and the upstream_down and upstream_up alerts. */
  public UpstreamHealth health() {
    return health;
  }

  /**
   * Whether the upstream answers, for {@code /readyz}: the last health check's answer while it is
   * under a second old, else a new check (the same probe, which updates the health state).
   */
  public Future<Boolean> ready() {
    return health.ready();
  }

  /**
   * The digests of the models the upstream lists ({@code /api/tags}): canonical model name to bare
   * lowercase hex, at most {@code models.pin_refresh} old. Fails when they cannot be read.
   */
  public Future<Map<String, String>> modelDigests() {
    return digests.get();
  }

  /**
   * The digests of the last read that succeeded (none yet: empty), without reading: what the pick
   * compares a pin with, after the pin check read them.
   */
  public Map<String, String> cachedDigests() {
    return digests.cached();
  }

  /**
   * The one probe, for the health check and readiness alike, by the API it speaks: {@code GET
   * /api/version} for Ollama and {@code GET /v1/models} for an OpenAI-compatible server, which must
   * answer 2xx; while that is not known ({@code kind: auto} before its model list was read), {@code
   * GET /}, where any HTTP answer means up. Under the base path, within {@code health.timeout}.
   * Completes with a detail for the log. A check that passes may end an ejection whose time is up.
   */
  private Future<String> probe() {
    UpstreamSettings.Kind kind = catalog.kind();
    String target =
        switch (kind) {
          case OLLAMA -> "/api/version";
          case OPENAI -> "/v1/models";
          case AUTO -> "/";
        };
    return probe(target, kind != UpstreamSettings.Kind.AUTO)
        .onSuccess(detail -> outlier.checkPassed());
  }

  private Future<String> probe(String target, boolean needs2xx) {
    RequestOptions o =
        options(HttpMethod.GET, target)
            .setConnectTimeout(healthMillis)
            .setIdleTimeout(healthMillis);
    // A deadline of its own besides the client's timeouts: a check that never ends would hold
    // every later one (they join it) and /readyz with them, so whatever happens, it ends, as down.
    Promise<String> answer = Promise.promise();
    long within = 2 * healthMillis + 1_000;
    long deadline =
        vertx.setTimer(within, id -> answer.tryFail("no answer within " + within + " ms"));
    request(o)
        .compose(HttpClientRequest::send)
        .compose(
            resp ->
                resp.body()
                    .compose(
                        b ->
                            !needs2xx || resp.statusCode() / 100 == 2
                                ? Future.succeededFuture("HTTP " + resp.statusCode())
                                : Future.failedFuture(
                                    "GET " + target + " answered HTTP " + resp.statusCode())))
        .onComplete(
            ar -> {
              vertx.cancelTimer(deadline);
              if (ar.succeeded()) {
                answer.tryComplete(ar.result());
              } else {
                answer.tryFail(ar.cause());
              }
            });
    return answer.future();
  }

  /**
   * Starts a relayed request on this event loop's pool: {@code target} (a request target, {@code
   * /api/chat?x=1}) under the base path, with {@code headers} and the upstream's {@code Host}.
   * Completes with the call once it has a connection, within {@code timeouts.upstream_connect};
   * fails when it has none. Called on an event loop.
   */
  public Future<UpstreamCall> call(
      io.vertx.core.http.HttpMethod method, String target, HttpHeaders headers) {
    ContextInternal ctx = (ContextInternal) Vertx.currentContext();
    if (closed || ctx == null || !ctx.isEventLoopContext()) {
      return Future.failedFuture(closed ? "upstream client closed" : "not on an event loop");
    }
    EventLoop loop = ctx.nettyEventLoop();
    LoopConnections pool = byLoop.get(loop);
    if (pool == null) {
      pool =
          new LoopConnections(
              (VertxInternal) vertx, loop, address, tls, maxConnections, connectMillis);
      byLoop.put(loop, pool);
    }
    headers.set(HttpHeaderNames.HOST, hostHeader);
    UpstreamCall call = pool.call(ctx, method.toNetty(), address.target(target), headers);
    return call.connectedFuture();
  }

  /**
   * TLS to an https upstream: the chain checked against the JVM's trusted roots ({@code trusted}
   * instead, when given: a test's own CA), and the URL's host against the certificate.
   */
  static SslContext clientTls(java.security.cert.@Nullable X509Certificate trusted) {
    try {
      SslContextBuilder b =
          SslContextBuilder.forClient()
              .sslProvider(SslProvider.JDK)
              .endpointIdentificationAlgorithm("HTTPS");
      if (trusted != null) {
        b.trustManager(trusted);
      }
      return b.build();
    } catch (javax.net.ssl.SSLException e) {
      throw new IllegalStateException("upstream TLS: " + e.getMessage(), e);
    }
  }

  private HttpClient newClient() {
    HttpClientOptions options =
        new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_1_1)
            .setSsl(address.tls())
            .setKeepAlive(true)
            .setKeepAliveTimeout(60)
            .setTcpNoDelay(true)
            .setDecompressionSupported(false)
            .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, connectMillis));
    // Every upstream connection reads its responses through the strict framing check.
    return vertx
        .httpClientBuilder()
        .with(options)
        .with(new PoolOptions().setHttp1MaxSize(maxConnections))
        .withConnectHandler(UpstreamFraming::install)
        .build();
  }

  /** Stops the health check and closes every pool; requests after this fail. */
  @Override
  public void close() {
    closed = true;
    health.close();
    outlier.close();
    control.close();
    for (LoopConnections p : byLoop.values()) {
      try {
        p.loop().execute(p::close);
      } catch (java.util.concurrent.RejectedExecutionException stopped) {
        // its event loop has stopped, and closed every channel on it
      }
    }
  }
}

package dev.gatehouse.authorize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.ModelName;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.pins.ModelPins;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Enforces a model lock file: inference or embedding on a pinned model is allowed only while the
 * upstream lists that model with the pinned manifest digest (Ollama's {@code /api/tags}). A
 * re-pulled, replaced or poisoned model has another digest and is refused, and the drift is
 * logged as {@code models.digest_drift}. When the digests cannot be read the request is refused
 * (fail closed). Models not in the lock file are not affected.
 *
 * <p>The digest list is cached for {@code models.pin_refresh}; one fetch at a time refreshes it.
 * Thread-safe.
 */
public final class PinnedModels {

  private static final Logger LOG = Logger.getLogger("gatehouse.models");
  private static final ObjectMapper JSON = new ObjectMapper();

  private record Snapshot(long fetchedAtNanos, Map<String, String> digestByCanonical) {}

  private final ModelPins pins;
  private final HttpClient client;
  private final String host;
  private final int port;
  private final long maxAgeNanos;
  private final Set<String> driftLogged = ConcurrentHashMap.newKeySet();
  private volatile Snapshot snapshot;
  private Future<Snapshot> inFlight; // guarded by this

  public PinnedModels(Vertx vertx, ModelPins pins, URI upstream, Duration maxAge) {
    this.pins = pins;
    boolean tls = "https".equals(upstream.getScheme());
    this.host = upstream.getHost();
    this.port = upstream.getPort() > 0 ? upstream.getPort() : (tls ? 443 : 80);
    this.maxAgeNanos = maxAge.toNanos();
    this.client = vertx.createHttpClient(new HttpClientOptions().setSsl(tls).setConnectTimeout(5000));
  }

  /** Completes with null when the request's model may be used, else with the refusal. */
  public Future<Rejection> check(Exchange x) {
    Operation op = x.route().operation();
    ModelName name = x.modelName(); // parsed by the authorize stage, the one model-name parser
    if (name == null || (op != Operation.INFERENCE && op != Operation.EMBEDDINGS)) {
      return Future.succeededFuture(null);
    }
    String pinned = pins.digestFor(name);
    if (pinned == null) {
      return Future.succeededFuture(null);
    }
    String shown = x.model() != null ? x.model() : name.recorded();
    return digests()
        .map(snap -> verdict(shown, name, bare(pinned), snap))
        .otherwise(err -> Rejection.logged(Problem.PIN_CHECK_UNAVAILABLE, "cannot read upstream digests: " + err.getMessage()));
  }

  private Rejection verdict(String model, ModelName name, String pinned, Snapshot snap) {
    String actual = snap.digestByCanonical().get(name.canonical());
    if (actual == null) {
      return Rejection.of(Problem.MODEL_PIN_UNVERIFIED, "model " + model + " is pinned but the model server does not list it");
    }
    if (!actual.equals(pinned)) {
      if (driftLogged.add(model + "@" + actual)) {
        LOG.warning("event=models.digest_drift model=" + model + " pinned=sha256:" + pinned + " upstream=sha256:" + actual);
      }
      return Rejection.of(Problem.MODEL_PIN_MISMATCH, "model " + model + " does not have its pinned digest; refusing to run it");
    }
    return null;
  }

  private static String bare(String digest) {
    String d = digest.toLowerCase(Locale.ROOT);
    return d.startsWith("sha256:") ? d.substring(7) : d;
  }

  private Future<Snapshot> digests() {
    Snapshot s = snapshot;
    if (s != null && System.nanoTime() - s.fetchedAtNanos() < maxAgeNanos) {
      return Future.succeededFuture(s);
    }
    synchronized (this) {
      if (inFlight == null) {
        Promise<Snapshot> p = Promise.promise();
        inFlight = p.future();
        fetch().onComplete(ar -> {
          synchronized (this) {
            inFlight = null;
          }
          if (ar.succeeded()) {
            snapshot = ar.result();
            p.complete(ar.result());
          } else {
            p.fail(ar.cause());
          }
        });
      }
      return inFlight;
    }
  }

  private Future<Snapshot> fetch() {
    long started = System.nanoTime();
    RequestOptions opts = new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(port)
        .setURI("/api/tags").setIdleTimeout(10_000);
    return client.request(opts)
        .compose(req -> req.send())
        .compose(resp -> resp.statusCode() == 200
            ? resp.body()
            : Future.failedFuture("upstream /api/tags answered " + resp.statusCode()))
        .map(body -> {
          try {
            JsonNode models = JSON.readTree(body.getBytes()).path("models");
            Map<String, String> out = new HashMap<>();
            for (JsonNode m : models) {
              String name = m.path("name").asText(m.path("model").asText(""));
              ModelName n = ModelName.parse(name);
              if (n != null && m.path("digest").isTextual()) {
                out.put(n.canonical(), bare(m.path("digest").asText()));
              }
            }
            return new Snapshot(started, Map.copyOf(out));
          } catch (java.io.IOException e) {
            throw new IllegalStateException("upstream /api/tags is not JSON", e);
          }
        });
  }
}

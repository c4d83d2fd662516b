package dev.gatehouse.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.exchange.ModelName;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The manifest digests of the models an upstream lists (Ollama's {@code /api/tags}), by canonical
 * model name, as bare lowercase hex. Cached for {@code models.pin_refresh}; one fetch at a time
 * refreshes it, and a failed fetch fails its callers (the pin check then refuses). Fetched only
 * when asked for, so a gateway without pins never sends {@code /api/tags}. Thread-safe.
 */
public final class ModelDigests {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Time the upstream has to send the next bytes of its model list. */
  private static final long IDLE_MILLIS = 10_000;

  private record Snapshot(long fetchedAtNanos, Map<String, String> byCanonical) {}

  private final Upstream upstream;
  private final long maxAgeNanos;
  private final OneAtATime<Snapshot> fetches;
  private volatile @Nullable Snapshot snapshot;

  ModelDigests(Upstream upstream, Duration maxAge) {
    this.upstream = upstream;
    this.maxAgeNanos = maxAge.toNanos();
    this.fetches = new OneAtATime<>(this::fetch);
  }

  /** A digest as the comparison wants it: lowercase hex, without {@code sha256:}. */
  public static String bare(String digest) {
    String d = digest.toLowerCase(Locale.ROOT);
    return d.startsWith("sha256:") ? d.substring(7) : d;
  }

  /** Canonical model name to bare digest, at most {@code models.pin_refresh} old. */
  Future<Map<String, String>> get() {
    Snapshot s = snapshot;
    if (s != null && System.nanoTime() - s.fetchedAtNanos() < maxAgeNanos) {
      return Future.succeededFuture(s.byCanonical());
    }
    return fetches.get().map(Snapshot::byCanonical);
  }

  /** The last digests read, whatever their age; empty before the first read. */
  Map<String, String> cached() {
    Snapshot s = snapshot;
    return s == null ? Map.of() : s.byCanonical();
  }

  private Future<Snapshot> fetch() {
    long started = System.nanoTime();
    return upstream
        .request(upstream.options(HttpMethod.GET, "/api/tags").setIdleTimeout(IDLE_MILLIS))
        .compose(HttpClientRequest::send)
        .compose(
            resp ->
                resp.statusCode() == 200
                    ? resp.body()
                    : Future.failedFuture("upstream /api/tags answered " + resp.statusCode()))
        .map(
            body -> {
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
                Snapshot s = new Snapshot(started, Map.copyOf(out));
                snapshot = s;
                return s;
              } catch (java.io.IOException e) {
                throw new IllegalStateException("upstream /api/tags is not JSON", e);
              }
            });
  }
}

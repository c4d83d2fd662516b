package dev.gatehouse.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.config.UpstreamSettings;
import dev.gatehouse.exchange.ModelName;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import java.io.IOException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The models one upstream lists, and the API it speaks, read from its model listing: Ollama's
 * {@code /api/tags} first (unless it is {@code kind: openai}), then OpenAI's {@code /v1/models}
 * (unless it is {@code kind: ollama}). Which listing answered tells a {@code kind: auto} upstream's
 * API. Read only when there are several upstreams (with one there is nothing to route), every
 * {@code routing.models_refresh}. A read that fails keeps the last list. Thread-safe.
 */
public final class ModelCatalog {

  private static final Logger LOG = Logger.getLogger("gatehouse.upstream");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Time the upstream has to send the next bytes of its model list. */
  private static final long IDLE_MILLIS = 10_000;

  /** Whether the upstream has a model: known to, known not to, or not known (never read). */
  public enum Has {
    YES,
    NO,
    UNKNOWN
  }

  private final Upstream upstream;
  private final UpstreamSettings.Kind configured;
  private final OneAtATime<Set<String>> reads;
  private volatile UpstreamSettings.Kind kind;

  /** Canonical model names, and the names as listed in lower case; null until a read succeeds. */
  private volatile @Nullable Set<String> names;

  ModelCatalog(Upstream upstream, UpstreamSettings.Kind configured) {
    this.upstream = upstream;
    this.configured = configured;
    this.kind = configured;
    this.reads = new OneAtATime<>(this::read);
  }

  /** The API it speaks: as configured, or as learned; {@code AUTO} while not known. */
  public UpstreamSettings.Kind kind() {
    return kind;
  }

  /** Whether it has the model: by its canonical name, or by the name as the request wrote it. */
  public Has has(@Nullable ModelName name, @Nullable String asWritten) {
    Set<String> n = names;
    if (n == null) {
      return Has.UNKNOWN;
    }
    boolean yes =
        (name != null && n.contains(name.canonical()))
            || (asWritten != null && n.contains(asWritten.toLowerCase(Locale.ROOT)));
    return yes ? Has.YES : Has.NO;
  }

  /** How many models it lists; -1 before a read succeeded. */
  public int size() {
    Set<String> n = names;
    return n == null ? -1 : n.size();
  }

  /** Reads the listing again (or joins the read running). */
  public Future<Set<String>> refresh() {
    return reads.get();
  }

  private Future<Set<String>> read() {
    if (configured == UpstreamSettings.Kind.OPENAI) {
      return list("/v1/models", UpstreamSettings.Kind.OPENAI);
    }
    Future<Set<String>> tags = list("/api/tags", UpstreamSettings.Kind.OLLAMA);
    return configured == UpstreamSettings.Kind.OLLAMA
        ? tags
        : tags.recover(e -> list("/v1/models", UpstreamSettings.Kind.OPENAI));
  }

  private Future<Set<String>> list(String target, UpstreamSettings.Kind as) {
    return upstream
        .request(upstream.options(HttpMethod.GET, target).setIdleTimeout(IDLE_MILLIS))
        .compose(HttpClientRequest::send)
        .compose(
            resp ->
                resp.statusCode() == 200
                    ? resp.body()
                    : Future.failedFuture("upstream " + target + " answered " + resp.statusCode()))
        .map(body -> parse(body, as))
        .onSuccess(
            set -> {
              if (kind != as) {
                LOG.info("event=upstream.kind upstream=" + upstream.name() + " kind=" + as);
              }
              kind = as;
              names = set;
            });
  }

  private static Set<String> parse(Buffer body, UpstreamSettings.Kind as) {
    JsonNode root;
    try {
      root = JSON.readTree(body.getBytes());
    } catch (IOException e) {
      throw new IllegalStateException("the model list is not JSON", e);
    }
    JsonNode list =
        root == null ? null : root.get(as == UpstreamSettings.Kind.OPENAI ? "data" : "models");
    if (list == null || !list.isArray()) {
      throw new IllegalStateException("the model list is not the expected JSON");
    }
    Set<String> out = new HashSet<>();
    for (JsonNode m : list) {
      for (String field : new String[] {"id", "name", "model"}) {
        JsonNode f = m.get(field);
        if (f != null && f.isTextual()) {
          out.add(f.asText().toLowerCase(Locale.ROOT));
          ModelName n = ModelName.parse(f.asText());
          if (n != null) {
            out.add(n.canonical());
          }
        }
      }
    }
    return Set.copyOf(out);
  }
}

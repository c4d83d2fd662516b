package dev.gatehouse.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.exchange.Route;
import dev.gatehouse.upstream.Upstream;
import dev.gatehouse.upstream.Upstreams;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Model listings with several upstreams ({@code /api/tags}, {@code /api/ps}, {@code /v1/models}):
 * the same request is sent to every upstream that is in rotation and speaks the listing's API, and
 * the answers are merged into one, in the order the upstreams are configured, each model once (by
 * {@code name} and {@code model}, or {@code id}; the first upstream's entry wins). Then, as with
 * one upstream, the list is trimmed to the models the key may use ({@link ModelListFilter}). An
 * upstream that fails or answers other than 200 adds nothing; when none answers, 502. One per
 * relay.
 */
final class ModelListMerge {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Largest model list read from one upstream. */
  private static final int MAX_BODY = 8 << 20;

  private final Upstreams upstreams;
  private final long timeoutMillis;

  ModelListMerge(Upstreams upstreams, long timeoutMillis) {
    this.upstreams = upstreams;
    this.timeoutMillis = timeoutMillis;
  }

  void forward(Exchange x, Consumer<Rejection> reject) {
    Route.Response kind = Objects.requireNonNull(x.route(), "authorize.route ran").response();
    List<Upstream> asked = new ArrayList<>();
    for (Upstream u : upstreams.candidates(x)) {
      if (u.admitted()) {
        asked.add(u);
      }
    }
    if (asked.isEmpty()) {
      asked.addAll(upstreams.candidates(x)); // none in rotation: ask them all anyway
    }
    x.upstreamStarted(System.nanoTime());
    List<Future<byte[]>> answers = new ArrayList<>();
    for (Upstream u : asked) {
      answers.add(read(x, u));
    }
    Future.join(answers)
        .onComplete(
            ar -> {
              HttpServerResponse resp = x.response();
              if (resp.closed() || resp.ended()) {
                return;
              }
              x.upstreamAnswered(System.nanoTime() - x.startNanos());
              byte[] merged = merge(kind, answers);
              if (merged == null) {
                reject.accept(
                    Rejection.logged(
                        Problem.UPSTREAM_UNAVAILABLE, "no upstream answered the model list"));
                return;
              }
              ModelGlobs globs = Objects.requireNonNull(x.principal(), "identify.key ran").models();
              byte[] out = globs.allowsAll() ? merged : ModelListFilter.filter(kind, merged, globs);
              if (out == null) {
                reject.accept(
                    Rejection.logged(
                        Problem.UPSTREAM_FAILED, "upstream model list is not the expected JSON"));
                return;
              }
              resp.setStatusCode(200).putHeader("Content-Type", "application/json; charset=utf-8");
              x.addBytesOut(out.length);
              x.end(() -> resp.end(Buffer.buffer(out)));
            });
  }

  /** One upstream's listing: its 200 body, or a failure. */
  private Future<byte[]> read(Exchange x, Upstream u) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    HeaderPolicy.copyToUpstream(x.request().headers(), headers);
    headers.set("X-Request-Id", x.requestId());
    Promise<byte[]> out = Promise.promise();
    u.request(
            u.options(HttpMethod.GET, Objects.requireNonNull(x.target(), "listen.shape ran").raw())
                .setHeaders(headers)
                .setIdleTimeout(timeoutMillis))
        .compose(HttpClientRequest::send)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                out.fail(ar.cause());
                return;
              }
              var resp = ar.result();
              if (resp.statusCode() != 200) {
                resp.request().reset();
                out.fail("HTTP " + resp.statusCode());
                return;
              }
              Buffer collected = Buffer.buffer();
              resp.handler(
                  b -> {
                    if (collected.length() + b.length() > MAX_BODY) {
                      resp.request().reset();
                      out.tryFail("model list too large");
                    } else {
                      collected.appendBuffer(b);
                    }
                  });
              resp.exceptionHandler(out::tryFail);
              resp.endHandler(v -> out.tryComplete(collected.getBytes()));
            });
    return out.future();
  }

  /** The listings that answered, merged; null when none did or none is the expected JSON. */
  static byte @Nullable [] merge(Route.Response kind, List<Future<byte[]>> answers) {
    String field = kind == Route.Response.FILTER_OPENAI_MODELS ? "data" : "models";
    ObjectNode root = null;
    ArrayNode items = null;
    Set<String> seen = new HashSet<>();
    for (Future<byte[]> f : answers) {
      if (!f.succeeded()) {
        continue;
      }
      JsonNode one;
      try {
        one = JSON.readTree(f.result());
      } catch (IOException e) {
        continue;
      }
      if (one == null || !one.isObject()) {
        continue;
      }
      JsonNode list = one.get(field);
      if (list != null && !list.isNull() && !list.isArray()) {
        continue;
      }
      if (root == null) {
        root = (ObjectNode) one;
        items = JSON.createArrayNode();
        root.set(field, items);
      }
      if (list == null || list.isNull()) {
        continue;
      }
      for (JsonNode item : list) {
        String id = identity(item);
        if (id != null && seen.add(id)) {
          Objects.requireNonNull(items, "set with root").add(item);
        }
      }
    }
    if (root == null) {
      return null;
    }
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      return null;
    }
  }

  /** What makes two entries one model: {@code id}, or {@code name} and {@code model}. */
  private static @Nullable String identity(JsonNode item) {
    if (!item.isObject()) {
      return null;
    }
    StringBuilder b = new StringBuilder();
    for (String f : new String[] {"id", "name", "model"}) {
      JsonNode v = item.get(f);
      if (v != null && v.isTextual()) {
        b.append(f).append('=').append(v.asText()).append('\u0000');
      }
    }
    return b.length() == 0 ? null : b.toString();
  }
}

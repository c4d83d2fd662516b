package dev.gatehouse.admin.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminContext;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.Role;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.Values;
import dev.gatehouse.keys.KeyJson;
import dev.gatehouse.keys.KeyService;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.store.KeyRecord;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * {@code /api/v1/keys}: list, create, revoke and rotate client API keys through the same {@link
 * KeyService} as {@code gatehouse keys}. A change lands in the key store, which the running gateway
 * reloads at once, so the next request sees it. A secret is in the answer that creates it and
 * nowhere else.
 */
final class KeysApi {

  private final AdminContext ctx;

  KeysApi(AdminContext ctx) {
    this.ctx = ctx;
  }

  void register(AdminRoutes routes) {
    routes.add(HttpMethod.GET, "/api/v1/keys", Role.VIEWER, "List API keys", this::list);
    routes.add(HttpMethod.POST, "/api/v1/keys", Role.OPERATOR, "Create an API key", this::create);
    routes.add(
        HttpMethod.POST,
        "/api/v1/keys/{id}/revoke",
        Role.OPERATOR,
        "Revoke an API key at once",
        this::revoke);
    routes.add(
        HttpMethod.POST,
        "/api/v1/keys/{id}/rotate",
        Role.OPERATOR,
        "Replace an API key with a new one",
        this::rotate);
  }

  private void list(RoutingContext rc) {
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> ctx.keys().list(),
        all -> {
          Instant now = Instant.now();
          ArrayNode a = Api.JSON.createArrayNode();
          all.forEach(k -> a.add(KeyJson.of(k, now)));
          Api.ok(rc, Api.wrap("keys", a));
        });
  }

  private void create(RoutingContext rc) {
    ObjectNode body;
    Duration expires;
    String name;
    KeyLimits limits;
    try {
      body = Api.body(rc);
      name = Api.required(body, "name");
      expires = duration("expires_in", Api.text(body, "expires_in"), false);
      limits = limits(body);
    } catch (IllegalArgumentException e) {
      Api.invalid(rc, e.getMessage());
      return;
    }
    Api.blocking(
        ctx.vertx(),
        rc,
        () ->
            ctx.keys()
                .create(
                    name,
                    expires,
                    Api.strings(body, "models"),
                    Api.strings(body, "scopes"),
                    limits,
                    Api.strings(body, "networks"),
                    Api.text(body, "guard")),
        c -> Api.json(rc, 201, created(c)));
  }

  private void revoke(RoutingContext rc) {
    String id = rc.pathParam("id");
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> {
          if (!ctx.keys().revoke(id)) {
            throw new Api.NotFound("key " + id + ": no such active key");
          }
          return ctx.keys().find(id).orElseThrow();
        },
        k -> Api.ok(rc, Api.wrap("key", KeyJson.of(k, Instant.now()))));
  }

  private void rotate(RoutingContext rc) {
    String id = rc.pathParam("id");
    Duration grace;
    try {
      grace = duration("grace", Api.text(Api.body(rc), "grace"), true);
    } catch (IllegalArgumentException e) {
      Api.invalid(rc, e.getMessage());
      return;
    }
    Api.blocking(
        ctx.vertx(),
        rc,
        () -> {
          if (ctx.keys().find(id).isEmpty()) {
            throw new Api.NotFound("key " + id + ": no such key");
          }
          KeyService.Created c = ctx.keys().rotate(id, grace);
          return new Rotated(c, ctx.keys().find(id).orElseThrow());
        },
        r -> {
          ObjectNode o = created(r.created());
          o.put("replaced", id);
          // the old key as it stands now, so a caller sees when it stops working
          o.set("replaced_key", KeyJson.of(r.old(), Instant.now()));
          Api.json(rc, 201, o);
        });
  }

  /** A rotation's outcome: the new key (with its secret) and the old one, now ending. */
  private record Rotated(KeyService.Created created, KeyRecord old) {}

  /**
   * The optional {@code limits} object ({@code rpm}, {@code burst}, {@code tokens_per_minute},
   * {@code tokens_per_day}, {@code concurrency}, {@code max_output_tokens}); {@link KeyService}
   * checks the values.
   *
   * @throws IllegalArgumentException when it is not such an object
   */
  private static KeyLimits limits(ObjectNode body) {
    JsonNode n = body.get("limits");
    if (n == null || n.isNull()) {
      return KeyLimits.NONE;
    }
    if (!n.isObject()) {
      throw new IllegalArgumentException("limits: " + n + " (expected: a JSON object)");
    }
    for (JsonNode v : n) {
      if (!v.isNull() && !v.isIntegralNumber()) {
        throw new IllegalArgumentException("limits: " + n + " (expected: whole numbers)");
      }
    }
    try {
      return Api.JSON.treeToValue(n, KeyLimits.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "limits: "
              + n
              + " (expected: any of rpm, burst, tokens_per_minute, tokens_per_day, concurrency,"
              + " max_output_tokens)");
    }
  }

  /** The answer to a create or a rotation: the record, the secret (this once) and a ready curl. */
  private ObjectNode created(KeyService.Created c) {
    KeyRecord r = c.record();
    ObjectNode o = Api.JSON.createObjectNode();
    o.set("key", KeyJson.of(r, Instant.now()));
    o.put("secret", c.key());
    o.put("curl", "curl -H 'Authorization: Bearer " + c.key() + "' " + publicBase() + "/api/tags");
    return o;
  }

  /** The public listener's URL as a client on this machine reaches it. */
  private String publicBase() {
    GatehouseConfig config = ctx.config().get();
    String h = config.listen().host();
    if (h.equals("0.0.0.0") || h.equals("::")) {
      h = "127.0.0.1";
    } else if (h.contains(":")) {
      h = "[" + h + "]";
    }
    return (config.tlsEnabled() ? "https" : "http") + "://" + h + ":" + ctx.gateway().port();
  }

  private static @Nullable Duration duration(String field, @Nullable String text, boolean zero) {
    if (text == null) {
      return zero ? Duration.ZERO : null;
    }
    Duration d = zero ? Values.duration(text) : Values.positiveDuration(text);
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException(
          field
              + ": "
              + text
              + " (expected: a duration"
              + (zero ? "" : " above zero")
              + " such as 1h or 30d)");
    }
    return d;
  }
}

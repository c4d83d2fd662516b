package dev.gatehouse.admin.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.ProblemJson;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * What every admin API handler shares: running store work off the event loop, answering JSON, and
 * turning failures into problems. One place, so that no handler maps an error on its own: bad input
 * is 400 {@code admin.invalid_request}, a missing thing 404 {@code admin.not_found}, and any other
 * failure of the work (the store stopped answering) 503 {@code admin.store_unavailable}, so an
 * error never reads as success (fail closed).
 */
final class Api {

  static final ObjectMapper JSON = new ObjectMapper();

  private static final Logger LOG = Logger.getLogger("gatehouse.admin");

  private Api() {}

  /** Thrown by work for something that does not exist: answered 404 {@code admin.not_found}. */
  static final class NotFound extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotFound(String message) {
      super(message, null, false, false);
    }
  }

  /** Thrown by work that conflicts with the state: answered 409 with its own code. */
  static final class Conflict extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String code;

    Conflict(String code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  /**
   * Runs {@code work} on a worker thread (the stores block, and refuse an event-loop caller), then
   * hands its result to {@code answer} on the request's context; a failure is answered as a
   * problem.
   */
  static <T> void blocking(
      Vertx vertx, RoutingContext rc, Callable<T> work, Consumer<? super T> answer) {
    vertx
        .<T>executeBlocking(work, false)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                try {
                  answer.accept(ar.result());
                } catch (RuntimeException e) {
                  fail(rc, e);
                }
              } else {
                fail(rc, ar.cause());
              }
            });
  }

  /** Answers a failure as its problem (see the class comment). */
  static void fail(RoutingContext rc, Throwable e) {
    if (e instanceof IllegalArgumentException) {
      invalid(rc, e.getMessage());
    } else if (e instanceof NotFound) {
      ProblemJson.send(rc, 404, "admin.not_found", String.valueOf(e.getMessage()));
    } else if (e instanceof Conflict c) {
      ProblemJson.send(rc, 409, c.code, String.valueOf(e.getMessage()));
    } else {
      LOG.warning(
          "admin: "
              + rc.request().method()
              + " "
              + rc.request().path()
              + " failed: "
              + e
              + " request_id="
              + rc.get(ProblemJson.REQUEST_ID));
      ProblemJson.send(
          rc,
          503,
          "admin.store_unavailable",
          "the store did not answer; nothing was changed that this answer does not report");
    }
  }

  /** 400 {@code admin.invalid_request} with {@code detail}. */
  static void invalid(RoutingContext rc, @Nullable String detail) {
    ProblemJson.send(rc, 400, "admin.invalid_request", detail == null ? "invalid request" : detail);
  }

  /** Answers {@code body} as JSON with {@code status}; never cached. */
  static void json(RoutingContext rc, int status, JsonNode body) {
    if (rc.response().ended()) {
      return;
    }
    String text;
    try {
      text = JSON.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      fail(rc, e);
      return;
    }
    rc.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .end(text);
  }

  /** 200 with {@code body}. */
  static void ok(RoutingContext rc, JsonNode body) {
    json(rc, 200, body);
  }

  /** A new object with one field. */
  static ObjectNode wrap(String field, JsonNode value) {
    ObjectNode o = JSON.createObjectNode();
    o.set(field, value);
    return o;
  }

  /**
   * The request's JSON object body ({@code {}} when there is none).
   *
   * @throws IllegalArgumentException when it is not one JSON object
   */
  static ObjectNode body(RoutingContext rc) {
    var b = rc.body();
    if (b == null || b.isEmpty()) {
      return JSON.createObjectNode();
    }
    JsonNode n;
    try {
      n = JSON.readTree(b.asString());
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "body: not JSON (expected: one JSON object, such as {\"name\":\"ci\"})");
    }
    if (!(n instanceof ObjectNode o)) {
      throw new IllegalArgumentException("body: " + n.getNodeType() + " (expected: a JSON object)");
    }
    return o;
  }

  /**
   * An optional string member.
   *
   * @throws IllegalArgumentException when it is present but not a string
   */
  static @Nullable String text(ObjectNode body, String field) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      throw new IllegalArgumentException(field + ": " + n + " (expected: a string)");
    }
    return n.asText();
  }

  /** A required string member. */
  static String required(ObjectNode body, String field) {
    String s = text(body, field);
    if (s == null) {
      throw new IllegalArgumentException(field + ": missing (expected: a string)");
    }
    return s;
  }

  /**
   * An optional list of strings (a single string counts as a list of one).
   *
   * @throws IllegalArgumentException when it is present but not strings
   */
  static java.util.@Nullable List<String> strings(ObjectNode body, String field) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (n.isTextual()) {
      return java.util.List.of(n.asText());
    }
    java.util.List<String> out = new java.util.ArrayList<>();
    if (n.isArray()) {
      for (JsonNode e : n) {
        if (!e.isTextual()) {
          break;
        }
        out.add(e.asText());
      }
      if (out.size() == n.size()) {
        return out;
      }
    }
    throw new IllegalArgumentException(field + ": " + n + " (expected: a list of strings)");
  }

  /** A query parameter, or null when absent or empty. */
  static @Nullable String param(RoutingContext rc, String name) {
    String v = rc.queryParams().get(name);
    return v == null || v.isEmpty() ? null : v;
  }
}

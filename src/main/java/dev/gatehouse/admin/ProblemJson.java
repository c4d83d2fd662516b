package dev.gatehouse.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Errors of the admin API as RFC 9457 problem details ({@code application/problem+json}). Each
 * carries a stable {@code code} (the same kind of code the public listener uses, for example {@code
 * admin.credential_missing}) and the request's id, which is also in the {@code X-Request-Id} header
 * and the log.
 */
public final class ProblemJson {

  public static final String CONTENT_TYPE = "application/problem+json";

  /** The routing-context key under which the admin listener keeps each request's id. */
  public static final String REQUEST_ID = "gatehouse.request_id";

  private static final ObjectMapper JSON = new ObjectMapper();

  private ProblemJson() {}

  /** The problem document, without sending it. */
  public static ObjectNode body(
      int status, String code, String detail, @Nullable String instance, @Nullable String id) {
    ObjectNode o = JSON.createObjectNode();
    o.put("type", "urn:gatehouse:problem:" + code);
    o.put("title", HttpResponseStatus.valueOf(status).reasonPhrase());
    o.put("status", status);
    o.put("detail", detail);
    if (instance != null) {
      o.put("instance", instance);
    }
    o.put("code", code);
    if (id != null) {
      o.put("request_id", id);
    }
    return o;
  }

  /** Ends the response with a problem. */
  public static void send(RoutingContext rc, int status, String code, String detail) {
    send(rc, status, code, detail, List.of());
  }

  /** Ends the response with a problem that lists {@code errors} (validation problems). */
  public static void send(
      RoutingContext rc, int status, String code, String detail, List<String> errors) {
    if (rc.response().ended()) {
      return;
    }
    ObjectNode o = body(status, code, detail, rc.request().path(), rc.get(REQUEST_ID));
    if (!errors.isEmpty()) {
      var list = o.putArray("errors");
      errors.forEach(list::add);
    }
    rc.response()
        .setStatusCode(status)
        .putHeader("Content-Type", CONTENT_TYPE)
        .putHeader("Cache-Control", "no-store")
        .end(o.toString());
  }
}

package dev.gatehouse.admin.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.ProblemJson;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;

/**
 * The dashboard's login and logout: {@code POST /api/v1/session} trades a token for a session
 * cookie, {@code DELETE /api/v1/session} ends it. The only admin API routes without a credential.
 */
public final class SessionRoutes {

  public static final String PATH = "/api/v1/session";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final AdminAuth auth;
  private final AdminSessions sessions;

  private SessionRoutes(AdminAuth auth, AdminSessions sessions) {
    this.auth = auth;
    this.sessions = sessions;
  }

  /** Registers both routes. */
  public static void register(AdminRoutes routes, AdminAuth auth, AdminCredentials credentials) {
    SessionRoutes s = new SessionRoutes(auth, credentials.sessions());
    routes.addWithoutCredential(
        HttpMethod.POST, PATH, "Log in: trade an admin token for a session cookie", s::login);
    routes.addWithoutCredential(HttpMethod.DELETE, PATH, "Log out: end the session", s::logout);
  }

  private void login(RoutingContext rc) {
    String token;
    try {
      JsonNode body = JSON.readTree(rc.body().asString());
      JsonNode t = body == null ? null : body.get("token");
      if (t == null || !t.isTextual()) {
        throw new IllegalArgumentException("no token");
      }
      token = t.asText();
    } catch (Exception e) {
      ProblemJson.send(
          rc, 400, "admin.invalid_request", "expected a JSON body {\"token\": \"gha_...\"}");
      return;
    }
    // The same check, rate limit and 401 as a bearer token: the form is one more way to present it.
    auth.verifyToken(rc, token)
        .onSuccess(
            p -> {
              String value = sessions.open(p.id());
              rc.response().putHeader("Set-Cookie", cookie(rc, value, false));
              ObjectNode o = JSON.createObjectNode();
              o.put("id", p.id());
              o.put("name", p.name());
              o.put("role", p.role().label());
              rc.response()
                  .putHeader("Content-Type", "application/json")
                  .putHeader("Cache-Control", "no-store")
                  .end(o.toString());
            });
  }

  private void logout(RoutingContext rc) {
    Cookie c = rc.request().getCookie(AdminAuth.COOKIE);
    if (c != null) {
      // CSRF, as for every change made with the cookie: another site cannot log the user out.
      if (rc.request().getHeader("Origin") == null) {
        ProblemJson.send(
            rc, 403, "admin.origin_denied", "a change made with the session cookie needs Origin");
        return;
      }
      sessions.close(c.getValue());
    }
    rc.response().putHeader("Set-Cookie", cookie(rc, "", true)).setStatusCode(204).end();
  }

  /**
   * The cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page makes the
   * browser send it), Secure on a TLS listener (never sent in clear), Path=/ (the dashboard and the
   * API).
   */
  static String cookie(RoutingContext rc, String value, boolean clear) {
    return AdminAuth.COOKIE
        + "="
        + value
        + "; Path=/"
        + (clear ? "; Max-Age=0" : "")
        + "; HttpOnly; SameSite=Strict"
        + (rc.request().isSSL() ? "; Secure" : "");
  }
}

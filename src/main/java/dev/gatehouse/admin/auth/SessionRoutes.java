package dev.gatehouse.admin.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminPrincipal;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.ProblemJson;
import io.vertx.core.Future;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The dashboard's login and logout: {@code POST /api/v1/session} trades a token (and, when its
 * credential has one, a second factor: a TOTP code or a recovery code) for a session cookie, {@code
 * DELETE /api/v1/session} ends it. The only admin API routes without a credential. Also registers
 * the second factor's enrolment routes ({@link TotpRoutes}).
 */
public final class SessionRoutes {

  public static final String PATH = "/api/v1/session";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final AdminAuth auth;
  private final AdminSessions sessions;
  private final TotpFactor totp;

  private SessionRoutes(AdminAuth auth, AdminCredentials credentials) {
    this.auth = auth;
    this.sessions = credentials.sessions();
    this.totp = credentials.totp();
  }

  /** Registers both routes. */
  public static void register(AdminRoutes routes, AdminAuth auth, AdminCredentials credentials) {
    SessionRoutes s = new SessionRoutes(auth, credentials);
    routes.addWithoutCredential(
        HttpMethod.POST, PATH, "Log in: trade an admin token for a session cookie", s::login);
    routes.addWithoutCredential(HttpMethod.DELETE, PATH, "Log out: end the session", s::logout);
    TotpRoutes.register(routes, auth, credentials);
  }

  private void login(RoutingContext rc) {
    String token;
    String code;
    String recoveryCode;
    try {
      JsonNode body = JSON.readTree(rc.body().asString());
      if (body == null || !body.isObject()) {
        throw new IllegalArgumentException("not an object");
      }
      token = text(body, "token");
      code = text(body, "code");
      recoveryCode = text(body, "recovery_code");
      if (token == null || (code != null && recoveryCode != null)) {
        throw new IllegalArgumentException("no token, or two second factors");
      }
    } catch (Exception e) {
      ProblemJson.send(
          rc,
          400,
          "admin.invalid_request",
          "expected a JSON body {\"token\": \"gha_...\"}, with \"code\" (six digits from the"
              + " authenticator app) or \"recovery_code\" when the credential has a second factor");
      return;
    }
    String address = AdminAuth.address(rc);
    // The same check, rate limit and 401 as a bearer token: the form is one more way to present it.
    // The second factor is looked at only after the token proved right, so the answers below
    // (second factor required or wrong) tell nothing to whoever does not hold the token already.
    auth.verifyToken(rc, token)
        .compose(
            p -> {
              // Code guesses from many addresses still add up per credential.
              Optional<Duration> wait = auth.limiter().retryAfter(TOTP_LIMIT + p.id());
              if (wait.isPresent()) {
                rc.response().putHeader("Retry-After", Long.toString(wait.get().toSeconds()));
                ProblemJson.send(
                    rc, 429, "admin.login_rate", "too many wrong codes for this credential; wait");
                return Future.failedFuture("refused");
              }
              return auth.blocking(rc, () -> totp.check(p.id(), code, recoveryCode))
                  .map(check -> new Login(p, check));
            })
        .onSuccess(
            l -> {
              switch (l.check()) {
                case MISSING -> {
                  ProblemJson.send(
                      rc,
                      401,
                      "admin.second_factor_required",
                      "this credential has a second factor: send \"code\" (six digits from the"
                          + " authenticator app) or \"recovery_code\" with the token");
                  return;
                }
                case WRONG -> {
                  auth.limiter().failed(address);
                  auth.limiter().failed(TOTP_LIMIT + l.principal().id());
                  ProblemJson.send(
                      rc,
                      401,
                      "admin.second_factor_invalid",
                      "the code is wrong, was used already, or is for another time; try the next"
                          + " one");
                  return;
                }
                case NONE, OK -> open(rc, l.principal(), l.check() == TotpFactor.Check.OK);
              }
            });
  }

  /** The limiter's key for wrong codes of one credential, apart from the address keys. */
  static final String TOTP_LIMIT = "totp:";

  private record Login(AdminPrincipal principal, TotpFactor.Check check) {}

  private void open(RoutingContext rc, AdminPrincipal p, boolean secondFactor) {
    String value = sessions.open(p.id(), secondFactor);
    rc.response().putHeader("Set-Cookie", cookie(rc, value, false));
    ObjectNode o = JSON.createObjectNode();
    o.put("id", p.id());
    o.put("name", p.name());
    o.put("role", p.role().label());
    o.put("second_factor", secondFactor);
    o.put("enrolment_required", !secondFactor && auth.secondFactorRequired(p.role()));
    rc.response()
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .end(o.toString());
  }

  /** An optional string member; anything else but absent or null is refused. */
  static @Nullable String text(JsonNode body, String field) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      throw new IllegalArgumentException(field + " is not a string");
    }
    return n.asText();
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

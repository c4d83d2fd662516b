package dev.gatehouse.admin.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.AdminPrincipal;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.ProblemJson;
import dev.gatehouse.admin.Role;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * {@code /api/v1/me/totp}: the caller's own TOTP second factor. {@code POST} starts an enrolment
 * (the secret, its otpauth URI and QR code, shown this once), {@code POST .../confirm} finishes it
 * with a first code and answers the recovery codes (shown this once), {@code DELETE} removes it
 * with a current code or a recovery code, {@code GET} tells where it stands. Every role may manage
 * its own; nobody another's. Wrong codes at removal count against the login limiter, as at login.
 */
final class TotpRoutes {

  static final String PATH = "/api/v1/me/totp";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final AdminAuth auth;
  private final AdminSessions sessions;
  private final TotpFactor totp;

  private TotpRoutes(AdminAuth auth, AdminCredentials credentials) {
    this.auth = auth;
    this.sessions = credentials.sessions();
    this.totp = credentials.totp();
  }

  static void register(AdminRoutes routes, AdminAuth auth, AdminCredentials credentials) {
    TotpRoutes t = new TotpRoutes(auth, credentials);
    routes.add(
        HttpMethod.GET, PATH, Role.VIEWER, "The caller's second factor (TOTP): its state", t::get);
    routes.add(
        HttpMethod.POST,
        PATH,
        Role.VIEWER,
        "Start enrolling a second factor (TOTP): the secret and QR code, shown once",
        t::begin);
    routes.add(
        HttpMethod.POST,
        PATH + "/confirm",
        Role.VIEWER,
        "Finish enrolment with a first code; answers the recovery codes, shown once",
        t::confirm);
    routes.add(
        HttpMethod.DELETE,
        PATH,
        Role.VIEWER,
        "Remove the second factor (needs a current code or a recovery code)",
        t::remove);
  }

  private void get(RoutingContext rc) {
    AdminPrincipal p = AdminRoutes.principal(rc);
    auth.blocking(rc, () -> totp.status(p.id()))
        .onSuccess(
            s -> {
              ObjectNode o = JSON.createObjectNode();
              o.put("enrolled", s.enrolled());
              o.put("pending", s.pending());
              if (s.confirmedAt() == null) {
                o.putNull("confirmed_at");
              } else {
                o.put("confirmed_at", s.confirmedAt().toString());
              }
              o.put("recovery_codes_left", s.recoveryCodesLeft());
              o.put("required", auth.secondFactorRequired(p.role()));
              Optional<AdminSessions.Live> live = live(rc, p);
              if (live.isEmpty()) {
                o.putNull("session_second_factor");
              } else {
                o.put("session_second_factor", live.get().secondFactor());
              }
              json(rc, 200, o);
            });
  }

  private void begin(RoutingContext rc) {
    AdminPrincipal p = AdminRoutes.principal(rc);
    auth.blocking(rc, () -> totp.begin(p.id(), p.name()))
        .onSuccess(
            started -> {
              if (started.isEmpty()) {
                ProblemJson.send(
                    rc,
                    409,
                    "admin.totp_enrolled",
                    "this credential has a second factor already: remove it first (DELETE "
                        + PATH
                        + " with a code)");
                return;
              }
              ObjectNode o = JSON.createObjectNode();
              o.put("secret", started.get().secret());
              o.put("uri", started.get().uri());
              o.put("qr_svg", started.get().qrSvg());
              o.put("issuer", TotpFactor.ISSUER);
              o.put("account", p.name());
              o.put("algorithm", "SHA1");
              o.put("digits", Totp.DIGITS);
              o.put("period", Totp.STEP_SECONDS);
              json(rc, 201, o);
            });
  }

  private record Confirmed(boolean pending, Optional<List<String>> codes) {}

  private void confirm(RoutingContext rc) {
    AdminPrincipal p = AdminRoutes.principal(rc);
    String code;
    try {
      code = field(rc, "code");
      if (code == null) {
        throw new IllegalArgumentException("code: missing");
      }
    } catch (IllegalArgumentException e) {
      invalid(rc, "expected a JSON body {\"code\": \"123456\"} with a code from the app");
      return;
    }
    String c = code;
    auth.blocking(rc, () -> new Confirmed(totp.status(p.id()).pending(), totp.confirm(p.id(), c)))
        .onSuccess(
            r -> {
              if (r.codes().isPresent()) {
                // The user just proved the factor: this session counts as having given it.
                Cookie cookie = rc.request().getCookie(AdminAuth.COOKIE);
                if (p.via().equals("session") && cookie != null) {
                  sessions.secondFactor(cookie.getValue(), true);
                }
                ObjectNode o = JSON.createObjectNode();
                r.codes().get().forEach(o.putArray("recovery_codes")::add);
                json(rc, 200, o);
              } else if (!r.pending()) {
                ProblemJson.send(
                    rc,
                    409,
                    "admin.totp_not_pending",
                    "no enrolment waits for a code: start one with POST " + PATH);
              } else {
                ProblemJson.send(
                    rc,
                    403,
                    "admin.second_factor_invalid",
                    "the code is wrong or for another time: check the phone's clock, try the next");
              }
            });
  }

  private void remove(RoutingContext rc) {
    AdminPrincipal p = AdminRoutes.principal(rc);
    String code;
    String recovery;
    try {
      code = field(rc, "code");
      recovery = field(rc, "recovery_code");
      if ((code == null) == (recovery == null)) {
        throw new IllegalArgumentException("one of code, recovery_code");
      }
    } catch (IllegalArgumentException e) {
      invalid(
          rc,
          "expected a JSON body {\"code\": \"123456\"} or {\"recovery_code\": \"xxxxx-xxxxx\"}");
      return;
    }
    String address = AdminAuth.address(rc);
    String key = SessionRoutes.TOTP_LIMIT + p.id();
    LoginLimiter limiter = auth.limiter();
    Optional<Duration> wait = limiter.retryAfter(address).or(() -> limiter.retryAfter(key));
    if (wait.isPresent()) {
      rc.response().putHeader("Retry-After", Long.toString(wait.get().toSeconds()));
      ProblemJson.send(rc, 429, "admin.login_rate", "too many wrong codes; wait");
      return;
    }
    auth.blocking(
            rc,
            () -> {
              TotpFactor.Check check = totp.check(p.id(), code, recovery);
              if (check == TotpFactor.Check.OK) {
                totp.remove(p.id());
              }
              return check;
            })
        .onSuccess(
            check -> {
              switch (check) {
                case OK -> {
                  sessions.dropSecondFactor(p.id());
                  rc.response().setStatusCode(204).end();
                }
                case NONE ->
                    ProblemJson.send(
                        rc, 404, "admin.not_found", "this credential has no second factor");
                case WRONG, MISSING -> {
                  limiter.failed(address);
                  limiter.failed(key);
                  ProblemJson.send(
                      rc,
                      403,
                      "admin.second_factor_invalid",
                      "the code is wrong, was used already, or is for another time");
                }
              }
            });
  }

  private Optional<AdminSessions.Live> live(RoutingContext rc, AdminPrincipal p) {
    Cookie cookie = rc.request().getCookie(AdminAuth.COOKIE);
    if (!p.via().equals("session") || cookie == null) {
      return Optional.empty();
    }
    return sessions.live(cookie.getValue());
  }

  /** An optional string member of the JSON object body. */
  private static @Nullable String field(RoutingContext rc, String name) {
    var b = rc.body();
    if (b == null || b.isEmpty()) {
      return null;
    }
    JsonNode n;
    try {
      n = JSON.readTree(b.asString());
    } catch (Exception e) {
      throw new IllegalArgumentException("not JSON", e);
    }
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("not an object");
    }
    return SessionRoutes.text(n, name);
  }

  private static void invalid(RoutingContext rc, String detail) {
    ProblemJson.send(rc, 400, "admin.invalid_request", detail);
  }

  private static void json(RoutingContext rc, int status, ObjectNode o) {
    rc.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .end(o.toString());
  }
}

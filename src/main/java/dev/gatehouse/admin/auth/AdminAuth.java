package dev.gatehouse.admin.auth;

import dev.gatehouse.admin.AdminPrincipal;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.ProblemJson;
import dev.gatehouse.admin.Role;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Who is calling the admin listener, and whether that role may: the handler {@link AdminRoutes}
 * puts in front of every route. A caller presents {@code Authorization: Bearer gha_...} or the
 * dashboard's session cookie {@value #COOKIE}. No credential, an unknown or revoked one, or a
 * client API key: 401 {@code admin.credential_missing}; a role too small: 403 {@code
 * admin.role_insufficient}; the store unreachable: 503 {@code admin.store_unavailable}. The store
 * is read off the event loop. Under {@code profile: prod} an {@code admin}-role dashboard session
 * opened without a second factor may reach only the enrolment routes ({@link #ENROLMENT_PATHS});
 * elsewhere 403 {@code admin.second_factor_enrolment_required}.
 */
public final class AdminAuth {

  /** The dashboard's session cookie. */
  public static final String COOKIE = "gatehouse_session";

  /** The challenge sent with every 401. */
  public static final String CHALLENGE = "Bearer realm=\"gatehouse-admin\"";

  private static final Logger LOG = Logger.getLogger("gatehouse.admin");

  /** Methods that change something: a cookie alone never authorizes them (CSRF). */
  static final Set<HttpMethod> UNSAFE =
      Set.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE);

  private final Vertx vertx;
  private final AdminCredentials credentials;
  private final LoginLimiter limiter;
  private final BooleanSupplier prod;

  /**
   * The paths a dashboard session may reach before it has a second factor where one is required
   * ({@code profile: prod}, role {@code admin}): who it is, and enrolment.
   */
  static final Set<String> ENROLMENT_PATHS =
      Set.of("/api/v1/me", TotpRoutes.PATH, TotpRoutes.PATH + "/confirm");

  public AdminAuth(Vertx vertx, AdminCredentials credentials, LoginLimiter limiter) {
    this(vertx, credentials, limiter, () -> false);
  }

  /**
   * @param prod true while the configuration in force says {@code profile: prod}, under which an
   *     {@code admin}-role dashboard session needs a second factor for anything but enrolment
   */
  public AdminAuth(
      Vertx vertx, AdminCredentials credentials, LoginLimiter limiter, BooleanSupplier prod) {
    this.vertx = vertx;
    this.credentials = credentials;
    this.limiter = limiter;
    this.prod = prod;
  }

  /** True when a dashboard session of this role needs a second factor (profile prod, admin). */
  boolean secondFactorRequired(Role role) {
    return role == Role.ADMIN && prod.getAsBoolean();
  }

  /** The limiter that counts wrong tokens and wrong codes. */
  LoginLimiter limiter() {
    return limiter;
  }

  /** A handler that lets a request through only with a credential of at least {@code role}. */
  public Handler<RoutingContext> require(Role role) {
    return rc -> authenticate(rc).onSuccess(p -> admit(rc, p, role));
  }

  private static void admit(RoutingContext rc, AdminPrincipal p, Role needed) {
    if (!p.role().allows(needed)) {
      ProblemJson.send(
          rc,
          403,
          "admin.role_insufficient",
          "this needs the " + needed.label() + " role; this credential is " + p.role().label());
      return;
    }
    rc.put(AdminRoutes.PRINCIPAL, p);
    rc.next();
  }

  /**
   * The caller, or a failed future after the refusal was sent. The bearer token wins over a cookie:
   * a script that sends a token means that token.
   */
  private Future<AdminPrincipal> authenticate(RoutingContext rc) {
    HttpServerRequest req = rc.request();
    String authorization = req.getHeader("Authorization");
    if (authorization != null) {
      String token = bearer(authorization);
      if (token == null) {
        return unauthorized(rc);
      }
      return verifyToken(rc, token);
    }
    Cookie cookie = req.getCookie(COOKIE);
    if (cookie != null) {
      // CSRF: browsers send Origin on every cross-origin request and on every POST, PUT, PATCH and
      // DELETE, so a cookie-borne change without one did not come from our dashboard. (An Origin
      // that is present was checked by BrowserGuard already.)
      if (UNSAFE.contains(req.method()) && req.getHeader("Origin") == null) {
        ProblemJson.send(
            rc, 403, "admin.origin_denied", "a change made with the session cookie needs Origin");
        return refused();
      }
      // A single sign-on session has no credential in the store: its role was mapped at login.
      Optional<AdminPrincipal> federated = credentials.sessions().federatedOf(cookie.getValue());
      if (federated.isPresent()) {
        return Future.succeededFuture(federated.get());
      }
      Optional<AdminSessions.Live> live = credentials.sessions().live(cookie.getValue());
      if (live.isEmpty()) {
        return unauthorized(rc);
      }
      String id = live.get().credentialId();
      return blocking(rc, () -> credentials.principalOf(id, "session"))
          .compose(
              p -> {
                if (p.isEmpty()) {
                  return unauthorized(rc);
                }
                // profile prod: an admin's dashboard session without a second factor may only
                // enrol one (checked per request, so a reload to prod applies to open sessions).
                if (!live.get().secondFactor()
                    && secondFactorRequired(p.get().role())
                    && !ENROLMENT_PATHS.contains(req.path())) {
                  ProblemJson.send(
                      rc,
                      403,
                      "admin.second_factor_enrolment_required",
                      "profile prod: an admin dashboard session needs a second factor; enrol one"
                          + " at POST /api/v1/me/totp, then sign in again with a code");
                  return refused();
                }
                return Future.succeededFuture(p.get());
              });
    }
    return unauthorized(rc);
  }

  /** Checks a presented token, counting a wrong one against the caller's address. */
  Future<AdminPrincipal> verifyToken(RoutingContext rc, String token) {
    String address = address(rc);
    Optional<Duration> wait = limiter.retryAfter(address);
    if (wait.isPresent()) {
      rc.response().putHeader("Retry-After", Long.toString(wait.get().toSeconds()));
      ProblemJson.send(
          rc, 429, "admin.login_rate", "too many wrong credentials from this address; wait");
      return refused();
    }
    return blocking(rc, () -> credentials.verify(token))
        .compose(
            p -> {
              if (p.isPresent()) {
                return Future.succeededFuture(p.get());
              }
              limiter.failed(address);
              return unauthorized(rc);
            });
  }

  /** Runs a store call on a worker; a failure answers 503 (fail closed) and fails the future. */
  <T> Future<T> blocking(RoutingContext rc, java.util.concurrent.Callable<T> call) {
    return vertx
        .executeBlocking(call, false)
        .recover(
            e -> {
              LOG.log(
                  Level.WARNING,
                  "admin credential store unavailable (request "
                      + rc.get(ProblemJson.REQUEST_ID)
                      + "): "
                      + e.getMessage());
              ProblemJson.send(
                  rc, 503, "admin.store_unavailable", "the credential store cannot be read");
              return Future.failedFuture(e);
            });
  }

  /** A future failed because the refusal was sent already. */
  private static <T> Future<T> refused() {
    return Future.failedFuture("refused");
  }

  /** Sends the 401 with its challenge; returns {@link #refused()}. */
  static <T> Future<T> unauthorized(RoutingContext rc) {
    rc.response().putHeader("WWW-Authenticate", CHALLENGE);
    ProblemJson.send(
        rc,
        401,
        "admin.credential_missing",
        "this needs an admin credential: Authorization: Bearer gha_... or a dashboard session");
    return refused();
  }

  /** The token of {@code Bearer <token>} (scheme case-insensitive), or null. */
  static @Nullable String bearer(String authorization) {
    int sp = authorization.indexOf(' ');
    if (sp < 0 || !authorization.substring(0, sp).toLowerCase(Locale.ROOT).equals("bearer")) {
      return null;
    }
    return authorization.substring(sp + 1).strip();
  }

  static String address(RoutingContext rc) {
    var a = rc.request().remoteAddress();
    return a == null || a.host() == null ? "unknown" : a.host();
  }
}

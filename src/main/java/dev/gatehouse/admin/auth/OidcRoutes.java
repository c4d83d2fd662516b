package dev.gatehouse.admin.auth;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.gatehouse.admin.AdminPrincipal;
import dev.gatehouse.admin.AdminRoutes;
import dev.gatehouse.admin.ProblemJson;
import dev.gatehouse.admin.Role;
import dev.gatehouse.config.GatehouseConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The dashboard's single sign-on through an OpenID provider: the authorization code flow with PKCE
 * (S256). {@code GET /api/v1/oidc} says whether it is configured; {@code GET /api/v1/oidc/login}
 * sends the browser to the provider with a fresh state, nonce and PKCE challenge, kept here ({@link
 * OidcLogins}) and bound to a cookie; {@code GET /api/v1/oidc/callback} takes the state once,
 * trades the code, checks the ID token ({@link OidcProvider}), maps the roles claim to a dashboard
 * role ({@link OidcClaims}) and opens a session as the token login does. Every failure answers a
 * problem and opens no session.
 */
public final class OidcRoutes {

  public static final String INFO = "/api/v1/oidc";
  public static final String LOGIN = "/api/v1/oidc/login";
  public static final String CALLBACK = "/api/v1/oidc/callback";

  /** The cookie that binds a login under way to the browser that started it. */
  static final String BINDING_COOKIE = "gatehouse_oidc";

  private static final Logger LOG = Logger.getLogger("gatehouse.admin");

  private final Vertx vertx;
  private final GatehouseConfig.Oidc config;
  private final @Nullable OidcProvider provider;
  private final OidcLogins logins;
  private final AdminSessions sessions;

  private OidcRoutes(
      Vertx vertx,
      GatehouseConfig.Oidc config,
      @Nullable OidcProvider provider,
      AdminSessions sessions,
      Clock clock) {
    this.vertx = vertx;
    this.config = config;
    this.provider = provider;
    this.logins = new OidcLogins(clock);
    this.sessions = sessions;
  }

  /**
   * Registers the three routes, also when single sign-on is off (they then answer that it is off),
   * so the API description is the same for every configuration.
   *
   * @throws IOException when the client secret file cannot be read
   */
  public static void register(
      AdminRoutes routes, Vertx vertx, GatehouseConfig.Oidc config, AdminCredentials credentials)
      throws IOException {
    Clock clock = Clock.systemUTC();
    OidcProvider provider = config.enabled() ? new OidcProvider(config, clock) : null;
    OidcRoutes r = new OidcRoutes(vertx, config, provider, credentials.sessions(), clock);
    routes.addWithoutCredential(
        HttpMethod.GET, INFO, "Whether single sign-on (OpenID Connect) is configured", r::info);
    routes.addWithoutCredential(
        HttpMethod.GET, LOGIN, "Single sign-on: go to the OpenID provider to sign in", r::login);
    routes.addWithoutCredential(
        HttpMethod.GET,
        CALLBACK,
        "Single sign-on: the provider's redirect back; opens a dashboard session",
        r::callback);
  }

  private void info(RoutingContext rc) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("enabled", provider != null);
    rc.response().putHeader("Content-Type", "application/json").end(o.toString());
  }

  private void login(RoutingContext rc) {
    OidcProvider p = provider;
    if (p == null) {
      ProblemJson.send(rc, 404, "admin.not_found", "single sign-on is off (admin.oidc.issuer)");
      return;
    }
    String redirectUri = redirectBase(rc) + CALLBACK;
    OidcLogins.Started s = logins.start(redirectUri);
    vertx
        .executeBlocking(() -> p.authorizationUri(redirectUri, s), false)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                refuse(rc, ar.cause(), "the login could not start");
                return;
              }
              rc.response()
                  .putHeader("Set-Cookie", bindingCookie(rc, s.cookie(), false))
                  .putHeader("Location", ar.result().toString())
                  .setStatusCode(302)
                  .end();
            });
  }

  private void callback(RoutingContext rc) {
    OidcProvider p = provider;
    if (p == null) {
      ProblemJson.send(rc, 404, "admin.not_found", "single sign-on is off (admin.oidc.issuer)");
      return;
    }
    // The binding cookie is spent whatever happens next.
    rc.response().putHeader("Set-Cookie", bindingCookie(rc, "", true));
    Cookie binding = rc.request().getCookie(BINDING_COOKIE);
    OidcLogins.Pending pending =
        logins.take(rc.request().getParam("state"), binding == null ? null : binding.getValue());
    if (pending == null) {
      refuse(
          rc,
          new OidcProvider.Failure("unknown, used, expired or foreign state", false),
          "this sign-in is unknown, was used already, has expired or was started in another"
              + " browser: start again from the dashboard");
      return;
    }
    String error = rc.request().getParam("error");
    if (error != null) {
      String code = error.replaceAll("[^A-Za-z0-9_.-]", "");
      refuse(
          rc,
          new OidcProvider.Failure("the provider answered " + code, false),
          "the provider did not sign you in (" + code + ")");
      return;
    }
    // RFC 9207: when the provider names itself, it must be ours (a mix-up with another provider).
    String iss = rc.request().getParam("iss");
    String code = rc.request().getParam("code");
    if ((iss != null && !iss.equals(p.issuer())) || code == null || code.isEmpty()) {
      refuse(
          rc,
          new OidcProvider.Failure("callback with another iss or no code", false),
          "the provider's answer is not valid");
      return;
    }
    vertx
        .executeBlocking(() -> p.exchange(code, pending), false)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                refuse(rc, ar.cause(), "the provider's answer is not valid");
                return;
              }
              signIn(rc, p, ar.result());
            });
  }

  private void signIn(RoutingContext rc, OidcProvider p, JWTClaimsSet claims) {
    String sub = claims.getSubject();
    Object preferred = claims.getClaim("preferred_username");
    Object name = preferred != null ? preferred : claims.getClaim("name");
    Role role =
        OidcClaims.role(OidcClaims.values(claims.getClaims(), config.rolesClaim()), config.roles());
    if (role == null) {
      AdminPrincipal who =
          OidcClaims.principal(p.issuer(), sub, name instanceof String s ? s : null, Role.VIEWER);
      LOG.info(
          "single sign-on refused for "
              + who.id()
              + ": no value of claim "
              + config.rolesClaim()
              + " is mapped in admin.oidc.roles (request "
              + rc.get(ProblemJson.REQUEST_ID)
              + ")");
      ProblemJson.send(
          rc,
          403,
          "admin.oidc_no_role",
          "you signed in at the provider, but none of your "
              + config.rolesClaim()
              + " is given a dashboard role (admin.oidc.roles)");
      return;
    }
    AdminPrincipal who =
        OidcClaims.principal(p.issuer(), sub, name instanceof String s ? s : null, role);
    String value = sessions.openFederated(who);
    LOG.info("single sign-on: " + who.id() + " (" + who.name() + ") as " + role.label());
    rc.response()
        .putHeader("Set-Cookie", SessionRoutes.cookie(rc, value, false))
        .putHeader("Location", "/")
        .setStatusCode(302)
        .end();
  }

  /** Logs the reason (never a token) and answers a problem; no session is opened. */
  private static void refuse(RoutingContext rc, Throwable cause, String detail) {
    boolean unavailable = cause instanceof OidcProvider.Failure f && f.unavailable;
    LOG.log(
        cause instanceof OidcProvider.Failure ? Level.INFO : Level.WARNING,
        "single sign-on refused (request "
            + rc.get(ProblemJson.REQUEST_ID)
            + "): "
            + cause.getMessage());
    if (unavailable) {
      ProblemJson.send(
          rc, 503, "admin.oidc_unavailable", "the OpenID provider cannot be reached; try again");
      return;
    }
    ProblemJson.send(rc, 401, "admin.oidc_refused", detail);
  }

  /** Where the browser reaches this listener: the configured base, or the address it used. */
  private String redirectBase(RoutingContext rc) {
    URI base = config.redirectBase();
    if (base != null) {
      return base.toString();
    }
    // The Host was checked against this listener's names already (BrowserGuard).
    return (rc.request().isSSL() ? "https://" : "http://") + rc.request().getHeader("Host");
  }

  /**
   * The binding cookie: HttpOnly, SameSite=Lax (the provider's redirect back is a top-level GET
   * from another site, on which a Strict cookie is not sent), only on the callback's path, ten
   * minutes, and Secure when the browser reaches us over https.
   */
  private String bindingCookie(RoutingContext rc, String value, boolean clear) {
    boolean secure =
        rc.request().isSSL()
            || (config.redirectBase() != null
                && "https".equalsIgnoreCase(config.redirectBase().getScheme()));
    return BINDING_COOKIE
        + "="
        + value
        + "; Path="
        + CALLBACK
        + "; Max-Age="
        + (clear ? 0 : OidcLogins.TTL.toSeconds())
        + "; HttpOnly; SameSite=Lax"
        + (secure ? "; Secure" : "");
  }
}

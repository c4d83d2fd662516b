package dev.gatehouse.admin;

import static dev.gatehouse.admin.AdminFixture.header;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.admin.auth.AdminCredentials;
import dev.gatehouse.store.AdminStore;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin listener's security, against a real listener on a real port: credentials and roles on
 * every route, Host and Origin checks, the session cookie, the login rate limit, revocation, and
 * that admin tokens and client keys never cross.
 */
class AdminSecurityTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static AdminFixture f;

  @BeforeAll
  static void start() throws Exception {
    f = AdminFixture.start(Map.of("admin.hosts", "admin.example.com"));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  /** A route's path with a made-up value for each parameter. */
  static String concrete(String path) {
    return path.replaceAll("\\{[A-Za-z0-9_]+}", "x1");
  }

  /** Every route that needs a credential: the registrar's list and the non-API paths. */
  static List<AdminRoutes.Route> guarded() {
    List<AdminRoutes.Route> all = new ArrayList<>(f.server.routes().routes());
    all.add(new AdminRoutes.Route(io.vertx.core.http.HttpMethod.GET, "/metrics", Role.VIEWER, ""));
    all.add(new AdminRoutes.Route(io.vertx.core.http.HttpMethod.GET, "/healthz", Role.VIEWER, ""));
    all.add(
        new AdminRoutes.Route(io.vertx.core.http.HttpMethod.GET, "/openapi.json", Role.VIEWER, ""));
    return all;
  }

  static String bodyFor(AdminRoutes.Route r) {
    String m = r.method().name();
    return m.equals("POST") || m.equals("PUT") || m.equals("PATCH") ? "{}" : null;
  }

  static void assertProblem(HttpResponse<String> r, int status, String code) throws Exception {
    assertThat(r.statusCode()).as(r.uri() + " " + r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type")).hasValue(ProblemJson.CONTENT_TYPE);
    JsonNode p = JSON.readTree(r.body());
    assertThat(p.get("code").asText()).isEqualTo(code);
    assertThat(p.get("status").asInt()).isEqualTo(status);
    assertThat(p.get("request_id").asText())
        .isEqualTo(r.headers().firstValue("X-Request-Id").orElseThrow());
  }

  @Test
  void everyRouteIsRefusedWithoutACredential() throws Exception {
    // why: the first requirement; iterating the registrar covers routes added later
    assertThat(f.server.routes().routes()).isNotEmpty();
    for (AdminRoutes.Route r : guarded()) {
      HttpResponse<String> resp = f.send(r.method().name(), concrete(r.path()), null, bodyFor(r));
      assertProblem(resp, 401, "admin.credential_missing");
      assertThat(resp.headers().firstValue("WWW-Authenticate"))
          .as(r.path())
          .hasValue("Bearer realm=\"gatehouse-admin\"");
      // a wrong token: 401 all the same (sent from an address of its own, so that these wrong
      // tokens do not reach the login limit of 127.0.0.1)
      RawResponse wrong =
          rawFrom(
              "127.0.2." + (guarded().indexOf(r) + 1),
              r.method().name() + " " + concrete(r.path()) + " HTTP/1.1",
              List.of(
                  "Host: 127.0.0.1:" + f.port(),
                  "Authorization: Bearer gha_aaaaaaaaaaaa_" + "A".repeat(40)),
              bodyFor(r) == null ? "" : bodyFor(r));
      assertThat(wrong.status()).as(r.path()).isEqualTo(401);
      assertThat(wrong.body()).contains("admin.credential_missing");
    }
  }

  @Test
  void everyRouteIsRefusedWithTooSmallARole() throws Exception {
    // why: least privilege per role; a viewer never changes anything, an operator never manages
    // admin credentials
    for (AdminRoutes.Route r : guarded()) {
      for (Role weaker : Role.values()) {
        if (r.role().allows(weaker) && weaker != r.role()) {
          HttpResponse<String> resp =
              f.send(r.method().name(), concrete(r.path()), f.tokens.get(weaker), bodyFor(r));
          assertProblem(resp, 403, "admin.role_insufficient");
        }
      }
      // and the role it names is enough to get past the check
      HttpResponse<String> enough =
          f.send(r.method().name(), concrete(r.path()), f.tokens.get(r.role()), bodyFor(r));
      assertThat(enough.statusCode()).as(r.path()).isNotIn(401, 403);
    }
  }

  @Test
  void theRoleCheckRefusesASmallerRoleWith403() throws Exception {
    // why: until the API adds operator and admin routes, check the handler the registrar uses on
    // a route of each role, on a listener of its own
    io.vertx.core.Vertx vertx = f.gw.gateway().vertx();
    io.vertx.ext.web.Router router = io.vertx.ext.web.Router.router(vertx);
    router.route().handler(io.vertx.ext.web.handler.BodyHandler.create(false));
    var auth =
        new dev.gatehouse.admin.auth.AdminAuth(
            vertx,
            f.admins,
            new dev.gatehouse.admin.auth.LoginLimiter(java.time.Clock.systemUTC()));
    AdminRoutes routes = new AdminRoutes(router, auth::require);
    for (Role r : Role.values()) {
      routes.add(
          io.vertx.core.http.HttpMethod.POST,
          "/t/" + r.label(),
          r,
          "test",
          rc -> rc.response().end(AdminRoutes.principal(rc).role().label()));
    }
    var server = vertx.createHttpServer().requestHandler(router);
    int port = server.listen(0, "127.0.0.1").await().actualPort();
    try {
      for (Role needed : Role.values()) {
        for (Role has : Role.values()) {
          var resp =
              f.http.send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://127.0.0.1:" + port + "/t/" + needed.label()))
                      .header("Authorization", "Bearer " + f.tokens.get(has))
                      .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          assertThat(resp.statusCode())
              .as(has + " on a " + needed + " route")
              .isEqualTo(has.allows(needed) ? 200 : 403);
          if (!has.allows(needed)) {
            assertThat(resp.body()).contains("admin.role_insufficient");
          }
        }
      }
    } finally {
      server.close().await();
    }
  }

  @Test
  void aForeignHostIsRefusedEvenWithACredential() throws Exception {
    // why: DNS rebinding: the attacker's page reaches 127.0.0.1 under the attacker's own name
    String token = "Authorization: Bearer " + f.tokens.get(Role.ADMIN);
    RawResponse evil =
        f.raw(
            "GET /api/v1/me HTTP/1.1",
            List.of("Host: rebind.attacker.example:" + f.port(), token),
            "");
    assertThat(evil.status()).isEqualTo(403);
    assertThat(evil.body()).contains("admin.host_denied");
    assertThat(header(evil, "Content-Security-Policy")).isEqualTo(AdminServer.CSP);
    // the right host on another port is another origin
    assertThat(f.raw("GET /api/v1/me HTTP/1.1", List.of("Host: 127.0.0.1:1", token), "").status())
        .isEqualTo(403);
    // no Host at all, and two of them
    assertThat(f.raw("GET /api/v1/me HTTP/1.0", List.of(token), "").status()).isEqualTo(403);
    assertThat(
            f.raw(
                    "GET /api/v1/me HTTP/1.1",
                    List.of("Host: 127.0.0.1:" + f.port(), "Host: evil.example", token),
                    "")
                .status())
        .isIn(400, 403);
    // the listener's own names, and a name from admin.hosts (any case), are accepted
    for (String host :
        List.of(
            "127.0.0.1:" + f.port(),
            "localhost:" + f.port(),
            "LOCALHOST:" + f.port(),
            "admin.example.com",
            "Admin.Example.com")) {
      assertThat(f.raw("GET /api/v1/me HTTP/1.1", List.of("Host: " + host, token), "").status())
          .as(host)
          .isEqualTo(200);
    }
  }

  @Test
  void aForeignOriginIsRefused() throws Exception {
    // why: CSRF: a page on another site makes the browser send the request, with its own Origin
    String host = "Host: 127.0.0.1:" + f.port();
    String token = "Authorization: Bearer " + f.tokens.get(Role.ADMIN);
    for (String origin :
        List.of(
            "http://evil.example",
            "null",
            "http://127.0.0.1:" + f.port() + ".evil.example",
            "ftp://127.0.0.1:" + f.port(),
            "http://127.0.0.1:1")) {
      RawResponse r =
          f.raw("GET /api/v1/me HTTP/1.1", List.of(host, token, "Origin: " + origin), "");
      assertThat(r.status()).as(origin).isEqualTo(403);
      assertThat(r.body()).contains("admin.origin_denied");
    }
    RawResponse crossSite =
        f.raw("GET /api/v1/me HTTP/1.1", List.of(host, token, "Sec-Fetch-Site: cross-site"), "");
    assertThat(crossSite.status()).isEqualTo(403);
    for (String origin : List.of("http://127.0.0.1:" + f.port(), "https://admin.example.com")) {
      assertThat(
              f.raw("GET /api/v1/me HTTP/1.1", List.of(host, token, "Origin: " + origin), "")
                  .status())
          .as(origin)
          .isEqualTo(200);
    }
  }

  /** Logs in with a token; returns the raw answer. */
  static RawResponse login(String token, String origin) throws Exception {
    List<String> h = new ArrayList<>(List.of("Host: 127.0.0.1:" + f.port()));
    h.add("Content-Type: application/json");
    if (origin != null) {
      h.add("Origin: " + origin);
    }
    return f.raw("POST /api/v1/session HTTP/1.1", h, "{\"token\":\"" + token + "\"}");
  }

  static String cookieOf(RawResponse login) {
    String setCookie = header(login, "Set-Cookie");
    assertThat(setCookie).startsWith("gatehouse_session=");
    return setCookie.substring(0, setCookie.indexOf(';'));
  }

  static int withCookie(String method, String path, String cookie, String origin) throws Exception {
    List<String> h = new ArrayList<>(List.of("Host: 127.0.0.1:" + f.port(), "Cookie: " + cookie));
    if (origin != null) {
      h.add("Origin: " + origin);
    }
    return f.raw(method + " " + path + " HTTP/1.1", h, "").status();
  }

  @Test
  void aSessionCookieIsHttpOnlyStrictAndCsrfSafe() throws Exception {
    // why: the dashboard's cookie must be unreadable by script, never sent by another site, and
    // never enough on its own to change anything
    String origin = "http://127.0.0.1:" + f.port();
    RawResponse in = login(f.tokens.get(Role.OPERATOR), origin);
    assertThat(in.status()).as(in.body()).isEqualTo(200);
    assertThat(JSON.readTree(in.body()).get("role").asText()).isEqualTo("operator");
    String setCookie = header(in, "Set-Cookie");
    assertThat(setCookie)
        .matches("gatehouse_session=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict")
        .doesNotContain("Secure");
    String cookie = cookieOf(in);
    assertThat(withCookie("GET", "/api/v1/me", cookie, null)).isEqualTo(200);
    // a change made with the cookie and no Origin: refused (CSRF)
    assertThat(withCookie("DELETE", "/api/v1/session", cookie, null)).isEqualTo(403);
    assertThat(withCookie("GET", "/api/v1/me", cookie, null)).isEqualTo(200);
    // logout with Origin ends the session and clears the cookie
    RawResponse out =
        f.raw(
            "DELETE /api/v1/session HTTP/1.1",
            List.of("Host: 127.0.0.1:" + f.port(), "Cookie: " + cookie, "Origin: " + origin),
            "");
    assertThat(out.status()).isEqualTo(204);
    assertThat(header(out, "Set-Cookie")).contains("Max-Age=0").contains("HttpOnly");
    assertThat(withCookie("GET", "/api/v1/me", cookie, null)).isEqualTo(401);
    // a made-up cookie is nobody
    assertThat(withCookie("GET", "/api/v1/me", "gatehouse_session=" + "A".repeat(43), null))
        .isEqualTo(401);
  }

  @Test
  void theSessionCookieIsSecureOnATlsListener() throws Exception {
    // why: over TLS the cookie must never be sent in clear
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("admin-tls");
    var cert =
        dev.gatehouse.tls.SelfSigned.write(
            List.of("127.0.0.1"),
            java.time.Duration.ofDays(1),
            dir.resolve("cert.pem"),
            dir.resolve("key.pem"));
    try (AdminFixture tls =
        AdminFixture.start(
            Map.of(),
            new io.vertx.core.net.PemKeyCertOptions()
                .setCertPath(cert.cert().toString())
                .setKeyPath(cert.key().toString()))) {
      javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
      ssl.init(
          null,
          new javax.net.ssl.TrustManager[] {
            new javax.net.ssl.X509TrustManager() {
              @Override
              public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}

              @Override
              public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}

              @Override
              public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
              }
            }
          },
          null);
      String body = "{\"token\":\"" + tls.tokens.get(Role.VIEWER) + "\"}";
      String req =
          "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1:"
              + tls.port()
              + "\r\nContent-Type: application/json\r\nContent-Length: "
              + body.length()
              + "\r\nConnection: close\r\n\r\n"
              + body;
      try (var s = ssl.getSocketFactory().createSocket("127.0.0.1", tls.port())) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(req.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        RawResponse r =
            AdminFixture.parse(
                new String(
                    s.getInputStream().readAllBytes(),
                    java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(header(r, "Set-Cookie")).endsWith("; Path=/; HttpOnly; SameSite=Strict; Secure");
      }
    }
  }

  @Test
  void securityHeadersAndTheCspAreOnEveryResponse() throws Exception {
    // why: the dashboard may run no script or style from anywhere but itself, and never in a frame
    for (String path : List.of("/api/v1/me", "/api/v1/nothing", "/", "/assets/none.js", "/x")) {
      for (String token : new String[] {null, f.tokens.get(Role.VIEWER)}) {
        HttpResponse<String> r = f.send("GET", path, token, null);
        var h = r.headers();
        assertThat(h.firstValue("Content-Security-Policy")).as(path).hasValue(AdminServer.CSP);
        assertThat(h.firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(h.firstValue("Referrer-Policy")).hasValue("no-referrer");
        assertThat(h.firstValue("X-Frame-Options")).hasValue("DENY");
        assertThat(h.firstValue("X-Request-Id"))
            .as(path)
            .hasValueSatisfying(id -> assertThat(id).matches("[0-9a-f]{16}"));
      }
    }
    assertThat(f.get("/api/v1/me", Role.VIEWER).headers().firstValue("Cache-Control"))
        .hasValue("no-store");
  }

  @Test
  void apiErrorsAreProblemDetails() throws Exception {
    // why: RFC 9457 everywhere under /api/, with a stable code and the request id
    assertProblem(f.get("/api/v1/nothing", Role.ADMIN), 404, "admin.not_found");
    HttpResponse<String> wrongMethod = f.send("POST", "/api/v1/me", f.tokens.get(Role.ADMIN), "{}");
    assertProblem(wrongMethod, 405, "admin.method_not_allowed");
    assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("GET, HEAD");
    assertProblem(f.send("PUT", "/api/v1/session", null, "{}"), 405, "admin.method_not_allowed");
    assertProblem(
        f.send("POST", "/api/v1/session", null, "not json"), 400, "admin.invalid_request");
    assertProblem(
        f.send("POST", "/api/v1/session", null, "{\"token\":\"" + "a".repeat(70_000) + "\"}"),
        413,
        "admin.body_too_large");
    // no API description in this build yet: a problem, and only with a credential
    HttpResponse<String> openApi = f.get("/openapi.json", Role.VIEWER);
    if (AdminServer.class.getClassLoader().getResource("admin/openapi.json") == null) {
      assertProblem(openApi, 404, "admin.not_found");
    } else {
      assertThat(openApi.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void theDashboardFilesNeedNoCredentialAndStayInTheirDirectory() throws Exception {
    // why: the login page must load before any login; and only files under admin/dashboard/ may
    // be served, never another class-path resource
    HttpResponse<String> index = f.send("GET", "/", null, null);
    boolean shipped =
        AdminServer.class.getClassLoader().getResource("admin/dashboard/index.html") != null;
    assertThat(index.statusCode()).isEqualTo(shipped ? 200 : 404);
    for (String path :
        List.of(
            "/assets/../../db/migration/V1__keys.sql",
            "/assets/%2e%2e/%2e%2e/admin/openapi.json",
            "/assets/.hidden.js",
            "/assets/x.sql",
            "/assets/..%2f..%2fdb%2fmigration%2fV1__keys.sql")) {
      HttpResponse<String> r = f.send("GET", path, null, null);
      assertThat(r.statusCode()).as(path).isIn(400, 404);
      assertThat(r.body()).doesNotContain("CREATE TABLE");
    }
  }

  @Test
  void aClientApiKeyNeverOpensTheAdminApi() throws Exception {
    // why: client keys and admin credentials are apart; the most powerful client key is nobody
    String key =
        f.gw
            .keys
            .create("client", null, List.of("inference", "models.read", "models.manage"), List.of())
            .key();
    assertThat(f.gw.get("/api/tags", key).statusCode()).as("a working client key").isEqualTo(200);
    String host = "Host: 127.0.0.1:" + f.port();
    for (String path : List.of("/api/v1/me", "/metrics")) {
      RawResponse r =
          rawFrom(
              "127.0.3.1",
              "GET " + path + " HTTP/1.1",
              List.of(host, "Authorization: Bearer " + key),
              "");
      assertThat(r.status()).as(path).isEqualTo(401);
      assertThat(r.body()).contains("admin.credential_missing");
    }
    RawResponse viaLogin =
        rawFrom(
            "127.0.3.1",
            "POST /api/v1/session HTTP/1.1",
            List.of(host, "Content-Type: application/json"),
            "{\"token\":\"" + key + "\"}");
    assertThat(viaLogin.status()).isEqualTo(401);
    assertThat(header(viaLogin, "Set-Cookie")).isNull();
  }

  @Test
  void anAdminTokenNeverOpensThePublicListener() throws Exception {
    // why: the other direction: an admin token is not a client key
    for (Role r : Role.values()) {
      assertThat(f.gw.get("/api/tags", f.tokens.get(r)).statusCode()).as(r.label()).isEqualTo(401);
    }
  }

  @Test
  void aRevokedCredentialAndItsSessionsStopWorking() throws Exception {
    // why: revocation must take effect at once, for the token and the sessions opened with it,
    // whether revoked here or by `gatehouse admins revoke` (the store, from another process)
    String origin = "http://127.0.0.1:" + f.port();
    for (boolean throughService : new boolean[] {true, false}) {
      AdminCredentials.Created c = f.admins.create("to-revoke", Role.OPERATOR);
      String cookie = cookieOf(login(c.token(), origin));
      assertThat(f.send("GET", "/api/v1/me", c.token(), null).statusCode()).isEqualTo(200);
      assertThat(withCookie("GET", "/api/v1/me", cookie, null)).isEqualTo(200);
      AdminStore.Revoke done =
          throughService
              ? f.admins.revoke(c.record().id())
              : f.stores.admins().revokeAdmin(c.record().id(), java.time.Instant.now());
      assertThat(done).isEqualTo(AdminStore.Revoke.REVOKED);
      assertProblem(f.send("GET", "/api/v1/me", c.token(), null), 401, "admin.credential_missing");
      assertThat(withCookie("GET", "/api/v1/me", cookie, null)).isEqualTo(401);
      assertThat(login(c.token(), origin).status()).isEqualTo(401);
    }
    // the last active admin stays
    var onlyAdmin =
        f.admins.list().stream().filter(a -> a.active() && a.role().equals("admin")).toList();
    assertThat(onlyAdmin).hasSize(1);
    assertThat(f.admins.revoke(onlyAdmin.getFirst().id())).isEqualTo(AdminStore.Revoke.LAST_ADMIN);
  }

  @Test
  void wrongTokensFromOneAddressAreLimited() throws Exception {
    // why: a guessing loop gets 10 tries a minute, then 429 even for a right token; another
    // address is not affected (these requests come from 127.0.0.7)
    String host = "Host: 127.0.0.1:" + f.port();
    String wrong = "Authorization: Bearer gha_aaaaaaaaaaaa_" + "B".repeat(40);
    for (int i = 0; i < 10; i++) {
      assertThat(rawFrom("127.0.0.7", ME, List.of(host, wrong), "").status())
          .as("try " + i)
          .isEqualTo(401);
    }
    RawResponse limited =
        rawFrom(
            "127.0.0.7",
            ME,
            List.of(host, "Authorization: Bearer " + f.tokens.get(Role.ADMIN)),
            "");
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.body()).contains("admin.login_rate");
    assertThat(Integer.parseInt(header(limited, "Retry-After"))).isBetween(1, 60);
    assertThat(
            rawFrom(
                    "127.0.0.8",
                    ME,
                    List.of(host, "Authorization: Bearer " + f.tokens.get(Role.ADMIN)),
                    "")
                .status())
        .isEqualTo(200);
  }

  static final String ME = "GET /api/v1/me HTTP/1.1";

  /** A raw exchange from a chosen loopback address (all of 127.0.0.0/8 is loopback on Linux). */
  static RawResponse rawFrom(String ip, String requestLine, List<String> headers, String body)
      throws Exception {
    try (java.net.Socket s = new java.net.Socket()) {
      s.bind(new java.net.InetSocketAddress(ip, 0));
      s.connect(new java.net.InetSocketAddress("127.0.0.1", f.port()), 10_000);
      s.setSoTimeout(10_000);
      StringBuilder b = new StringBuilder(requestLine).append("\r\n");
      headers.forEach(h -> b.append(h).append("\r\n"));
      if (!body.isEmpty()) {
        b.append("Content-Length: ").append(body.length()).append("\r\n");
      }
      b.append("Connection: close\r\n\r\n").append(body);
      s.getOutputStream().write(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return AdminFixture.parse(
          new String(
              s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1));
    }
  }

  @Test
  void theTokenIsStoredOnlyAsItsHash() throws Exception {
    // why: a copy of the database must not hand out admin access
    AdminCredentials.Created c = f.admins.create("hash-check", Role.VIEWER);
    String secret = c.token().substring(c.token().lastIndexOf('_') + 1);
    try (Connection db =
            DriverManager.getConnection("jdbc:sqlite:" + f.gw.dataDir.resolve("gatehouse.db"));
        Statement st = db.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT * FROM admin_credentials WHERE name = 'hash-check'")) {
      assertThat(rs.next()).isTrue();
      for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
        byte[] v = rs.getBytes(i);
        if (v != null) {
          String text = new String(v, java.nio.charset.StandardCharsets.ISO_8859_1);
          assertThat(text).doesNotContain(secret).doesNotContain(c.token());
        }
      }
      assertThat(rs.getBytes("hash"))
          .hasSize(32)
          .isEqualTo(
              new dev.gatehouse.identify.ApiKeys(
                      dev.gatehouse.identify.ServerSecret.loadOrCreate(f.gw.dataDir), "gha_")
                  .hash(c.token()));
    }
  }
}

package dev.gatehouse.admin.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.admin.AdminFixture;
import dev.gatehouse.admin.Role;
import dev.gatehouse.store.AdminTotpRecord;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The TOTP second factor over a real admin listener: enrolment, login with a code computed here
 * (RFC 6238, {@link TotpTest#reference}), a wrong code, a replayed code, a recovery code that works
 * once, removal, and the {@code profile: prod} rule for admin dashboard sessions.
 */
class TotpApiTest {

  static final ObjectMapper JSON = new ObjectMapper();

  static AdminFixture admin;

  @BeforeAll
  static void start() throws Exception {
    admin = AdminFixture.start(Map.of());
  }

  @AfterAll
  static void stop() {
    admin.close();
  }

  /** A dashboard session: its cookie, and the fixture it belongs to. */
  record Session(AdminFixture fx, String cookie) {
    HttpResponse<String> send(String method, String path, String body) throws Exception {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(fx.base() + path))
              .method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(body))
              .header("Cookie", AdminAuth.COOKIE + "=" + cookie)
              .header("Origin", fx.base());
      if (body != null) {
        b.header("Content-Type", "application/json");
      }
      return fx.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
  }

  static HttpResponse<String> login(AdminFixture fx, Map<String, String> body) throws Exception {
    return fx.send("POST", "/api/v1/session", null, JSON.writeValueAsString(body));
  }

  static Session session(AdminFixture fx, HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String c = r.headers().firstValue("Set-Cookie").orElseThrow();
    return new Session(fx, c.substring(c.indexOf('=') + 1, c.indexOf(';')));
  }

  static String code(JsonNode problem) {
    return problem.path("code").asText();
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  /** The code for {@code step} of a base32 secret, computed by the test's own reference. */
  static String codeAt(String base32, long step) throws Exception {
    return TotpTest.reference(TotpTest.base32Decode(base32), step * 30, 6);
  }

  static long now() {
    return Instant.now().getEpochSecond() / 30;
  }

  /** A credential enrolled through the API: its token, secret, recovery codes, confirming step. */
  record Enrolled(String token, String secret, List<String> recovery, long step) {}

  static Enrolled enrol(AdminFixture fx, String name, Role role) throws Exception {
    String token = fx.admins.create(name, role).token();
    HttpResponse<String> begun = fx.send("POST", "/api/v1/me/totp", token, null);
    assertThat(begun.statusCode()).as(begun.body()).isEqualTo(201);
    String secret = json(begun).path("secret").asText();
    long step = now();
    HttpResponse<String> confirmed =
        fx.send(
            "POST",
            "/api/v1/me/totp/confirm",
            token,
            "{\"code\":\"" + codeAt(secret, step) + "\"}");
    assertThat(confirmed.statusCode()).as(confirmed.body()).isEqualTo(200);
    List<String> recovery = new ArrayList<>();
    json(confirmed).path("recovery_codes").forEach(n -> recovery.add(n.asText()));
    return new Enrolled(token, secret, recovery, step);
  }

  @Test
  void enrolmentShowsTheSecretOnceAndStoresItEncryptedWithRecoveryCodesAsHashes() throws Exception {
    // why: the QR code and secret are for the user's app, the database keeps neither in clear
    var created = admin.admins.create("enrol", Role.OPERATOR);
    String token = created.token();
    String id = created.record().id();
    HttpResponse<String> r = admin.send("POST", "/api/v1/me/totp", token, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonNode b = json(r);
    String secret = b.path("secret").asText();
    assertThat(TotpTest.base32Decode(secret)).hasSize(20); // 160 bits
    assertThat(b.path("uri").asText())
        .startsWith("otpauth://totp/Gatehouse:enrol?secret=" + secret + "&issuer=Gatehouse");
    assertThat(b.path("qr_svg").asText()).startsWith("<svg").endsWith("</svg>");
    JsonNode status = json(admin.send("GET", "/api/v1/me/totp", token, null));
    assertThat(status.path("pending").asBoolean()).isTrue();
    assertThat(status.path("enrolled").asBoolean()).isFalse();
    // Pending: a login needs no code yet.
    assertThat(login(admin, Map.of("token", token)).statusCode()).isEqualTo(200);

    AdminTotpRecord stored = admin.stores.admins().findTotp(id).orElseThrow();
    assertThat(new String(stored.encryptedSecret(), StandardCharsets.ISO_8859_1))
        .doesNotContain(new String(TotpTest.base32Decode(secret), StandardCharsets.ISO_8859_1))
        .doesNotContain(secret);

    HttpResponse<String> wrong =
        admin.send("POST", "/api/v1/me/totp/confirm", token, "{\"code\":\"000000\"}");
    if (!codeAt(secret, now()).equals("000000")) {
      assertThat(wrong.statusCode()).isEqualTo(403);
      assertThat(code(json(wrong))).isEqualTo("admin.second_factor_invalid");
    }
    HttpResponse<String> ok =
        admin.send(
            "POST",
            "/api/v1/me/totp/confirm",
            token,
            "{\"code\":\"" + codeAt(secret, now()) + "\"}");
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    List<String> codes = new ArrayList<>();
    json(ok).path("recovery_codes").forEach(n -> codes.add(n.asText()));
    assertThat(codes).hasSize(10).doesNotHaveDuplicates();
    assertThat(admin.stores.admins().findTotp(id).orElseThrow().recoveryCodesLeft()).isEqualTo(10);
    status = json(admin.send("GET", "/api/v1/me/totp", token, null));
    assertThat(status.path("enrolled").asBoolean()).isTrue();
    assertThat(status.path("recovery_codes_left").asInt()).isEqualTo(10);
    // Shown once: a second enrolment is refused while this one stands.
    HttpResponse<String> again = admin.send("POST", "/api/v1/me/totp", token, null);
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(code(json(again))).isEqualTo("admin.totp_enrolled");
  }

  @Test
  void aLoginNeedsACodeAcceptsAComputedOneAndRefusesItsReplay() throws Exception {
    // why: the second factor must be checked, and a code seen over a shoulder must not work again
    Enrolled e = enrol(admin, "login", Role.VIEWER);

    HttpResponse<String> none = login(admin, Map.of("token", e.token()));
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(code(json(none))).isEqualTo("admin.second_factor_required");
    assertThat(none.headers().firstValue("Set-Cookie")).isEmpty();

    // The confirming code's step is used up: its code opens no session.
    HttpResponse<String> sameAsConfirm =
        login(admin, Map.of("token", e.token(), "code", codeAt(e.secret(), e.step())));
    assertThat(sameAsConfirm.statusCode()).isEqualTo(401);
    assertThat(code(json(sameAsConfirm))).isEqualTo("admin.second_factor_invalid");

    String next = codeAt(e.secret(), e.step() + 1);
    HttpResponse<String> ok = login(admin, Map.of("token", e.token(), "code", next));
    Session s = session(admin, ok);
    assertThat(json(ok).path("second_factor").asBoolean()).isTrue();
    assertThat(s.send("GET", "/api/v1/me", null).statusCode()).isEqualTo(200);

    HttpResponse<String> replay = login(admin, Map.of("token", e.token(), "code", next));
    assertThat(replay.statusCode()).isEqualTo(401);
    assertThat(code(json(replay))).isEqualTo("admin.second_factor_invalid");
    assertThat(replay.headers().firstValue("Set-Cookie")).isEmpty();

    // Bearer use of the API is unchanged: the token is the CLI's credential.
    assertThat(admin.send("GET", "/api/v1/me", e.token(), null).statusCode()).isEqualTo(200);
  }

  @Test
  void aWrongCodeIsRefusedAndAWrongTokenNeverRevealsTheSecondFactor() throws Exception {
    // why: the code is looked at only once the token proved right: without the token, every
    // answer is the usual 401, whatever the code
    Enrolled e = enrol(admin, "wrong", Role.VIEWER);
    String bad = "000000";
    for (long d = -1; d <= 1; d++) {
      if (codeAt(e.secret(), now() + d).equals(bad)) {
        bad = "999999";
      }
    }
    HttpResponse<String> wrong = login(admin, Map.of("token", e.token(), "code", bad));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(code(json(wrong))).isEqualTo("admin.second_factor_invalid");

    String token = e.token();
    char last = token.charAt(token.length() - 1);
    // another token: its last character changed (to x, or to y when it was an x already)
    String otherToken = token.substring(0, token.length() - 1) + (last == 'x' ? 'y' : 'x');
    for (Map<String, String> body :
        List.of(
            Map.of("token", otherToken),
            Map.of("token", otherToken, "code", codeAt(e.secret(), now())),
            Map.of("token", otherToken, "recovery_code", e.recovery().getFirst()))) {
      HttpResponse<String> r = login(admin, body);
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(code(json(r))).isEqualTo("admin.credential_missing");
    }
    // Not used up by the refusals above.
    assertThat(login(admin, Map.of("token", e.token(), "recovery_code", e.recovery().getFirst())))
        .extracting(HttpResponse::statusCode)
        .isEqualTo(200);
  }

  @Test
  void aRecoveryCodeWorksOnceAndRemovalNeedsAFactor() throws Exception {
    // why: recovery codes stand in for a lost phone, once each; removal must not be a way around
    Enrolled e = enrol(admin, "recover", Role.OPERATOR);
    String rc = e.recovery().get(3);
    Session s = session(admin, login(admin, Map.of("token", e.token(), "recovery_code", rc)));
    HttpResponse<String> again = login(admin, Map.of("token", e.token(), "recovery_code", rc));
    assertThat(again.statusCode()).isEqualTo(401);
    assertThat(code(json(again))).isEqualTo("admin.second_factor_invalid");
    assertThat(json(s.send("GET", "/api/v1/me/totp", null)).path("recovery_codes_left").asInt())
        .isEqualTo(9);

    HttpResponse<String> noCode = s.send("DELETE", "/api/v1/me/totp", "{}");
    assertThat(noCode.statusCode()).isEqualTo(400);
    HttpResponse<String> removed =
        s.send(
            "DELETE", "/api/v1/me/totp", "{\"code\":\"" + codeAt(e.secret(), e.step() + 1) + "\"}");
    assertThat(removed.statusCode()).as(removed.body()).isEqualTo(204);
    assertThat(login(admin, Map.of("token", e.token())).statusCode()).isEqualTo(200);
    assertThat(s.send("DELETE", "/api/v1/me/totp", "{\"code\":\"123456\"}").statusCode())
        .isEqualTo(404);
  }

  @Test
  void prodLimitsAnAdminSessionWithoutASecondFactorToEnrolment() throws Exception {
    // why: profile prod requires a second factor for admin dashboard logins; the admin must still
    // be able to enrol from the dashboard, and other roles and bearer tokens are unchanged
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("totp-prod");
    var cert =
        dev.gatehouse.tls.SelfSigned.write(
            List.of("127.0.0.1"),
            java.time.Duration.ofDays(1),
            dir.resolve("cert.pem"),
            dir.resolve("key.pem"));
    Map<String, String> prod = new HashMap<>();
    prod.put("profile", "prod");
    prod.put("tls.cert", cert.cert().toString());
    prod.put("tls.key", cert.key().toString());
    prod.put("probes.action", "ban");
    prod.put("cors.origins", "https://app.example");
    try (AdminFixture fx = AdminFixture.start(prod)) {
      String adminToken = fx.tokens.get(Role.ADMIN);
      HttpResponse<String> in = login(fx, Map.of("token", adminToken));
      assertThat(json(in).path("enrolment_required").asBoolean()).isTrue();
      Session s = session(fx, in);
      HttpResponse<String> keys = s.send("GET", "/api/v1/keys", null);
      assertThat(keys.statusCode()).isEqualTo(403);
      assertThat(code(json(keys))).isEqualTo("admin.second_factor_enrolment_required");
      assertThat(s.send("GET", "/api/v1/me", null).statusCode()).isEqualTo(200);
      assertThat(json(s.send("GET", "/api/v1/me/totp", null)).path("required").asBoolean())
          .isTrue();

      // Other roles, and the admin's bearer token, are not held back.
      Session op = session(fx, login(fx, Map.of("token", fx.tokens.get(Role.OPERATOR))));
      assertThat(op.send("GET", "/api/v1/keys", null).statusCode()).isEqualTo(200);
      assertThat(fx.send("GET", "/api/v1/keys", adminToken, null).statusCode()).isEqualTo(200);

      // Enrolling from the held-back session lifts the limit for it.
      HttpResponse<String> begun = s.send("POST", "/api/v1/me/totp", null);
      assertThat(begun.statusCode()).as(begun.body()).isEqualTo(201);
      String secret = json(begun).path("secret").asText();
      long step = now();
      HttpResponse<String> confirmed =
          s.send("POST", "/api/v1/me/totp/confirm", "{\"code\":\"" + codeAt(secret, step) + "\"}");
      assertThat(confirmed.statusCode()).as(confirmed.body()).isEqualTo(200);
      assertThat(s.send("GET", "/api/v1/keys", null).statusCode()).isEqualTo(200);

      // A new login needs the code, and is then whole.
      HttpResponse<String> with =
          login(fx, Map.of("token", adminToken, "code", codeAt(secret, step + 1)));
      assertThat(json(with).path("enrolment_required").asBoolean()).isFalse();
      assertThat(session(fx, with).send("GET", "/api/v1/keys", null).statusCode()).isEqualTo(200);
    }
  }
}

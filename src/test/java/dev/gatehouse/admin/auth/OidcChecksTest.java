package dev.gatehouse.admin.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.gatehouse.admin.AdminFixture;
import dev.gatehouse.admin.Role;
import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.OidcSection;
import dev.gatehouse.gateway.ConfigChecks;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The checks of the dashboard's single sign-on that need no provider: the ID token (signed here),
 * the role mapping, the issuer's scheme, and the single use of a login's state.
 */
class OidcChecksTest {

  private static final String ISSUER = "https://sso.example.test/realms/acme";
  private static final String CLIENT = "gatehouse-dashboard";
  private static final String NONCE = "n-0S6_WzA2Mj";

  private static RSAKey rsa;
  private static RSAKey otherRsa;
  private static ECKey ec;
  private static OidcProvider provider;
  private static JWKSource<SecurityContext> keys;

  @BeforeAll
  static void keys() throws Exception {
    rsa = new RSAKeyGenerator(2048).keyID("r1").generate();
    otherRsa = new RSAKeyGenerator(2048).keyID("r1").generate(); // same kid, another key
    ec = new ECKeyGenerator(Curve.P_256).keyID("e1").generate();
    keys = new ImmutableJWKSet<>(new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK())));
    provider =
        new OidcProvider(
            new GatehouseConfig.Oidc(
                URI.create(ISSUER), CLIENT, null, null, "groups", Map.of("ops", "operator")),
            Clock.systemUTC());
  }

  private static JWTClaimsSet.Builder claims() {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .audience(CLIENT)
        .subject("2f6c1f0e-user")
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(300)))
        .claim("nonce", NONCE)
        .claim("groups", List.of("ops"));
  }

  private static String rs256(UnaryOperator<JWTClaimsSet.Builder> change) throws Exception {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("r1").build(),
            change.apply(claims()).build());
    jwt.sign(new RSASSASigner(rsa));
    return jwt.serialize();
  }

  private static void refused(String token) {
    assertThatThrownBy(() -> provider.verify(token, keys, NONCE))
        .isInstanceOf(OidcProvider.Failure.class);
  }

  @Test
  void aWellSignedTokenForThisClientPasses() throws Exception {
    assertThat(provider.verify(rs256(b -> b), keys, NONCE).getSubject()).isEqualTo("2f6c1f0e-user");
    SignedJWT es =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("e1").build(), claims().build());
    es.sign(new ECDSASigner(ec));
    assertThat(provider.verify(es.serialize(), keys, NONCE).getSubject()).isNotNull();
  }

  @Test
  void wrongIssuerAudienceNonceOrAnExpiredTokenIsRefused() throws Exception {
    refused(rs256(b -> b.issuer("https://evil.example.test/realms/acme")));
    refused(rs256(b -> b.audience("another-client")));
    refused(rs256(b -> b.claim("nonce", "replayed")));
    refused(rs256(b -> b.claim("nonce", null)));
    refused(
        rs256(
            b ->
                b.expirationTime(Date.from(Instant.now().minus(Duration.ofMinutes(5))))
                    .issueTime(Date.from(Instant.now().minus(Duration.ofMinutes(10))))));
    refused(rs256(b -> b.subject(null)));
    // several audiences: azp must be this client
    refused(rs256(b -> b.audience(List.of(CLIENT, "other")).claim("azp", "other")));
    assertThat(
            provider.verify(
                rs256(b -> b.audience(List.of(CLIENT, "other")).claim("azp", CLIENT)), keys, NONCE))
        .isNotNull();
  }

  @Test
  void noneHmacAndABadSignatureAreRefused() throws Exception {
    refused(new PlainJWT(claims().build()).serialize());
    // HS256 keyed with the RSA public key's bytes (RS/HS confusion) and with any secret
    SignedJWT hs =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("r1").build(), claims().build());
    hs.sign(new MACSigner(rsa.toRSAPublicKey().getEncoded()));
    refused(hs.serialize());
    SignedJWT forged =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("r1").build(), claims().build());
    forged.sign(new RSASSASigner(otherRsa));
    refused(forged.serialize());
    // RS512 is not on the allowlist even with the right key
    SignedJWT rs512 =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS512).keyID("r1").build(), claims().build());
    rs512.sign(new RSASSASigner(rsa));
    refused(rs512.serialize());
  }

  @Test
  void theHighestMappedRoleWinsAndNoMatchIsNoRole() {
    Map<String, Object> claims =
        Map.of(
            "groups", List.of("staff", "ops"),
            "realm_access", Map.of("roles", List.of("gh-admin", 7)),
            "single", "ops");
    Map<String, String> mapping = Map.of("ops", "operator", "gh-admin", "admin", "staff", "viewer");
    assertThat(OidcClaims.role(OidcClaims.values(claims, "groups"), mapping))
        .isEqualTo(Role.OPERATOR);
    assertThat(OidcClaims.role(OidcClaims.values(claims, "realm_access.roles"), mapping))
        .isEqualTo(Role.ADMIN);
    assertThat(OidcClaims.values(claims, "single")).containsExactly("ops");
    assertThat(OidcClaims.role(OidcClaims.values(claims, "missing.path"), mapping)).isNull();
    assertThat(OidcClaims.role(List.of("staffer"), mapping)).isNull();
    assertThat(OidcClaims.principal(ISSUER, "abc", "olivia", Role.VIEWER).id())
        .isEqualTo("oidc:abc");
    assertThat(OidcClaims.principal(ISSUER, "a\nb", null, Role.VIEWER).id())
        .matches("oidc:[0-9a-f]{16}");
  }

  @Test
  void theIssuerIsHttpsOrLoopback() {
    assertThat(OidcSection.httpsOrLoopback(ISSUER, false)).isNotNull();
    assertThat(OidcSection.httpsOrLoopback("http://127.0.0.1:8080/realms/x", false)).isNotNull();
    assertThat(OidcSection.httpsOrLoopback("http://localhost:8080/realms/x/", false))
        .hasToString("http://localhost:8080/realms/x/");
    assertThat(OidcSection.httpsOrLoopback("https://admin.example.test/", true))
        .hasToString("https://admin.example.test");
    assertThat(OidcSection.httpsOrLoopback("http://sso.example.test/realms/x", false)).isNull();
    assertThat(OidcSection.httpsOrLoopback("https://u:p@sso.example.test", false)).isNull();
    assertThat(OidcSection.httpsOrLoopback("https://sso.example.test/x?y=1", false)).isNull();
    assertThat(OidcSection.httpsOrLoopback("https://admin.example.test/path", true)).isNull();
  }

  @Test
  void theSettingsAreCheckedWhenTheConfigLoads() throws Exception {
    Map<String, String> good =
        Map.of(
            "admin.oidc.issuer",
            ISSUER,
            "admin.oidc.client_id",
            CLIENT,
            "admin.oidc.roles_claim",
            "realm_access.roles",
            "admin.oidc.roles",
            "gh-view=viewer, gh-ops=operator,gh-ops=viewer,gh-root=ADMIN");
    GatehouseConfig.Oidc o =
        ConfigLoader.load(null, false, Map.of(), good, ConfigChecks.ALL).admin().oidc();
    assertThat(o.enabled()).isTrue();
    assertThat(o.issuer()).hasToString(ISSUER);
    assertThat(o.roles())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("gh-view", "viewer", "gh-ops", "operator", "gh-root", "admin"));
    assertThat(ConfigLoader.load(null, false, Map.of(), Map.of(), ConfigChecks.ALL).admin().oidc())
        .isEqualTo(GatehouseConfig.Oidc.OFF);
    Map<String, String> bad =
        Map.of(
            "admin.oidc.issuer", "http://sso.example.test/realms/acme", // clear text off loopback
            "admin.oidc.client_id", "",
            "admin.oidc.roles", "gh-ops=superuser",
            "admin.oidc.redirect_base", "https://admin.example.test/x");
    assertThatThrownBy(() -> ConfigLoader.load(null, false, Map.of(), bad, ConfigChecks.ALL))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("admin.oidc.issuer")
        .hasMessageContaining("admin.oidc.client_id")
        .hasMessageContaining("admin.oidc.roles")
        .hasMessageContaining("admin.oidc.redirect_base");
  }

  @Test
  void withSingleSignOnOffTheRoutesSaySoAndAnUnreachableProviderIs503() throws Exception {
    try (AdminFixture off = AdminFixture.start(Map.of())) {
      assertThat(off.send("GET", OidcRoutes.INFO, null, null).body())
          .isEqualTo("{\"enabled\":false}");
      assertThat(off.send("GET", OidcRoutes.LOGIN, null, null).statusCode()).isEqualTo(404);
      assertThat(off.send("GET", OidcRoutes.CALLBACK + "?state=a&code=b", null, null).statusCode())
          .isEqualTo(404);
    }
    int closed = KeycloakServer.freePort(); // nothing listens there
    try (AdminFixture down =
        AdminFixture.start(
            Map.of(
                "admin.oidc.issuer",
                "http://127.0.0.1:" + closed + "/realms/x",
                "admin.oidc.client_id",
                CLIENT,
                "admin.oidc.roles",
                "ops=operator"))) {
      var r = down.send("GET", OidcRoutes.LOGIN, null, null);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).contains("admin.oidc_unavailable");
      assertThat(r.headers().allValues("Set-Cookie")).isEmpty();
    }
  }

  @Test
  void aStateIsTakenOnceInTheBrowserThatStartedItAndExpires() {
    Instant[] now = {Instant.parse("2026-12-01T10:00:00Z")};
    Clock clock =
        new Clock() {
          @Override
          public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }

          @Override
          public Instant instant() {
            return now[0];
          }
        };
    OidcLogins logins = new OidcLogins(clock);
    OidcLogins.Started a = logins.start("http://127.0.0.1:1/api/v1/oidc/callback");
    assertThat(a.challenge()).matches("[A-Za-z0-9_-]{43}");
    assertThat(logins.take(a.state(), a.cookie())).isNotNull();
    assertThat(logins.take(a.state(), a.cookie())).as("replayed").isNull();
    OidcLogins.Started b = logins.start("u");
    assertThat(logins.take(b.state(), "another browser's cookie")).isNull();
    assertThat(logins.take(b.state(), b.cookie())).as("spent by the failed try").isNull();
    OidcLogins.Started c = logins.start("u");
    now[0] = now[0].plus(OidcLogins.TTL);
    assertThat(logins.take(c.state(), c.cookie())).as("expired").isNull();
    assertThat(logins.take(null, c.cookie())).isNull();
    assertThat(logins.size()).isZero();
  }
}

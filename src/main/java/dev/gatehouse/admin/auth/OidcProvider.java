package dev.gatehouse.admin.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.OidcSection;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The OpenID provider as the dashboard's login sees it: its discovery document (cached for an
 * hour), the code exchange at its token endpoint, and the check of the ID token it returns
 * (signature by a key of its JWKS with RS256 or ES256 only, {@code iss}, {@code aud}, {@code azp},
 * {@code exp}, {@code nonce}). Every method blocks on the network: call it off the event loop.
 * Thread-safe.
 */
final class OidcProvider {

  /** The only signature algorithms accepted: never {@code none}, never an HMAC. */
  static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256);

  static final Duration DISCOVERY_TTL = Duration.ofHours(1);
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A failure of the sign-in; {@code unavailable} when the provider could not be reached. */
  static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;
    final boolean unavailable;

    Failure(String reason, boolean unavailable) {
      super(reason);
      this.unavailable = unavailable;
    }
  }

  /** The endpoints from discovery, and a key source on its JWKS. */
  record Endpoints(
      URI authorization, URI token, JWKSource<SecurityContext> keys, Instant fetched) {}

  private final GatehouseConfig.Oidc config;
  private final String issuer;
  private final @Nullable String clientSecret;
  private final HttpClient http;
  private final Clock clock;
  private final AtomicReference<@Nullable Endpoints> endpoints = new AtomicReference<>();

  OidcProvider(GatehouseConfig.Oidc config, Clock clock) throws IOException {
    this.config = config;
    URI iss = config.issuer();
    if (iss == null) {
      throw new IllegalArgumentException("admin.oidc.issuer is not set");
    }
    this.issuer = iss.toString();
    this.clientSecret =
        config.clientSecretFile() == null
            ? null
            : Files.readString(config.clientSecretFile(), StandardCharsets.UTF_8).strip();
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    this.clock = clock;
  }

  String issuer() {
    return issuer;
  }

  /** The endpoints, from the cache or fetched again when over an hour old. Blocking. */
  Endpoints endpoints() throws Failure {
    Endpoints e = endpoints.get();
    if (e != null && clock.instant().isBefore(e.fetched().plus(DISCOVERY_TTL))) {
      return e;
    }
    Endpoints fresh = discover();
    endpoints.set(fresh);
    return fresh;
  }

  private Endpoints discover() throws Failure {
    // OpenID Connect Discovery 1.0, 4: the issuer without a trailing slash, then the well-known
    // path.
    String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
    JsonNode doc = getJson(URI.create(base + "/.well-known/openid-configuration"));
    // OpenID Connect Discovery 1.0, 4.3: the document must name exactly the configured issuer,
    // or another provider could be speaking for it.
    if (!issuer.equals(doc.path("issuer").asText())) {
      throw new Failure("discovery names issuer " + doc.path("issuer").asText(), false);
    }
    URI auth = endpoint(doc, "authorization_endpoint");
    URI token = endpoint(doc, "token_endpoint");
    URI jwks = endpoint(doc, "jwks_uri");
    try {
      JWKSource<SecurityContext> keys =
          JWKSourceBuilder.<SecurityContext>create(
                  jwks.toURL(),
                  new DefaultResourceRetriever(
                      (int) TIMEOUT.toMillis(), (int) TIMEOUT.toMillis(), 512 * 1024))
              .retrying(false)
              .build();
      return new Endpoints(auth, token, keys, clock.instant());
    } catch (IOException | IllegalArgumentException ex) {
      throw new Failure("jwks_uri: " + ex.getMessage(), false);
    }
  }

  /** An endpoint of the discovery document: https, or http on loopback, like the issuer. */
  private static URI endpoint(JsonNode doc, String name) throws Failure {
    String text = doc.path(name).asText("");
    // The endpoints may have a query; check the part before it as the issuer is checked.
    int q = text.indexOf('?');
    if (text.isEmpty()
        || OidcSection.httpsOrLoopback(q < 0 ? text : text.substring(0, q), false) == null) {
      throw new Failure("discovery has no usable " + name, false);
    }
    return URI.create(text);
  }

  /** Where to send the browser to sign in. */
  URI authorizationUri(String redirectUri, OidcLogins.Started s) throws Failure {
    Map<String, String> q = new LinkedHashMap<>();
    q.put("response_type", "code");
    q.put("client_id", config.clientId());
    q.put("redirect_uri", redirectUri);
    q.put("scope", "openid profile");
    q.put("state", s.state());
    q.put("nonce", s.nonce());
    q.put("code_challenge", s.challenge());
    q.put("code_challenge_method", "S256");
    URI auth = endpoints().authorization();
    String sep = auth.getRawQuery() == null ? "?" : "&";
    return URI.create(auth + sep + form(q));
  }

  /**
   * Trades the code for tokens and checks the ID token; returns its claims. Neither the code nor
   * any token is ever put in a failure's reason.
   */
  JWTClaimsSet exchange(String code, OidcLogins.Pending p) throws Failure {
    Endpoints e = endpoints();
    Map<String, String> body = new LinkedHashMap<>();
    body.put("grant_type", "authorization_code");
    body.put("code", code);
    body.put("redirect_uri", p.redirectUri());
    body.put("client_id", config.clientId());
    body.put("code_verifier", p.verifier());
    HttpRequest.Builder req =
        HttpRequest.newBuilder(e.token())
            .timeout(TIMEOUT)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(form(body)));
    if (clientSecret != null) {
      // client_secret_basic (RFC 6749, 2.3.1): both parts form-encoded before Base64.
      String basic = enc(config.clientId()) + ":" + enc(clientSecret);
      req.header(
          "Authorization",
          "Basic " + Base64.getEncoder().encodeToString(basic.getBytes(StandardCharsets.UTF_8)));
    }
    HttpResponse<String> res = send(req.build());
    JsonNode json = parse(res.body(), "token endpoint");
    if (res.statusCode() != 200) {
      // Only the error code, which is a short word: the body of an error never carries a token,
      // but its description is the provider's free text.
      String err = json.path("error").asText("").replaceAll("[^A-Za-z0-9_.-]", "");
      throw new Failure("token endpoint answered " + res.statusCode() + " " + err, false);
    }
    String idToken = json.path("id_token").asText("");
    if (idToken.isEmpty()) {
      throw new Failure("token endpoint answered no id_token", false);
    }
    return verify(idToken, e.keys(), p.nonce());
  }

  /** Checks an ID token: signature, iss, aud, azp, exp, iat, sub and nonce. */
  JWTClaimsSet verify(String idToken, JWKSource<SecurityContext> keys, String nonce)
      throws Failure {
    DefaultJWTProcessor<SecurityContext> proc = new DefaultJWTProcessor<>();
    proc.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, keys));
    proc.setJWTClaimsSetVerifier(
        new DefaultJWTClaimsVerifier<>(
            config.clientId(),
            new JWTClaimsSet.Builder().issuer(issuer).claim("nonce", nonce).build(),
            Set.of("sub", "iat", "exp")));
    JWTClaimsSet claims;
    try {
      claims = proc.process(idToken, null);
    } catch (com.nimbusds.jose.KeySourceException ex) {
      throw new Failure("the provider's JWKS cannot be read: " + ex.getMessage(), true);
    } catch (Exception ex) {
      throw new Failure("ID token refused: " + ex.getMessage(), false);
    }
    // OpenID Connect Core 3.1.3.7: with several audiences, azp must be this client.
    List<String> aud = claims.getAudience();
    Object azp = claims.getClaim("azp");
    if ((aud.size() > 1 || azp != null) && !config.clientId().equals(azp)) {
      throw new Failure("ID token refused: azp is not this client", false);
    }
    return claims;
  }

  private JsonNode getJson(URI uri) throws Failure {
    HttpResponse<String> res =
        send(
            HttpRequest.newBuilder(uri)
                .timeout(TIMEOUT)
                .header("Accept", "application/json")
                .GET()
                .build());
    if (res.statusCode() != 200) {
      throw new Failure(uri + " answered " + res.statusCode(), true);
    }
    return parse(res.body(), uri.toString());
  }

  private HttpResponse<String> send(HttpRequest req) throws Failure {
    try {
      return http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException ex) {
      throw new Failure(req.uri().getHost() + " unreachable: " + ex.getMessage(), true);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new Failure("interrupted", true);
    }
  }

  private static JsonNode parse(String body, String what) throws Failure {
    try {
      JsonNode n = JSON.readTree(body);
      if (n == null || !n.isObject()) {
        throw new IOException("not a JSON object");
      }
      return n;
    } catch (IOException ex) {
      throw new Failure(what + " answered no JSON object", false);
    }
  }

  private static String form(Map<String, String> fields) {
    return fields.entrySet().stream()
        .map(f -> enc(f.getKey()) + "=" + enc(f.getValue()))
        .collect(Collectors.joining("&"));
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}

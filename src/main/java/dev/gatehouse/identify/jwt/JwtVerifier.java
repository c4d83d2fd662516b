package dev.gatehouse.identify.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.text.ParseException;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Verifies a bearer JWT against the identity provider's key set and turns it into a {@link
 * Principal}. Checks, in order: the shape, the algorithm against {@code jwt.algorithms} (never
 * {@code none} or HMAC), {@code typ}, {@code iss}, {@code aud}, {@code exp} (required) and {@code
 * nbf} with {@code jwt.clock_skew}, then the signature with a key of the set chosen by the header's
 * {@code kid}, algorithm and key type. The claims are read before the signature only to choose
 * between refusals: nothing is granted until the signature holds.
 *
 * <p>Every refusal is the same 401 {@link Problem#KEY_INVALID} as a bad key, with the reason for
 * the log only, except one: a token that passes every check that can be made without its key, whose
 * key is not in the cached set, while the set cannot be fetched, gets 503 {@link
 * Problem#JWKS_UNAVAILABLE} (it may be valid; the client should retry, not re-authenticate). An
 * unknown {@code kid} starts a fetch of the set (rate-limited by {@link JwksSource}); the request
 * waits for it on a Vert.x future, never blocking its event loop. Thread-safe.
 */
public final class JwtVerifier {

  /**
   * Three base64url parts: what a compact JWS looks like (an unsigned token's last part is empty).
   */
  private static final Pattern COMPACT =
      Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");

  /** The {@code typ} values of an access token; none is accepted too (most providers omit it). */
  private static final DefaultJOSEObjectTypeVerifier<SecurityContext> TYP =
      new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null);

  /** Either a principal or a refusal. */
  public record Outcome(@Nullable Principal principal, @Nullable Rejection rejection) {}

  private final GatehouseConfig.Jwt config;
  private final JwksSource source;
  private final JwtPrincipals principals;
  private final Set<String> algorithms;

  public JwtVerifier(GatehouseConfig.Jwt config, JwksSource source) {
    this.config = config;
    this.source = source;
    this.principals = new JwtPrincipals(config);
    this.algorithms = Set.copyOf(config.algorithms());
  }

  /** The settings this verifier was built from (a reload keeps it when they did not change). */
  public GatehouseConfig.Jwt config() {
    return config;
  }

  /** Whether this verifier fetches its keys from a URL (a reload may keep it and its cache). */
  public boolean fetches() {
    return source.fetches();
  }

  /** Whether a presented credential has the shape of a JWT (API keys never do). */
  public static boolean looksLikeJwt(String credential) {
    return COMPACT.matcher(credential).matches();
  }

  /** Verifies {@code token} at {@code now}; the future never fails. */
  public Future<Outcome> verify(String token, Instant now) {
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(token); // an alg none header is not a JWS header: refused here
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException | IllegalArgumentException e) {
      return deny("malformed JWT: " + e.getMessage());
    }
    JWSHeader header = jwt.getHeader();
    String alg = header.getAlgorithm().getName();
    if (!algorithms.contains(alg)) {
      // why: the allowlist never holds none or HS*; checking it before any key is looked at is
      // what stops the RS/HS confusion (an HS256 token "signed" with the public key)
      return deny("algorithm " + alg + " not allowed");
    }
    try {
      TYP.verify(header.getType(), null);
      claimsVerifier(now).verify(claims, null);
    } catch (BadJOSEException e) {
      return deny("claims refused: " + e.getMessage());
    }
    if (candidates(header).isEmpty() && source.fetches()) {
      // unknown kid: maybe the provider rotated its keys; fetch (rate-limited) and look again
      Context context = Vertx.currentContext();
      Future<Void> fetched =
          context == null
              ? Future.fromCompletionStage(source.refetch())
              : Future.fromCompletionStage(source.refetch(), context);
      return fetched.map(v -> finish(jwt, claims));
    }
    return Future.succeededFuture(finish(jwt, claims));
  }

  private Outcome finish(SignedJWT jwt, JWTClaimsSet claims) {
    JWSHeader header = jwt.getHeader();
    List<JWK> keys = candidates(header);
    if (keys.isEmpty()) {
      String why = "no key in the JWKS for kid " + printable(header.getKeyID());
      return source.unavailable()
          // Fail closed either way: 503 says "may be valid, retry"; nothing passes unchecked
          ? new Outcome(
              null, Rejection.logged(Problem.JWKS_UNAVAILABLE, why + " (JWKS unavailable)"))
          : outcome(why);
    }
    for (JWK key : keys) {
      try {
        if (jwt.verify(verifier(key))) {
          try {
            return new Outcome(principals.principal(claims), null);
          } catch (IllegalArgumentException e) {
            return outcome("claims not mappable: " + e.getMessage());
          }
        }
      } catch (JOSEException e) {
        // a key that cannot verify this algorithm: try the next, refuse if none does
      }
    }
    return outcome("bad signature");
  }

  private static JWSVerifier verifier(JWK key) throws JOSEException {
    // Only public RSA and EC keys: JwksSource dropped every symmetric key, and the algorithm was
    // matched to the key type by the selector
    if (key instanceof RSAKey rsa) {
      return new RSASSAVerifier(rsa);
    }
    if (key instanceof ECKey ec) {
      return new ECDSAVerifier(ec);
    }
    throw new JOSEException("unsupported key type " + key.getKeyType());
  }

  private List<JWK> candidates(JWSHeader header) {
    JWKSet keys = source.keys();
    return keys == null ? List.of() : new JWKSelector(JWKMatcher.forJWSHeader(header)).select(keys);
  }

  private DefaultJWTClaimsVerifier<SecurityContext> claimsVerifier(Instant now) {
    Set<String> audience = config.audience().isEmpty() ? null : Set.of(config.audience());
    DefaultJWTClaimsVerifier<SecurityContext> v =
        new DefaultJWTClaimsVerifier<>(
            audience,
            new JWTClaimsSet.Builder().issuer(config.issuer()).build(),
            Set.of("iss", "sub", "exp"),
            null) {
          @Override
          protected Date currentTime() {
            return Date.from(now);
          }
        };
    v.setMaxClockSkew((int) Math.min(Integer.MAX_VALUE, config.clockSkew().toSeconds()));
    return v;
  }

  private static String printable(@Nullable String s) {
    if (s == null) {
      return "(none)";
    }
    String t = s.length() > 64 ? s.substring(0, 64) : s;
    return t.chars().allMatch(c -> c >= 0x20 && c < 0x7f) ? t : "(unprintable)";
  }

  private static Future<Outcome> deny(String reason) {
    return Future.succeededFuture(outcome(reason));
  }

  private static Outcome outcome(String reason) {
    return new Outcome(null, Rejection.logged(Problem.KEY_INVALID, "JWT: " + reason));
  }
}

package dev.gatehouse.identify;

import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.identify.cert.CertPrincipals;
import dev.gatehouse.identify.cert.PeerCertificate;
import dev.gatehouse.identify.jwt.JwtVerifier;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.store.StoreException;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The identify stage: finds the API key in a request and turns it into a {@link Principal}.
 *
 * <p>The key may come as {@code Authorization: Bearer}, as {@code x-api-key}, or as the password
 * (or, with an empty password, the user name) of HTTP Basic, for tools that can only do Basic.
 * Every failure, whether missing, malformed, unknown, wrong, expired or revoked, is the same {@link
 * Problem#KEY_INVALID}; the reason goes to the log only. The stored hash is checked in constant
 * time, and a hash is computed even for unknown ids so that timing does not reveal which ids exist.
 *
 * <p>With {@code tls.client_auth} on, a request with no API key may instead be identified by the
 * client certificate its connection's handshake verified ({@link CertPrincipals}). A request with a
 * key is identified by the key even when its connection has a certificate: the key is the
 * credential this request chose, it is revocable in the store at once ({@code gatehouse keys
 * revoke}), and it keeps every keyed client's scopes, limits and audit name unchanged when mTLS is
 * turned on as a transport check in front of keys ({@code required}). A certificate that maps to no
 * principal gets the same {@link Problem#KEY_INVALID} as a bad key.
 *
 * <p>With {@code jwt.*} configured, a credential shaped like a JWT (three base64url parts; API keys
 * never are) goes to the {@link JwtVerifier} instead, and a verified token becomes a principal of
 * the same kind as a key's. A refused token gets the same answer as a bad key.
 *
 * <p>Reads keys from the in-memory {@link KeyRing} only: a request makes no store round trip.
 * Thread-safe.
 */
public final class Identifier {

  private static final byte[] NO_HASH = new byte[32];

  /** The principal used for every request when authentication is turned off (loopback only). */
  public static final Principal ANONYMOUS =
      new Principal(
          "-",
          "anonymous",
          Operation.DEFAULT_SCOPES.stream()
              .map(o -> o.scope)
              .collect(Collectors.toUnmodifiableSet()),
          new ModelGlobs(List.of()),
          null,
          KeyLimits.NONE,
          null);

  /** Either a principal or a rejection. */
  public record Identity(@Nullable Principal principal, @Nullable Rejection rejection) {}

  private final boolean enabled;
  private final KeyRing ring;
  private final ApiKeys keys;
  private final CertPrincipals certs;
  private final @Nullable JwtVerifier jwt;

  public Identifier(boolean enabled, KeyRing ring, ApiKeys keys) {
    this(enabled, ring, keys, CertPrincipals.NONE, null);
  }

  public Identifier(boolean enabled, KeyRing ring, ApiKeys keys, CertPrincipals certs) {
    this(enabled, ring, keys, certs, null);
  }

  /**
   * An identifier of keys, of client certificates mapped by {@code certs}, and of JWTs when {@code
   * jwt} is not null.
   */
  public Identifier(
      boolean enabled,
      KeyRing ring,
      ApiKeys keys,
      CertPrincipals certs,
      @Nullable JwtVerifier jwt) {
    this.enabled = enabled;
    this.ring = ring;
    this.keys = keys;
    this.certs = certs;
    this.jwt = jwt;
  }

  /**
   * The identity of a request, keys and JWTs both. A JWT whose key must first be fetched answers
   * later, on the caller's context; everything else answers at once. The future never fails.
   */
  public Future<Identity> resolve(MultiMap headers, PeerCertificate peer, Instant now) {
    JwtVerifier verifier = jwt;
    if (enabled && verifier != null) {
      String presented;
      try {
        presented = credential(headers);
      } catch (IllegalArgumentException e) {
        return Future.succeededFuture(deny(e.getMessage()));
      }
      if (presented != null && JwtVerifier.looksLikeJwt(presented)) {
        return verifier.verify(presented, now).map(o -> new Identity(o.principal(), o.rejection()));
      }
    }
    return Future.succeededFuture(identify(headers, peer, now));
  }

  public Identity identify(MultiMap headers, Instant now) {
    return identify(headers, PeerCertificate.NONE, now);
  }

  /** As {@link #identify(MultiMap, Instant)}, with the connection's client certificate, if any. */
  public Identity identify(MultiMap headers, PeerCertificate peer, Instant now) {
    if (!enabled) {
      return new Identity(ANONYMOUS, null);
    }
    String presented;
    try {
      presented = credential(headers);
    } catch (IllegalArgumentException e) {
      return deny(e.getMessage());
    }
    if (presented == null) {
      X509Certificate cert = peer.leaf();
      if (cert == null) {
        return deny("no credentials");
      }
      CertPrincipals.Match m = certs.identify(cert, now);
      return m.principal() != null ? new Identity(m.principal(), null) : deny(m.reason());
    }
    String id = ApiKeys.idOf(presented);
    java.util.Map<String, KeyRing.Entry> keysById;
    try {
      keysById = ring.current();
    } catch (StoreException e) {
      // Fail closed: without the key store nobody is authenticated.
      return new Identity(null, Rejection.logged(Problem.STORE_UNAVAILABLE, e.getMessage()));
    }
    KeyRing.Entry entry = id == null ? null : keysById.get(id);
    boolean hashOk = keys.matches(presented, entry == null ? NO_HASH : entry.record().hash());
    if (entry == null) {
      return deny(id == null ? "malformed key" : "unknown key id " + id);
    }
    if (!hashOk) {
      return deny("wrong secret for key " + id);
    }
    if (entry.record().revokedAt() != null) {
      return deny("revoked key " + id);
    }
    if (entry.record().expiresAt() != null && !now.isBefore(entry.record().expiresAt())) {
      return deny("expired key " + id);
    }
    return new Identity(entry.principal(), null);
  }

  private static Identity deny(@Nullable String reason) {
    return new Identity(null, Rejection.logged(Problem.KEY_INVALID, reason));
  }

  /**
   * The single credential a request presents, or null for none.
   *
   * @throws IllegalArgumentException when credentials are present but unusable or ambiguous
   */
  static @Nullable String credential(MultiMap headers) {
    List<String> auth = headers.getAll("Authorization");
    List<String> apiKey = headers.getAll("x-api-key");
    if (auth.size() > 1 || apiKey.size() > 1) {
      throw new IllegalArgumentException("repeated credential header");
    }
    String fromAuth = auth.isEmpty() ? null : fromAuthorization(auth.get(0).trim());
    String fromApiKey = apiKey.isEmpty() ? null : apiKey.get(0).trim();
    if (fromAuth != null && fromApiKey != null && !fromAuth.equals(fromApiKey)) {
      throw new IllegalArgumentException("Authorization and x-api-key disagree");
    }
    return fromAuth != null ? fromAuth : fromApiKey;
  }

  private static final Set<String> SCHEMES = Set.of("bearer", "basic");

  private static String fromAuthorization(String value) {
    int sp = value.indexOf(' ');
    String scheme = (sp < 0 ? value : value.substring(0, sp)).toLowerCase(Locale.ROOT);
    String rest = sp < 0 ? "" : value.substring(sp + 1).trim();
    if (!SCHEMES.contains(scheme) || rest.isEmpty()) {
      throw new IllegalArgumentException("unsupported Authorization scheme");
    }
    if (scheme.equals("bearer")) {
      return rest;
    }
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(rest), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("malformed Basic credentials");
    }
    int colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("malformed Basic credentials");
    }
    String password = decoded.substring(colon + 1);
    return password.isEmpty() ? decoded.substring(0, colon) : password;
  }
}

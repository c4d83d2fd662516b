package dev.gatehouse.admin.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The single sign-on logins under way: for each {@code state} sent to the provider, the PKCE
 * verifier, the nonce, the redirect URI and a hash of the browser-binding cookie. Kept in memory
 * only, for at most {@link #TTL}, and taken once: a state cannot be replayed, and works only in the
 * browser that started the login (login CSRF). Thread-safe.
 */
final class OidcLogins {

  /** How long the user has at the provider to sign in. */
  static final Duration TTL = Duration.ofMinutes(10);

  /** At most this many logins under way; beyond it the oldest is dropped, so memory is bounded. */
  static final int MAX = 1_000;

  /** One login under way; {@code binding} is the SHA-256 of the browser's binding cookie. */
  record Pending(
      byte[] binding, String verifier, String nonce, String redirectUri, Instant created) {}

  /** What {@link #start} hands out: the state, the cookie value and the PKCE challenge. */
  record Started(String state, String cookie, String challenge, String nonce) {}

  private final Map<String, Pending> byState = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock;

  OidcLogins(Clock clock) {
    this.clock = clock;
  }

  /** Starts a login that will come back to {@code redirectUri}. */
  Started start(String redirectUri) {
    Instant now = clock.instant();
    if (byState.size() >= MAX) {
      byState.values().removeIf(p -> expired(p, now));
      byState.entrySet().stream()
          .min((a, b) -> a.getValue().created().compareTo(b.getValue().created()))
          .ifPresent(e -> byState.remove(e.getKey()));
    }
    String state = randomText();
    String cookie = randomText();
    String verifier = randomText(); // 43 characters of base64url, as RFC 7636 asks (43 to 128)
    String nonce = randomText();
    byState.put(state, new Pending(sha256(cookie), verifier, nonce, redirectUri, now));
    return new Started(
        state,
        cookie,
        Base64.getUrlEncoder().withoutPadding().encodeToString(sha256(verifier)),
        nonce);
  }

  /**
   * The login of {@code state}, which is removed whatever the outcome (single use): null when it is
   * unknown, used, expired, or was started in another browser (its cookie differs).
   */
  @Nullable Pending take(@Nullable String state, @Nullable String cookie) {
    if (state == null || state.isEmpty()) {
      return null;
    }
    Pending p = byState.remove(state);
    if (p == null || cookie == null || expired(p, clock.instant())) {
      return null;
    }
    // Constant time: the cookie is a secret of the browser that started the login.
    return MessageDigest.isEqual(p.binding(), sha256(cookie)) ? p : null;
  }

  int size() {
    return byState.size();
  }

  private static boolean expired(Pending p, Instant now) {
    return !now.isBefore(p.created().plus(TTL));
  }

  private String randomText() {
    byte[] b = new byte[32];
    random.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.US_ASCII));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}

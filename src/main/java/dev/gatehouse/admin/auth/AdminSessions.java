package dev.gatehouse.admin.auth;

import dev.gatehouse.admin.AdminPrincipal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The dashboard's login sessions, kept in memory only (a restart logs everyone out). A session is a
 * 256-bit random cookie value; only its SHA-256 is kept as the key, so a heap dump does not hand
 * out live sessions. A session ends after 30 minutes unused, 12 hours after login, at logout, or
 * when its credential is revoked. Thread-safe.
 */
public final class AdminSessions {

  static final Duration IDLE = Duration.ofMinutes(30);
  static final Duration ABSOLUTE = Duration.ofHours(12);

  /** At most this many sessions; beyond it the oldest is dropped, so memory stays bounded. */
  static final int MAX = 10_000;

  private static final class Session {
    final String credentialId;
    final Instant created;
    volatile Instant lastSeen;

    /** True when the login gave a second factor (or enrolment confirmed one since). */
    volatile boolean secondFactor;

    /**
     * The caller of a single sign-on session, who has no credential in the store: the role was
     * decided at login from the provider's claims. Null for a token login.
     */
    final @Nullable AdminPrincipal federated;

    Session(
        String credentialId,
        Instant created,
        boolean secondFactor,
        @Nullable AdminPrincipal federated) {
      this.credentialId = credentialId;
      this.created = created;
      this.lastSeen = created;
      this.secondFactor = secondFactor;
      this.federated = federated;
    }

    boolean expired(Instant now) {
      return !now.isBefore(created.plus(ABSOLUTE)) || !now.isBefore(lastSeen.plus(IDLE));
    }
  }

  private final Map<String, Session> byHash = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock;

  AdminSessions(Clock clock) {
    this.clock = clock;
  }

  /** A live session: its credential, and whether its login gave a second factor. */
  public record Live(String credentialId, boolean secondFactor) {}

  /** Opens a session without a second factor; returns the cookie value, which is not kept. */
  public String open(String credentialId) {
    return open(credentialId, false);
  }

  /**
   * Opens a session for a credential; returns the cookie value, which is not kept.
   *
   * @param secondFactor true when the login gave a second factor (a TOTP or recovery code)
   */
  public String open(String credentialId, boolean secondFactor) {
    return open(credentialId, secondFactor, null);
  }

  /**
   * Opens a session for a caller signed in through the OpenID provider ({@code oidc:<sub>}), with
   * the role mapped from its claims; returns the cookie value, which is not kept. The provider owns
   * the second factor, so the session counts as having given one.
   */
  public String openFederated(AdminPrincipal principal) {
    return open(principal.id(), true, principal);
  }

  private String open(
      String credentialId, boolean secondFactor, @Nullable AdminPrincipal federated) {
    Instant now = clock.instant();
    if (byHash.size() >= MAX) {
      byHash.values().removeIf(s -> s.expired(now));
      byHash.entrySet().stream()
          .min((a, b) -> a.getValue().lastSeen.compareTo(b.getValue().lastSeen))
          .ifPresent(e -> byHash.remove(e.getKey()));
    }
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    String value = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    byHash.put(hash(value), new Session(credentialId, now, secondFactor, federated));
    return value;
  }

  /** The credential id of a live session, which counts as a use; empty when there is none. */
  public Optional<String> credentialOf(String cookie) {
    return live(cookie).map(Live::credentialId);
  }

  /** A live session, which counts as a use; empty when there is none. */
  public Optional<Live> live(String cookie) {
    String h = hash(cookie);
    Session s = byHash.get(h);
    if (s == null) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    if (s.expired(now)) {
      byHash.remove(h, s);
      return Optional.empty();
    }
    s.lastSeen = now;
    return Optional.of(new Live(s.credentialId, s.secondFactor));
  }

  /** Records on one session whether its user has proved a second factor (a confirmed enrolment). */
  void secondFactor(String cookie, boolean given) {
    Session s = byHash.get(hash(cookie));
    if (s != null) {
      s.secondFactor = given;
    }
  }

  /** Every session of a credential no longer counts as having given a second factor. */
  void dropSecondFactor(String credentialId) {
    byHash.values().stream()
        .filter(s -> s.credentialId.equals(credentialId))
        .forEach(s -> s.secondFactor = false);
  }

  /**
   * The caller of a live single sign-on session, which counts as a use; empty for a token login's
   * session or none.
   */
  public Optional<AdminPrincipal> federatedOf(String cookie) {
    Session s = byHash.get(hash(cookie));
    if (s == null || s.federated == null) {
      return Optional.empty();
    }
    return live(cookie).map(l -> Objects.requireNonNull(s.federated));
  }

  /** Ends one session (logout). */
  public void close(String cookie) {
    byHash.remove(hash(cookie));
  }

  /** Ends every session of a credential (it was revoked). */
  public void closeAllOf(String credentialId) {
    byHash.values().removeIf(s -> s.credentialId.equals(credentialId));
  }

  /** How many sessions are open. */
  public int size() {
    return byHash.size();
  }

  private static String hash(String cookie) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256")
                  .digest(cookie.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}

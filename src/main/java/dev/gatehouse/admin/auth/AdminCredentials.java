package dev.gatehouse.admin.auth;

import dev.gatehouse.admin.AdminPrincipal;
import dev.gatehouse.admin.Role;
import dev.gatehouse.identify.ApiKeys;
import dev.gatehouse.store.AdminRecord;
import dev.gatehouse.store.AdminStore;
import dev.gatehouse.store.StoreException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The admin credentials service: creates tokens ({@code gha_<id>_<secret>}, shown once), lists and
 * revokes them, and checks a presented token. Only the HMAC-SHA256 of a token under the server
 * secret is stored, as for API keys ({@link ApiKeys}); the prefix differs, so a client key ({@code
 * gk_}) is never a well-formed admin token and an admin token never opens the public listener.
 *
 * <p>Blocking: every method may call the store, so the admin listener calls them through {@code
 * executeBlocking}. Thread-safe.
 */
public final class AdminCredentials {

  /** The prefix of every admin token. */
  public static final String PREFIX = "gha_";

  /** How often {@code last_used_at} is written for one credential: not on every request. */
  static final Duration TOUCH_EVERY = Duration.ofMinutes(1);

  private static final Logger LOG = Logger.getLogger("gatehouse.admin");

  private final AdminStore store;
  private final ApiKeys tokens;
  private final Clock clock;
  private final AdminSessions sessions;
  private final TotpFactor totp;

  public AdminCredentials(AdminStore store, byte[] serverSecret, Clock clock) {
    this.store = store;
    this.tokens = new ApiKeys(serverSecret, PREFIX);
    this.clock = clock;
    this.sessions = new AdminSessions(clock);
    this.totp = new TotpFactor(store, serverSecret, clock);
  }

  /** A new credential and its token, which is shown this once and never stored. */
  public record Created(AdminRecord record, String token) {}

  /**
   * Creates a credential.
   *
   * @throws IllegalArgumentException when the name is empty, too long or has control characters
   */
  public Created create(String name, Role role) {
    String n = name.strip();
    if (n.isEmpty() || n.length() > 64 || n.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(
          "name: " + name + " (expected: 1 to 64 characters, no control characters)");
    }
    ApiKeys.NewKey k = tokens.generate();
    AdminRecord r = new AdminRecord(k.id(), n, role.label(), k.hash(), clock.instant(), null, null);
    store.insertAdmin(r);
    return new Created(r, k.key());
  }

  /** Every credential, revoked ones included, newest first. */
  public List<AdminRecord> list() {
    return store.listAdmins();
  }

  /** True when some active credential has the {@code admin} role. */
  public boolean hasActiveAdmin() {
    return store.listAdmins().stream()
        .anyMatch(a -> a.active() && a.role().equals(Role.ADMIN.label()));
  }

  /**
   * Revokes a credential and ends its sessions; refuses the last active {@code admin} ({@link
   * AdminStore.Revoke#LAST_ADMIN}).
   */
  public AdminStore.Revoke revoke(String id) {
    AdminStore.Revoke r = store.revokeAdmin(id, clock.instant());
    if (r == AdminStore.Revoke.REVOKED) {
      sessions.closeAllOf(id);
    }
    return r;
  }

  /**
   * The caller a bearer token stands for: empty unless it is a well-formed admin token whose hash
   * matches an active credential (compared in constant time).
   */
  public Optional<AdminPrincipal> verify(String token) {
    String id = tokens.idIn(token);
    if (id == null) {
      return Optional.empty();
    }
    Optional<AdminRecord> found = store.findAdmin(id);
    if (found.isEmpty() || !tokens.matches(token, found.get().hash())) {
      return Optional.empty();
    }
    return principal(found.get(), "bearer");
  }

  /**
   * The caller a session stands for: empty when its credential has been revoked since (here or by
   * another process, such as {@code gatehouse admins revoke}), which also ends the session.
   */
  public Optional<AdminPrincipal> principalOf(String id, String via) {
    Optional<AdminPrincipal> p = store.findAdmin(id).flatMap(r -> principal(r, via));
    if (p.isEmpty()) {
      sessions.closeAllOf(id);
    }
    return p;
  }

  private Optional<AdminPrincipal> principal(AdminRecord r, String via) {
    Role role = Role.parse(r.role());
    if (!r.active() || role == null) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    if (r.lastUsedAt() == null || r.lastUsedAt().plus(TOUCH_EVERY).isBefore(now)) {
      try {
        store.touchAdmin(r.id(), now);
      } catch (StoreException e) {
        // last_used_at is for the operator's information; the credential was checked already
        LOG.warning("cannot record use of admin credential " + r.id() + ": " + e.getMessage());
      }
    }
    return Optional.of(new AdminPrincipal(r.id(), r.name(), role, via));
  }

  /** The dashboard's sessions, which end when their credential is revoked. */
  public AdminSessions sessions() {
    return sessions;
  }

  /** The TOTP second factor of dashboard logins. */
  public TotpFactor totp() {
    return totp;
  }
}

package dev.gatehouse.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where admin credentials live: the tokens that open the admin listener, apart from client API keys
 * ({@link KeyStore}), so that a client key can never be an admin credential; and each one's TOTP
 * second factor for dashboard logins (the secret encrypted by the caller, recovery codes hashed).
 *
 * <p>Every method either succeeds or throws {@link StoreException}; callers treat an exception as
 * "deny".
 *
 * <p><b>Threads.</b> Blocking; never called on an event loop (the admin listener calls it through
 * {@code executeBlocking}, the CLI on its own thread). The SQLite store refuses an event-loop
 * caller.
 */
public interface AdminStore {

  /** What {@link #revokeAdmin} did. */
  enum Revoke {
    /** The credential was active and is now revoked. */
    REVOKED,
    /** There is no such credential, or it was revoked already. */
    NOT_FOUND,
    /** Refused: it is the last active credential with the {@code admin} role. */
    LAST_ADMIN
  }

  /** Every credential, revoked ones included, newest first. */
  List<AdminRecord> listAdmins();

  Optional<AdminRecord> findAdmin(String id);

  void insertAdmin(AdminRecord admin);

  /**
   * Revokes a credential, unless it is the last active {@code admin}: checked and written in one
   * transaction, so two revocations at once cannot leave no admin at all.
   */
  Revoke revokeAdmin(String id, Instant at);

  /** Records that the credential was used at {@code at}. */
  void touchAdmin(String id, Instant at);

  // The TOTP second factor of a credential's dashboard logins (docs/identity-totp.md). Each
  // method that consumes something (a time step, a recovery code) does it in one conditional
  // write, so two logins at once cannot both use the same code.

  /** The credential's second factor, confirmed or pending; empty when it has none. */
  Optional<AdminTotpRecord> findTotp(String credentialId);

  /**
   * Starts (or restarts) an enrolment with a new encrypted secret. Refused (false) when the
   * credential already has a confirmed second factor: that one is removed first, with a code.
   */
  boolean beginTotp(String credentialId, byte[] encryptedSecret, Instant at);

  /**
   * Confirms a pending enrolment: records {@code step} as the last accepted time step and replaces
   * the recovery codes with {@code recoveryHashes}, in one transaction. False when there is no
   * pending enrolment (none, or confirmed already).
   */
  boolean confirmTotp(String credentialId, long step, List<byte[]> recoveryHashes, Instant at);

  /**
   * Records {@code step} as accepted when it is later than the last accepted one, and answers
   * whether it was: a code is never accepted twice (replay), even by two logins at once. Only for a
   * confirmed second factor.
   */
  boolean acceptTotpStep(String credentialId, long step);

  /** Marks an unused recovery code used; true when it was one (so each works once). */
  boolean useRecoveryCode(String credentialId, byte[] hash, Instant at);

  /** Removes the credential's second factor and its recovery codes; true when it had one. */
  boolean deleteTotp(String credentialId);
}

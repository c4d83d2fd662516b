package dev.gatehouse.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where admin credentials live: the tokens that open the admin listener, apart from client API keys
 * ({@link KeyStore}), so that a client key can never be an admin credential.
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
}

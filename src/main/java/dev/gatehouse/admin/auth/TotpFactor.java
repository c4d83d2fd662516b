package dev.gatehouse.admin.auth;

import dev.gatehouse.store.AdminStore;
import dev.gatehouse.store.AdminTotpRecord;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The TOTP second factor of admin credentials' dashboard logins: enrolment (a fresh secret shown
 * once as a QR code and text, confirmed with a first code, which hands out recovery codes shown
 * once), the check at login, and removal. The secret is stored encrypted and recovery codes as
 * keyed hashes ({@link TotpSecrets}); an accepted time step is recorded so a code never works
 * twice, and a recovery code is marked used.
 *
 * <p>Blocking (the store): call it off the event loop. Thread-safe.
 */
public final class TotpFactor {

  /** The issuer an authenticator app shows beside the account. */
  static final String ISSUER = "Gatehouse";

  private static final Logger LOG = Logger.getLogger("gatehouse.admin");

  private final AdminStore store;
  private final TotpSecrets secrets;
  private final Clock clock;

  TotpFactor(AdminStore store, byte[] serverSecret, Clock clock) {
    this.store = store;
    this.secrets = new TotpSecrets(serverSecret);
    this.clock = clock;
  }

  /** Where a credential stands: a confirmed factor, one waiting for its first code, or none. */
  public record Status(
      boolean enrolled, boolean pending, @Nullable Instant confirmedAt, int recoveryCodesLeft) {}

  /** A started enrolment, shown once: the secret as base32, its otpauth URI and QR code (SVG). */
  public record Started(String secret, String uri, String qrSvg) {}

  /** The result of checking a second factor. */
  public enum Check {
    /** The credential has no confirmed second factor. */
    NONE,
    /** It has one, and neither a code nor a recovery code came. */
    MISSING,
    /** The code or recovery code was right, and is now used up. */
    OK,
    /** Wrong, replayed, or used already. */
    WRONG
  }

  public Status status(String credentialId) {
    Optional<AdminTotpRecord> r = store.findTotp(credentialId);
    if (r.isEmpty()) {
      return new Status(false, false, null, 0);
    }
    AdminTotpRecord t = r.get();
    return new Status(
        t.confirmed(), !t.confirmed(), t.confirmedAt(), t.confirmed() ? t.recoveryCodesLeft() : 0);
  }

  /**
   * Starts an enrolment with a fresh 160-bit secret, replacing a pending one; empty when the
   * credential has a confirmed factor already (remove it first, with a code).
   */
  public Optional<Started> begin(String credentialId, String account) {
    byte[] secret = secrets.newSecret();
    if (!store.beginTotp(credentialId, secrets.seal(credentialId, secret), clock.instant())) {
      return Optional.empty();
    }
    String uri = Totp.uri(ISSUER, account, secret);
    return Optional.of(new Started(Totp.base32(secret), uri, TotpQr.svg(uri)));
  }

  /**
   * Confirms the pending enrolment with a code from the app: the recovery codes (shown once), or
   * empty when there is no pending enrolment or the code is wrong.
   */
  public Optional<List<String>> confirm(String credentialId, String code) {
    Optional<AdminTotpRecord> r = store.findTotp(credentialId);
    if (r.isEmpty() || r.get().confirmed()) {
      return Optional.empty();
    }
    byte[] secret = secrets.open(credentialId, r.get().encryptedSecret());
    if (secret == null) {
      LOG.warning(
          "the TOTP secret of " + credentialId + " does not decrypt (another server secret?)");
      return Optional.empty();
    }
    OptionalLong step = Totp.match(secret, code, clock.instant());
    if (step.isEmpty()) {
      return Optional.empty();
    }
    List<String> codes = secrets.newRecoveryCodes();
    List<byte[]> hashes = new ArrayList<>(codes.size());
    codes.forEach(c -> hashes.add(secrets.recoveryHash(credentialId, c)));
    // The confirming code's step is recorded as used: it cannot open a session afterwards.
    if (!store.confirmTotp(credentialId, step.getAsLong(), hashes, clock.instant())) {
      return Optional.empty();
    }
    return Optional.of(codes);
  }

  /**
   * Checks a login's (or a removal's) second factor: a TOTP code, else a recovery code. A code is
   * accepted once (its time step must be later than the last one accepted); a recovery code once.
   */
  public Check check(String credentialId, @Nullable String code, @Nullable String recoveryCode) {
    Optional<AdminTotpRecord> r = store.findTotp(credentialId);
    if (r.isEmpty() || !r.get().confirmed()) {
      return Check.NONE;
    }
    if (code != null) {
      byte[] secret = secrets.open(credentialId, r.get().encryptedSecret());
      if (secret == null) {
        LOG.warning(
            "the TOTP secret of " + credentialId + " does not decrypt (another server secret?)");
        return Check.WRONG; // fail closed
      }
      OptionalLong step = Totp.match(secret, code, clock.instant());
      if (step.isEmpty()) {
        return Check.WRONG;
      }
      if (!store.acceptTotpStep(credentialId, step.getAsLong())) {
        LOG.warning("a TOTP code of admin credential " + credentialId + " was replayed");
        return Check.WRONG;
      }
      return Check.OK;
    }
    if (recoveryCode != null) {
      boolean used =
          store.useRecoveryCode(
              credentialId, secrets.recoveryHash(credentialId, recoveryCode), clock.instant());
      if (used) {
        LOG.info("admin credential " + credentialId + " used a recovery code");
      }
      return used ? Check.OK : Check.WRONG;
    }
    return Check.MISSING;
  }

  /** Removes the credential's second factor and recovery codes; true when it had one. */
  public boolean remove(String credentialId) {
    return store.deleteTotp(credentialId);
  }
}

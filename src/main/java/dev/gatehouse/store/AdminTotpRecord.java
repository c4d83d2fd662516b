package dev.gatehouse.store;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * An admin credential's TOTP second factor as stored: the encrypted secret (never the secret in
 * clear; the store does not know the key), when the enrolment started and was confirmed (null while
 * it waits for its first code), the last time step accepted (null before any), and how many
 * recovery codes are still unused.
 */
public record AdminTotpRecord(
    String credentialId,
    byte[] encryptedSecret,
    Instant createdAt,
    @Nullable Instant confirmedAt,
    @Nullable Long lastStep,
    int recoveryCodesLeft) {

  public AdminTotpRecord {
    encryptedSecret = encryptedSecret.clone();
  }

  @Override
  public byte[] encryptedSecret() {
    return encryptedSecret.clone();
  }

  /** True once a first code confirmed the enrolment: from then on, logins need a code. */
  public boolean confirmed() {
    return confirmedAt != null;
  }
}

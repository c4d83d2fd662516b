package dev.gatehouse.admin.auth;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * The keys that keep TOTP material safe at rest, both derived from the server secret ({@code
 * identify/ServerSecret}, a file outside the database): AES-256-GCM for TOTP secrets, which must be
 * usable to check codes and so cannot be hashed; and HMAC-SHA256 for recovery codes, which are
 * stored only as hashes. A copy of the database without {@code server.secret} holds neither a
 * usable TOTP secret nor a recovery code. Thread-safe.
 */
final class TotpSecrets {

  /** How many recovery codes an enrolment hands out. */
  static final int RECOVERY_CODES = 10;

  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  /** Recovery code characters: base32's, lower case (no 0/O or 1/l pairs to confuse). */
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

  private final SecretKeySpec encryption;
  private final SecretKeySpec recovery;
  private final SecureRandom random = new SecureRandom();

  TotpSecrets(byte[] serverSecret) {
    // HKDF-Expand (RFC 5869) with the server secret as the pseudorandom key (it is 32 random
    // bytes already), one block per purpose: a key for one use never serves another.
    this.encryption =
        new SecretKeySpec(expand(serverSecret, "gatehouse admin totp aes-gcm v1"), "AES");
    this.recovery =
        new SecretKeySpec(expand(serverSecret, "gatehouse admin totp recovery v1"), "HmacSHA256");
  }

  /** A fresh 160-bit TOTP secret. */
  byte[] newSecret() {
    byte[] s = new byte[Totp.SECRET_BYTES];
    random.nextBytes(s);
    return s;
  }

  /**
   * The secret encrypted for storage: a random 96-bit nonce, then the ciphertext and tag. The
   * credential id is the associated data, so a row copied onto another credential does not decrypt.
   */
  byte[] seal(String credentialId, byte[] secret) {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, encryption, new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(credentialId.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = c.doFinal(secret);
      return ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  /**
   * The secret back; null when it does not decrypt (another server secret, or tampered with), which
   * the caller treats as a wrong code (fail closed).
   */
  byte @Nullable [] open(String credentialId, byte[] sealed) {
    if (sealed.length <= NONCE_BYTES) {
      return null;
    }
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(
          Cipher.DECRYPT_MODE, encryption, new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_BYTES));
      c.updateAAD(credentialId.getBytes(StandardCharsets.UTF_8));
      return c.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
    } catch (GeneralSecurityException e) {
      return null;
    }
  }

  /** New recovery codes, {@code xxxxx-xxxxx} (50 random bits each), shown once. */
  List<String> newRecoveryCodes() {
    List<String> out = new ArrayList<>(RECOVERY_CODES);
    for (int i = 0; i < RECOVERY_CODES; i++) {
      StringBuilder b = new StringBuilder(11);
      for (int j = 0; j < 10; j++) {
        if (j == 5) {
          b.append('-');
        }
        b.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
      }
      out.add(b.toString());
    }
    return out;
  }

  /**
   * The stored form of a recovery code: HMAC-SHA256 of the credential id and the code as typed,
   * lower-cased, without dashes or spaces. Keyed, so the 50-bit codes cannot be found by hashing
   * guesses against a stolen database.
   */
  byte[] recoveryHash(String credentialId, String code) {
    String normalized = code.toLowerCase(Locale.ROOT).replaceAll("[\\s-]", "");
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(recovery);
      mac.update(credentialId.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      return mac.doFinal(normalized.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  private static byte[] expand(byte[] prk, String info) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(prk, "HmacSHA256"));
      mac.update(info.getBytes(StandardCharsets.US_ASCII));
      return mac.doFinal(new byte[] {1});
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }
}

package dev.gatehouse.identify;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * API key format and hashing.
 *
 * <p>A key reads {@code gk_<id>_<secret>}: a 12-character public id (base32, used to find the
 * record without scanning) and a 40-character base62 secret (about 238 bits). Because keys are
 * random and long, a keyed SHA-256 (HMAC with the {@link ServerSecret}) is enough: a slow password
 * hash would add latency to every request and protect nothing more. Comparison is constant-time.
 * Thread-safe: each thread gets its own {@link Mac}.
 *
 * <p>The admin listener's credentials use the same format and hash under another prefix ({@code
 * gha_}, see {@link #ApiKeys(byte[], String)}): a token of one kind is never well-formed as the
 * other, so a client key cannot open the admin API and an admin token cannot open the public
 * listener.
 */
public final class ApiKeys {

  public static final String PREFIX = "gk_";
  static final int ID_LENGTH = 12;
  static final int SECRET_LENGTH = 40;
  private static final String ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
  private static final String SECRET_ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  private final String prefix;
  private final SecretKeySpec hmacKey;
  private final ThreadLocal<Mac> macs;
  private final SecureRandom random = new SecureRandom();

  public ApiKeys(byte[] serverSecret) {
    this(serverSecret, PREFIX);
  }

  /** Tokens of the same shape under another prefix, hashed with the same server secret. */
  public ApiKeys(byte[] serverSecret, String prefix) {
    this.prefix = prefix;
    this.hmacKey = new SecretKeySpec(serverSecret.clone(), "HmacSHA256");
    this.macs = ThreadLocal.withInitial(this::newMac);
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(hmacKey);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** A freshly generated key: its id and the full secret string, shown to the operator once. */
  public record NewKey(String id, String key, byte[] hash) {}

  public NewKey generate() {
    String id = randomString(ID_ALPHABET, ID_LENGTH);
    String key = prefix + id + "_" + randomString(SECRET_ALPHABET, SECRET_LENGTH);
    return new NewKey(id, key, hash(key));
  }

  private String randomString(String alphabet, int length) {
    StringBuilder b = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      b.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  /** The public id inside a well-formed key, or null when the string is not one of our keys. */
  public static @Nullable String idOf(String key) {
    return idOf(key, PREFIX);
  }

  /** The public id inside a well-formed token of this instance's prefix, or null. */
  public @Nullable String idIn(String token) {
    return idOf(token, prefix);
  }

  private static @Nullable String idOf(String key, String prefix) {
    if (key == null
        || key.length() != prefix.length() + ID_LENGTH + 1 + SECRET_LENGTH
        || !key.startsWith(prefix)
        || key.charAt(prefix.length() + ID_LENGTH) != '_') {
      return null;
    }
    for (int i = prefix.length(); i < prefix.length() + ID_LENGTH; i++) {
      if (ID_ALPHABET.indexOf(key.charAt(i)) < 0) {
        return null;
      }
    }
    for (int i = prefix.length() + ID_LENGTH + 1; i < key.length(); i++) {
      if (SECRET_ALPHABET.indexOf(key.charAt(i)) < 0) {
        return null;
      }
    }
    return key.substring(prefix.length(), prefix.length() + ID_LENGTH);
  }

  public byte[] hash(String key) {
    return macs.get().doFinal(key.getBytes(StandardCharsets.US_ASCII));
  }

  /** Constant-time check of a presented key against a stored hash. */
  public boolean matches(String presented, byte[] storedHash) {
    return MessageDigest.isEqual(hash(presented), storedHash);
  }
}

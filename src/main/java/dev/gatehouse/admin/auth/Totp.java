package dev.gatehouse.admin.auth;

import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Locale;
import java.util.OptionalLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * TOTP codes as RFC 6238 defines them, with the parameters every authenticator app supports:
 * HMAC-SHA-1, 6 digits, 30-second steps from the Unix epoch, and one step either side accepted for
 * clock drift. Also the base32 text and {@code otpauth://} URI an app reads the secret from. Pure
 * functions; thread-safe.
 */
public final class Totp {

  /** Seconds per time step. */
  public static final int STEP_SECONDS = 30;

  /** Digits per code. */
  public static final int DIGITS = 6;

  /** Steps accepted either side of now: a phone clock a little off still works. */
  static final int WINDOW = 1;

  /** Secret length: 160 bits, the HMAC-SHA-1 block's natural key size (RFC 4226, section 4). */
  public static final int SECRET_BYTES = 20;

  private static final String BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

  private Totp() {}

  /** The time step of an instant. */
  public static long step(Instant at) {
    return Math.floorDiv(at.getEpochSecond(), STEP_SECONDS);
  }

  /** The code for one time step (RFC 4226's HOTP with the step as counter). */
  public static String code(byte[] secret, long step) {
    byte[] h;
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(secret, "HmacSHA1"));
      h = mac.doFinal(ByteBuffer.allocate(8).putLong(step).array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA1 unavailable", e);
    }
    int offset = h[h.length - 1] & 0x0f;
    int binary =
        ((h[offset] & 0x7f) << 24)
            | ((h[offset + 1] & 0xff) << 16)
            | ((h[offset + 2] & 0xff) << 8)
            | (h[offset + 3] & 0xff);
    int code = binary % 1_000_000;
    // Locale.ROOT: a locale with other digits (Arabic-Indic, say) must not change the code's text
    return String.format(Locale.ROOT, "%06d", code);
  }

  /**
   * The time step whose code {@code code} is, within {@link #WINDOW} steps of {@code now}; empty
   * when it is none of them. Every candidate is compared, in constant time, so the answer's timing
   * does not tell which step (or digit) matched. Replay is the caller's check (the step must be
   * later than the last one accepted).
   */
  public static OptionalLong match(byte[] secret, String code, Instant now) {
    String c = code.strip();
    if (c.length() != DIGITS || !c.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
      return OptionalLong.empty();
    }
    byte[] given = c.getBytes(StandardCharsets.US_ASCII);
    long current = step(now);
    long found = Long.MIN_VALUE;
    for (long s = current - WINDOW; s <= current + WINDOW; s++) {
      if (MessageDigest.isEqual(given, code(secret, s).getBytes(StandardCharsets.US_ASCII))) {
        found = s; // the latest matching step wins (a code repeats across steps only by chance)
      }
    }
    return found == Long.MIN_VALUE ? OptionalLong.empty() : OptionalLong.of(found);
  }

  /** RFC 4648 base32 without padding: how authenticator apps take a secret. */
  public static String base32(byte[] bytes) {
    StringBuilder out = new StringBuilder((bytes.length * 8 + 4) / 5);
    int buffer = 0;
    int bits = 0;
    for (byte b : bytes) {
      buffer = (buffer << 8) | (b & 0xff);
      bits += 8;
      while (bits >= 5) {
        out.append(BASE32.charAt((buffer >> (bits - 5)) & 31));
        bits -= 5;
      }
    }
    if (bits > 0) {
      out.append(BASE32.charAt((buffer << (5 - bits)) & 31));
    }
    return out.toString();
  }

  /**
   * The {@code otpauth://totp/} URI (Google Authenticator's key URI format) that a QR code carries:
   * label {@code issuer:account}, the secret, and the parameters spelled out.
   */
  public static String uri(String issuer, String account, byte[] secret) {
    String label = encode(issuer) + ":" + encode(account);
    return "otpauth://totp/"
        + label
        + "?secret="
        + base32(secret)
        + "&issuer="
        + encode(issuer)
        + "&algorithm=SHA1&digits="
        + DIGITS
        + "&period="
        + STEP_SECONDS;
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}

package dev.gatehouse.audit;

import dev.gatehouse.store.SecretFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The HMAC key that signs audit checkpoints: 32 random bytes, hex, in a file of its own (mode 0600,
 * created on first use). It is kept apart from the audit data so that someone who can rewrite the
 * log cannot also re-sign it; operators should keep it off the box that holds the log.
 */
public final class AuditKey {

  private AuditKey() {}

  /**
   * Reads the key, creating it first when the file does not exist ({@link SecretFile#createOnce}:
   * two processes starting at the same moment agree on one whole key).
   */
  public static byte[] loadOrCreate(Path file) throws IOException {
    if (!Files.exists(file)) {
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      SecretFile.createOnce(file, HexFormat.of().formatHex(key) + "\n");
    }
    return load(file);
  }

  /** Reads an existing key. */
  public static byte[] load(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
    try {
      byte[] key = HexFormat.of().parseHex(text);
      if (key.length < 16) {
        throw new IOException(file + ": audit HMAC key is shorter than 16 bytes");
      }
      return key;
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": audit HMAC key is not hex", e);
    }
  }
}

package dev.gatehouse.account;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The HMAC key that signs audit checkpoints: 32 random bytes, hex, in a file of its own (mode
 * 0600, created on first use). It is kept apart from the audit data so that someone who can
 * rewrite the log cannot also re-sign it; operators should keep it off the box that holds the log.
 */
public final class AuditKey {

  private AuditKey() {}

  /**
   * Reads the key, creating it first when the file does not exist. Creation is atomic: the key is
   * written to a temporary file and linked into place, so a second process starting at the same
   * moment reads either no file or the whole key, never an empty one, and both agree on one key.
   */
  public static byte[] loadOrCreate(Path file) throws IOException {
    if (!Files.exists(file)) {
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, ".audit-hmac", ".tmp");
      try {
        try {
          Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
          // not a POSIX file system; rely on the directory's permissions
        }
        Files.writeString(tmp, HexFormat.of().formatHex(key) + "\n", StandardOpenOption.WRITE);
        try {
          Files.createLink(file, tmp); // atomic create-if-absent
        } catch (FileAlreadyExistsException raced) {
          // another process created it first: use theirs
        } catch (UnsupportedOperationException e) {
          Files.move(tmp, file);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
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

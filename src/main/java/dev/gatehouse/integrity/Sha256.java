package dev.gatehouse.integrity;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.LongConsumer;

/**
 * SHA-256 of files, streamed in 1 MiB reads, reporting progress as it goes: model blobs run to tens
 * of gigabytes, so nothing is ever held in memory whole.
 */
public final class Sha256 {

  private static final int BUFFER = 1 << 20;

  private Sha256() {}

  /**
   * The lower-case hex SHA-256 of the file.
   *
   * @param progress called with the number of bytes read after each read
   */
  public static String of(Path file, LongConsumer progress) throws IOException {
    MessageDigest md = digest();
    byte[] buf = new byte[BUFFER];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
        progress.accept(n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  public static String of(byte[] bytes) {
    return HexFormat.of().formatHex(digest().digest(bytes));
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}

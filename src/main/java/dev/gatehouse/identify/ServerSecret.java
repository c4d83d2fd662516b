package dev.gatehouse.identify;

import dev.gatehouse.store.SecretFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The per-installation secret that API keys are hashed with. Generated on first use (32 random
 * bytes), stored in the data directory readable by its owner only, never built in, never logged. A
 * database copied without this file holds no usable hashes.
 */
public final class ServerSecret {

  public static final String FILE_NAME = "server.secret";

  private ServerSecret() {}

  /** Reads the secret, creating it atomically if it does not exist yet. */
  public static byte[] loadOrCreate(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    Path file = dataDir.resolve(FILE_NAME);
    if (!Files.exists(file)) {
      byte[] secret = new byte[32];
      new SecureRandom().nextBytes(secret);
      SecretFile.createOnce(
          file, HexFormat.of().formatHex(secret) + "\n"); // two first starts agree on one secret
    }
    String hex = Files.readString(file).trim();
    if (!hex.matches("[0-9a-f]{64}")) {
      throw new IOException(file + " is not a 64-digit hex secret; refusing to continue");
    }
    return HexFormat.of().parseHex(hex);
  }
}

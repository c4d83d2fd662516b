package dev.gatehouse.store;

import dev.gatehouse.config.GatehouseConfig.Instance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;

/**
 * This gateway's instance id ({@code instance.id}): the name of its audit chain in a store that
 * several gateways share. When the config names none, a random one is generated on first start and
 * kept in {@code <data_dir>/instance-id} (mode 0600), so that the chain keeps its name across
 * restarts; two data directories get two ids.
 */
public final class InstanceId {

  /** The file in the data directory that keeps a generated id. */
  public static final String FILE = "instance-id";

  private InstanceId() {}

  /**
   * The configured id, or the one kept in {@code dataDir} (generated and kept there first if there
   * is none).
   *
   * @throws StoreException when the kept id cannot be read or created, or is not a valid id (a
   *     chain must never be appended under a name other than its own)
   */
  public static String resolve(@Nullable String configured, Path dataDir) {
    if (configured != null) {
      return configured; // checked at config load
    }
    Path file = dataDir.resolve(FILE);
    try {
      if (!Files.exists(file)) {
        byte[] b = new byte[6];
        new SecureRandom().nextBytes(b);
        // Atomic create-if-absent: two processes starting at once agree on one id.
        SecretFile.createOnce(file, "gw-" + HexFormat.of().formatHex(b) + "\n");
      }
      String id = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (!Instance.valid(id)) {
        throw new StoreException(
            file
                + ": not an instance id (expected: 1-64 characters of A-Z, a-z, 0-9, '.', '_' and"
                + " '-'); fix or delete it, or set instance.id",
            null);
      }
      return id;
    } catch (IOException e) {
      throw new StoreException("cannot read or create " + file + ": " + e.getMessage(), e);
    }
  }
}

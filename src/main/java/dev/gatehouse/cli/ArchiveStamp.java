package dev.gatehouse.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The launcher's class-data archive is kept only when the serve that made it started. The JVM
 * writes the archive as that first serve exits, from the classes it loaded; a serve that stopped at
 * a bad config or a taken port would leave one holding a fraction of them, and the launcher would
 * map that one on every later start. So the launcher writes its stamp for the archive as {@code
 * <stamp>.pending} and names it in the environment variable {@value #ENV}; {@code serve} confirms
 * it, once its listeners are up, by taking off the suffix. An archive without its stamp is removed
 * by the next start, which makes a new one. Never stops a start.
 */
final class ArchiveStamp {

  static final String ENV = "GATEHOUSE_ARCHIVE_PENDING";
  private static final String SUFFIX = ".pending";
  private static final Logger LOG = Logger.getLogger("gatehouse");

  private ArchiveStamp() {}

  /** Confirms the stamp at {@code pending}; false (and nothing moved) when there is none. */
  static boolean confirm(@Nullable String pending) {
    if (pending == null || !pending.endsWith(SUFFIX) || pending.length() == SUFFIX.length()) {
      return false;
    }
    try {
      Path from = Path.of(pending);
      Path to = Path.of(pending.substring(0, pending.length() - SUFFIX.length()));
      if (!Files.isRegularFile(from)) {
        return false;
      }
      // a rename within one directory: atomic wherever the directory can be written
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.warning(
          "could not keep the class-data archive's stamp ("
              + e.getMessage()
              + "): the next start makes the archive again");
      return false;
    }
  }
}

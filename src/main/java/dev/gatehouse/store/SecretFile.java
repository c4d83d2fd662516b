package dev.gatehouse.store;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A file in the data directory that holds a secret, created once and readable by its owner only.
 */
public final class SecretFile {

  private SecretFile() {}

  /**
   * Creates {@code file} holding {@code text} unless it exists. Atomic: the text is written to a
   * temporary file (mode 0600) beside it and linked into place, so a process starting at the same
   * moment reads either no file or the whole text, never a partial one, and all of them end up with
   * the same file. The directory is created if needed.
   */
  public static void createOnce(Path file, String text) throws IOException {
    if (Files.exists(file)) {
      return;
    }
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system; rely on the directory's permissions
      }
      Files.writeString(tmp, text, StandardOpenOption.WRITE);
      try {
        Files.createLink(file, tmp); // atomic create-if-absent
      } catch (FileAlreadyExistsException raced) {
        // another process created it first: theirs stands
      } catch (UnsupportedOperationException e) {
        Files.move(tmp, file);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}

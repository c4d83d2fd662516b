package dev.gatehouse.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import org.jspecify.annotations.Nullable;
import org.sqlite.util.LibraryLoaderUtil;

/**
 * sqlite-jdbc's native library, kept in the data directory so that a start loads it rather than
 * extracting it again.
 *
 * <p>By default the driver copies its library (about 1 MiB) out of its jar into the temporary
 * directory on every start, under a new name, then reads the copy back and compares it with the
 * jar's byte by byte before loading it: about a tenth of a second of every start here, with the JIT
 * cold. The driver's documented properties {@code org.sqlite.lib.path} and {@code
 * org.sqlite.lib.name} point it at a copy made once instead: {@code native/} in the data directory,
 * a directory only this user may write to (made {@code rwx------}; one that others may write to, or
 * that another user owns, is not used), the copy named after the jar entry's CRC-32 and size,
 * written under a temporary name and renamed into place, and its CRC-32 checked against the jar's
 * on every start. Anything else (no such entry in a jar, a file system without POSIX permissions, a
 * copy that does not match, an {@code org.sqlite.lib.path} the operator set) leaves the driver to
 * its default; and a copy that will not load (a {@code noexec} mount) makes the driver fall back to
 * its default too. It never stops a start.
 */
final class SqliteNativeLibrary {

  private static final String PATH_PROPERTY = "org.sqlite.lib.path";
  private static final String NAME_PROPERTY = "org.sqlite.lib.name";
  private static final String DIR = "native";
  private static final String PREFIX = "sqlitejdbc-";
  private static final Logger LOG = Logger.getLogger("gatehouse.store");
  private static final Set<PosixFilePermission> OTHERS_WRITE =
      Set.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);

  private SqliteNativeLibrary() {}

  /**
   * Points the driver at the data directory's copy of its library, making the copy if needed,
   * unless the driver has been pointed somewhere already. Returns the copy in use, if any.
   */
  static Optional<Path> prepare(Path dataDir) {
    if (System.getProperty(PATH_PROPERTY) != null) {
      return Optional.empty();
    }
    try {
      Optional<Path> lib = copyIn(dataDir);
      lib.ifPresent(
          p -> {
            System.setProperty(NAME_PROPERTY, p.getFileName().toString());
            System.setProperty(PATH_PROPERTY, dataDir.resolve(DIR).toString());
          });
      return lib;
    } catch (IOException | RuntimeException e) {
      LOG.fine("sqlite-jdbc extracts its native library itself: " + e);
      return Optional.empty();
    }
  }

  /** The copy of the driver's library in {@code dataDir/native}, made if needed; empty if none. */
  static Optional<Path> copyIn(Path dataDir) throws IOException {
    String resource =
        LibraryLoaderUtil.getNativeLibResourcePath() + "/" + LibraryLoaderUtil.getNativeLibName();
    URL url = LibraryLoaderUtil.class.getResource(resource);
    if (url == null) {
      return Optional.empty();
    }
    URLConnection connection = url.openConnection();
    if (!(connection instanceof JarURLConnection jar)) {
      return Optional.empty();
    }
    ZipEntry entry = jar.getJarEntry();
    long crc = entry.getCrc();
    long size = entry.getSize();
    if (crc < 0 || size < 0) {
      return Optional.empty();
    }
    Path dir = privateDir(dataDir.resolve(DIR));
    if (dir == null) {
      return Optional.empty();
    }
    Path lib =
        dir.resolve(
            PREFIX
                + Long.toHexString(crc)
                + "-"
                + size
                + "-"
                + LibraryLoaderUtil.getNativeLibName());
    if (matches(lib, crc, size)) {
      return Optional.of(lib);
    }
    Path tmp =
        Files.createTempFile(
            dir,
            PREFIX,
            ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      CRC32 written = new CRC32();
      long n = 0;
      try (InputStream in = url.openStream();
          OutputStream out = Files.newOutputStream(tmp)) {
        byte[] buf = new byte[64 * 1024];
        for (int r; (r = in.read(buf)) > 0; ) {
          written.update(buf, 0, r);
          out.write(buf, 0, r);
          n += r;
        }
      }
      if (written.getValue() != crc || n != size) {
        return Optional.empty();
      }
      // a rename within one directory: atomic wherever the directory can be written
      Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    removeOthers(dir, lib);
    return Optional.of(lib);
  }

  /** {@code dir}, made owner-only if missing; null when it exists but others may change it. */
  private static @Nullable Path privateDir(Path dir) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      try {
        Files.createDirectories(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (UnsupportedOperationException e) {
        return null; // no POSIX permissions here: the driver's default
      }
    }
    PosixFileAttributes a =
        Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    boolean ours = a.owner().getName().equals(System.getProperty("user.name"));
    boolean othersWrite = a.permissions().stream().anyMatch(OTHERS_WRITE::contains);
    return a.isDirectory() && ours && !othersWrite ? dir : null;
  }

  /** Whether {@code lib} is a regular file of {@code size} bytes whose CRC-32 is {@code crc}. */
  private static boolean matches(Path lib, long crc, long size) throws IOException {
    if (!Files.isRegularFile(lib, LinkOption.NOFOLLOW_LINKS) || Files.size(lib) != size) {
      return false;
    }
    CRC32 c = new CRC32();
    c.update(Files.readAllBytes(lib));
    return c.getValue() == crc;
  }

  /** Removes the copies of other versions of the driver (and temporary files left by a crash). */
  private static void removeOthers(Path dir, Path keep) {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, PREFIX + "*")) {
      for (Path f : files) {
        if (!f.equals(keep)) {
          Files.deleteIfExists(f);
        }
      }
    } catch (IOException e) {
      LOG.fine("could not remove old copies of the SQLite library: " + e);
    }
  }
}

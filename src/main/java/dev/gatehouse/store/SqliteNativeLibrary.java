package dev.gatehouse.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
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
 * on every start. Which of the jar's libraries is this platform's is noted beside it ({@value
 * #WHERE}) the first time, since the driver's way of telling costs a new process on every start
 * ({@link #remembered}). Anything else (no such entry in a jar, a file system without POSIX
 * permissions, a copy that does not match, an {@code org.sqlite.lib.path} the operator set) leaves
 * the driver to its default; and a copy that will not load (a {@code noexec} mount) makes the
 * driver fall back to its default too. It never stops a start.
 */
final class SqliteNativeLibrary {

  private static final String PATH_PROPERTY = "org.sqlite.lib.path";
  private static final String NAME_PROPERTY = "org.sqlite.lib.name";
  private static final String DIR = "native";
  private static final String PREFIX = "sqlitejdbc-";

  /** The file in {@code native/} that notes which of the jar's libraries is this platform's. */
  private static final String WHERE = "library-resource";

  private static final String RESOURCE_ROOT = "/org/sqlite/native/";
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
    Path dir = privateDir(dataDir.resolve(DIR));
    if (dir == null) {
      return Optional.empty();
    }
    String resource = remembered(dir);
    URL url = resource == null ? null : LibraryLoaderUtil.class.getResource(resource);
    if (url == null) {
      resource =
          LibraryLoaderUtil.getNativeLibResourcePath() + "/" + LibraryLoaderUtil.getNativeLibName();
      url = LibraryLoaderUtil.class.getResource(resource);
      if (url == null) {
        return Optional.empty();
      }
      remember(dir, resource);
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
    Path tmp = ownerOnlyTemp(dir, PREFIX);
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

  /**
   * This platform, as far as it decides which of the jar's libraries the driver wants: the JVM's
   * operating system, architecture and home (a JDK is built for one C library, glibc or musl, and
   * one system; Termux's lives in its own directory).
   */
  private static String platform() {
    return System.getProperty("os.name")
        + " "
        + System.getProperty("os.arch")
        + " "
        + System.getProperty("java.home");
  }

  /**
   * The library's resource path that {@link #remember} noted for this platform, or null. Finding it
   * the driver's way ({@code OSInfo}) lists and resolves every file in {@code /proc/self/map_files}
   * and runs {@code uname -o} in a new process on each call: about 70 ms of a cold JVM, and 12-15
   * ms warm. The note is in the owner-only directory, and names an entry of the driver's own jar at
   * most, whose copy is checked against it all the same.
   */
  private static @Nullable String remembered(Path dir) {
    try {
      List<String> lines = Files.readAllLines(dir.resolve(WHERE), StandardCharsets.UTF_8);
      if (lines.size() == 2
          && lines.get(0).equals(platform())
          && lines.get(1).startsWith(RESOURCE_ROOT)
          && lines.get(1).endsWith("/" + LibraryLoaderUtil.getNativeLibName())) {
        return lines.get(1);
      }
    } catch (IOException | RuntimeException e) {
      // none yet, or unreadable: found the driver's way, and noted again
    }
    return null;
  }

  /** Notes {@code resource} as this platform's library, for {@link #remembered}; best effort. */
  private static void remember(Path dir, String resource) {
    try {
      Path tmp = ownerOnlyTemp(dir, WHERE);
      try {
        Files.writeString(tmp, platform() + "\n" + resource + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(WHERE), StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException | RuntimeException e) {
      LOG.fine("could not note where the SQLite library is: " + e);
    }
  }

  /** A new empty temporary file in {@code dir} that only this user may read or write. */
  private static Path ownerOnlyTemp(Path dir, String prefix) throws IOException {
    return Files.createTempFile(
        dir,
        prefix,
        ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
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

  /** Removes the copies of other versions of the driver, and temporary files left by a crash. */
  private static void removeOthers(Path dir, Path keep) {
    try (DirectoryStream<Path> files =
        Files.newDirectoryStream(dir, "{" + PREFIX + "*," + WHERE + "*.tmp}")) {
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

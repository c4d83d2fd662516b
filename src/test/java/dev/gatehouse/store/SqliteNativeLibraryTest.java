package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.InputStream;
import java.net.JarURLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.sqlite.util.LibraryLoaderUtil;

/**
 * The data directory's copy of sqlite-jdbc's native library: made once, owner-only, checked against
 * the jar on every start, and what the driver then loads instead of extracting its own.
 */
class SqliteNativeLibraryTest {

  /** This platform's library in the driver's jar, as the driver finds it. */
  private static String resource() {
    return LibraryLoaderUtil.getNativeLibResourcePath()
        + "/"
        + LibraryLoaderUtil.getNativeLibName();
  }

  private static ZipEntry jarEntry() throws Exception {
    String resource = resource();
    var url = LibraryLoaderUtil.class.getResource(resource);
    assertThat(url).as(resource).isNotNull();
    return ((JarURLConnection) url.openConnection()).getJarEntry();
  }

  private static byte[] jarBytes() throws Exception {
    String resource = resource();
    try (InputStream in = LibraryLoaderUtil.class.getResourceAsStream(resource)) {
      return in.readAllBytes();
    }
  }

  @Test
  void theFirstStartCopiesTheLibraryOwnerOnlyAndLaterStartsUseTheCopy() throws Exception {
    Path data = Files.createTempDirectory("gh-native");
    Optional<Path> lib = SqliteNativeLibrary.copyIn(data);
    assertThat(lib).isPresent();
    Path file = lib.orElseThrow();
    ZipEntry entry = jarEntry();
    assertThat(file.getParent()).isEqualTo(data.resolve("native"));
    assertThat(file.getFileName().toString())
        .isEqualTo(
            "sqlitejdbc-"
                + Long.toHexString(entry.getCrc())
                + "-"
                + entry.getSize()
                + "-"
                + LibraryLoaderUtil.getNativeLibName());
    assertThat(Files.readAllBytes(file)).isEqualTo(jarBytes());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");

    // the next start checks the copy and keeps it: not written again
    FileTime old = FileTime.fromMillis(1_000_000_000_000L);
    Files.setLastModifiedTime(file, old);
    assertThat(SqliteNativeLibrary.copyIn(data)).contains(file);
    assertThat(Files.getLastModifiedTime(file)).isEqualTo(old);
    try (var files = Files.list(file.getParent())) {
      assertThat(files).containsExactlyInAnyOrder(file, file.resolveSibling("library-resource"));
    }
  }

  /** The processes this thread started while {@code work} ran (JFR's {@code jdk.ProcessStart}). */
  private static List<String> processesStartedBy(ThrowingRunnable work) throws Exception {
    Path dump = Files.createTempFile("gh-native", ".jfr");
    try (Recording r = new Recording()) {
      r.enable("jdk.ProcessStart");
      r.start();
      work.run();
      r.stop();
      r.dump(dump);
    }
    long me = Thread.currentThread().threadId();
    List<String> out = new ArrayList<>();
    for (RecordedEvent e : RecordingFile.readAllEvents(dump)) {
      if (e.getEventType().getName().equals("jdk.ProcessStart")
          && e.getThread() != null
          && e.getThread().getJavaThreadId() == me) {
        out.add(e.getString("command"));
      }
    }
    Files.delete(dump);
    return out;
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  @Test
  void laterStartsFindTheLibraryFromTheNoteWithoutStartingAProcess() throws Exception {
    assumeThat(Path.of("/proc/self/map_files")).exists(); // Linux, where the driver runs uname
    Path data = Files.createTempDirectory("gh-native");
    // the first start asks the driver, which runs `uname -o` to tell Termux from other Linux
    List<String> first = processesStartedBy(() -> SqliteNativeLibrary.copyIn(data));
    assertThat(first).anyMatch(c -> c.startsWith("uname"));
    Path note = data.resolve("native").resolve("library-resource");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(note)))
        .isEqualTo("rw-------");

    Path[] lib = new Path[1];
    List<String> later =
        processesStartedBy(() -> lib[0] = SqliteNativeLibrary.copyIn(data).orElseThrow());
    assertThat(later).isEmpty();
    assertThat(Files.readAllBytes(lib[0])).isEqualTo(jarBytes());
  }

  @Test
  void theNoteIsReadOnlyForThisPlatformAndOnlyForTheDriversOwnLibraries() throws Exception {
    Path data = Files.createTempDirectory("gh-native");
    Path file = SqliteNativeLibrary.copyIn(data).orElseThrow();
    Path note = file.resolveSibling("library-resource");
    List<String> lines = Files.readAllLines(note);
    assertThat(lines).hasSize(2);
    String platform = lines.get(0);
    String own = resource();
    assertThat(lines.get(1)).isEqualTo(own);

    // what the note names is what is copied: another entry of the jar, for this platform
    String other =
        own.contains("/aarch64/")
            ? own.replace("/aarch64/", "/riscv64/")
            : own.replaceFirst("/[^/]+/([^/]+)$", "/aarch64/$1");
    assumeThat(LibraryLoaderUtil.class.getResource(other)).as(other).isNotNull();
    Files.write(note, List.of(platform, other));
    Path copied = SqliteNativeLibrary.copyIn(data).orElseThrow();
    try (InputStream in = LibraryLoaderUtil.class.getResourceAsStream(other)) {
      assertThat(Files.readAllBytes(copied)).isEqualTo(in.readAllBytes());
    }

    // a note made on another platform (another JDK, a data directory moved), one naming anything
    // but the driver's libraries, or one that is not a note: the driver is asked, and the note
    // made again
    for (List<String> bad :
        List.of(
            List.of(platform.replace("x", "y") + "-elsewhere", other),
            List.of(platform, "/dev/gatehouse/store/SqliteStore.class"),
            List.of(
                platform,
                "/org/sqlite/native/../../../"
                    + LibraryLoaderUtil.getNativeLibName().replace("lib", "nolib")),
            List.of(platform, other, "a third line"),
            List.of("not a note"))) {
      Files.write(note, bad);
      assertThat(SqliteNativeLibrary.copyIn(data)).as("%s", bad).contains(file);
      assertThat(Files.readAllBytes(file)).as("%s", bad).isEqualTo(jarBytes());
      assertThat(Files.readAllLines(note)).as("%s", bad).containsExactly(platform, own);
    }
  }

  @Test
  void aCopyThatDoesNotMatchTheJarIsWrittenAgainAndOldVersionsGo() throws Exception {
    Path data = Files.createTempDirectory("gh-native");
    Path file = SqliteNativeLibrary.copyIn(data).orElseThrow();
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 1; // same size, one bit off
    Files.write(file, bytes);
    Path older = file.resolveSibling("sqlitejdbc-deadbeef-12-libsqlitejdbc.so");
    Files.writeString(older, "an older driver's copy");
    Path leftOver = file.resolveSibling("sqlitejdbc-123.tmp");
    Files.writeString(leftOver, "a crash's temporary file");

    assertThat(SqliteNativeLibrary.copyIn(data)).contains(file);
    assertThat(Files.readAllBytes(file)).isEqualTo(jarBytes());
    assertThat(older).doesNotExist();
    assertThat(leftOver).doesNotExist();

    Files.write(file, new byte[] {1, 2, 3}); // truncated
    assertThat(SqliteNativeLibrary.copyIn(data)).contains(file);
    assertThat(Files.readAllBytes(file)).isEqualTo(jarBytes());
  }

  @Test
  void aDirectoryOthersMayWriteToIsNotUsed() throws Exception {
    Path data = Files.createTempDirectory("gh-native");
    Path dir = data.resolve("native");
    Files.createDirectory(dir);
    for (String perms : List.of("rwxrwx---", "rwx---rwx", "rwxrwxrwx")) {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(perms));
      assertThat(SqliteNativeLibrary.copyIn(data)).as(perms).isEmpty();
      try (var files = Files.list(dir)) {
        assertThat(files).as(perms).isEmpty();
      }
    }
    // a link in its place is not followed
    Files.delete(dir);
    Path elsewhere = Files.createTempDirectory("gh-native-elsewhere");
    Files.createSymbolicLink(dir, elsewhere);
    assertThat(SqliteNativeLibrary.copyIn(data)).isEmpty();
    try (var files = Files.list(elsewhere)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void aFreshProcessLoadsTheCopyAndExtractsNothingToTheTemporaryDirectory() throws Exception {
    assumeThat(Path.of("/proc/self/maps")).exists();
    Path data = Files.createTempDirectory("gh-native");
    Path tmp = Files.createTempDirectory("gh-native-tmp");
    for (int start = 1; start <= 2; start++) {
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Dorg.sqlite.tmpdir=" + tmp,
                  "-cp",
                  System.getProperty("java.class.path"),
                  OpenStore.class.getName(),
                  data.toString())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(out).isZero();
      assertThat(out)
          .as("start %d", start)
          .contains("loaded " + data.resolve("native").resolve("sqlitejdbc-"));
      try (var files = Files.list(tmp)) {
        assertThat(files).as("start %d: the driver's own extraction", start).isEmpty();
      }
    }
  }

  /** Opens a store in a fresh JVM and prints which SQLite library the process mapped. */
  public static final class OpenStore {
    public static void main(String[] args) throws Exception {
      SqliteStore store = SqliteStore.open(Path.of(args[0]));
      try {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
          int at = line.indexOf('/');
          if (at >= 0 && line.contains("sqlitejdbc")) {
            System.out.println("loaded " + line.substring(at));
            break;
          }
        }
      } finally {
        store.close();
      }
    }
  }
}

package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A copy of the launcher ({@code ./gatehouse}, run for real under bash) beside a jar, with a
 * stand-in JDK (25 unless told) whose {@code java} writes down the arguments it was given instead
 * of starting.
 */
record LauncherInstall(Path home, Path jdk, Path args) {

  /** The magic number that opens a JDK 25 ahead-of-time cache. */
  private static final byte[] AOT_MAGIC = {(byte) 0xa2, (byte) 0xab, 0x0b, (byte) 0xf0};

  static LauncherInstall make() throws IOException {
    return make(25);
  }

  /** As {@link #make()}, with a stand-in JDK of this feature release. */
  static LauncherInstall make(int feature) throws IOException {
    Path root = Files.createTempDirectory("gh-launcher");
    Path home = Files.createDirectories(root.resolve("gatehouse"));
    Files.copy(Path.of("gatehouse"), home.resolve("gatehouse"));
    Files.createDirectories(home.resolve("scripts"));
    Files.copy(Path.of("scripts/jdk.sh"), home.resolve("scripts/jdk.sh"));
    Path jar = Files.createDirectories(home.resolve("target")).resolve("gatehouse.jar");
    Files.writeString(jar, "jar");
    Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(3600)));
    Path jdk = Files.createDirectories(root.resolve("jdk/bin")).getParent();
    Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"" + feature + "\"\n");
    Path args = root.resolve("java-args");
    executable(jdk.resolve("bin/java"), "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"" + args + "\"\n");
    executable(jdk.resolve("bin/javac"), "#!/bin/sh\nexit 0\n");
    return new LauncherInstall(home, jdk, args);
  }

  private static void executable(Path file, String text) throws IOException {
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  Path archive() {
    return home.resolve("target/gatehouse.aot");
  }

  /** Runs {@code ./gatehouse serve}; returns the arguments the stand-in java was given. */
  List<String> serve() throws Exception {
    Files.deleteIfExists(args);
    ProcessBuilder pb =
        new ProcessBuilder("bash", home.resolve("gatehouse").toString(), "serve")
            .redirectErrorStream(true);
    pb.environment().put("JAVA_HOME", jdk.toString());
    pb.environment().remove("GATEHOUSE_JAVA_OPTS");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return Files.readAllLines(args);
  }

  /** The first serve records; serve confirms its stamp once up ({@link ArchiveStamp}). */
  void recordAndConfirm() throws Exception {
    List<String> first = serve();
    assertThat(first).anyMatch(a -> a.startsWith("-XX:AOTCacheOutput="));
    Path pending = home.resolve("target/gatehouse.aot.jdk.pending");
    assertThat(ArchiveStamp.confirm(pending.toString())).isTrue();
    byte[] cache = new byte[4096];
    System.arraycopy(AOT_MAGIC, 0, cache, 0, AOT_MAGIC.length);
    Files.write(archive(), cache);
  }
}

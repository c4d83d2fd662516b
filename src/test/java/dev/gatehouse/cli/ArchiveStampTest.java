package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.FakeUpstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The launcher keeps a class-data archive only when the serve that wrote it started: {@code serve}
 * confirms the pending stamp once its listeners are up, and only then.
 */
class ArchiveStampTest {

  /** A stamp's two names in a new directory, as the launcher gives them next to the cache. */
  private record Stamp(Path dir, Path pending, Path confirmed) {
    static Stamp inNewDirectory() throws Exception {
      Path dir = Files.createTempDirectory("gh-stamp");
      return new Stamp(
          dir, dir.resolve("gatehouse.aot.jdk.pending"), dir.resolve("gatehouse.aot.jdk"));
    }
  }

  @Test
  void confirmTakesTheSuffixOffAndReplacesAnOlderStamp() throws Exception {
    Stamp s = Stamp.inNewDirectory();
    Path pending = s.pending();
    Path stamp = s.confirmed();
    Files.writeString(stamp, "old");
    Files.writeString(pending, "/usr/lib/jvm/x\nJAVA_VERSION=\"25\"\n");
    assertThat(ArchiveStamp.confirm(pending.toString())).isTrue();
    assertThat(pending).doesNotExist();
    assertThat(stamp).hasContent("/usr/lib/jvm/x\nJAVA_VERSION=\"25\"\n");
  }

  @Test
  void confirmMovesNothingWithoutAPendingStamp() throws Exception {
    Path dir = Files.createTempDirectory("gh-stamp");
    Path other = dir.resolve("gatehouse.jar");
    Files.writeString(other, "jar");
    assertThat(ArchiveStamp.confirm(null)).isFalse();
    assertThat(ArchiveStamp.confirm(other.toString())).isFalse(); // only a .pending file is moved
    assertThat(other).hasContent("jar");
    assertThat(ArchiveStamp.confirm(dir.resolve("missing.jdk.pending").toString())).isFalse();
    assertThat(ArchiveStamp.confirm(".pending")).isFalse();
    assertThat(ArchiveStamp.confirm("\0.pending")).isFalse(); // not a path: no exception either
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(other);
    }
  }

  @Test
  void serveConfirmsOnlyOnceItsListenersAreUp() throws Exception {
    Stamp s = Stamp.inNewDirectory();
    Path home = s.dir();
    Path pending = s.pending();
    Path stamp = s.confirmed();

    // a serve that stops at its config leaves the stamp pending: its archive is made again
    Files.writeString(pending, "jdk");
    Path bad = home.resolve("bad.yaml");
    Files.writeString(bad, "listen: [not, an, address]\n");
    Map<String, String> env =
        Map.of(
            "GATEHOUSE_HOME",
            home.toString(),
            "GATEHOUSE_ADMIN_LISTEN",
            "127.0.0.1:0",
            ArchiveStamp.ENV,
            pending.toString());
    CliRun failed = CliRun.run(env, "serve", "--config", bad.toString());
    assertThat(failed.code()).as(failed.err()).isEqualTo(2);
    assertThat(pending).exists();
    assertThat(stamp).doesNotExist();

    try (FakeUpstream up = new FakeUpstream()) {
      CliRun started = CliRun.run(env, "serve", "--listen", "127.0.0.1:0", "--upstream", up.url());
      try {
        assertThat(started.code()).as(started.err()).isEqualTo(ServeCommand.KEEP_RUNNING);
        assertThat(started.out()).contains("Gatehouse listening on");
        assertThat(stamp).hasContent("jdk");
        assertThat(pending).doesNotExist();
      } finally {
        for (AutoCloseable server : started.servers()) {
          server.close();
        }
      }
    }
  }
}

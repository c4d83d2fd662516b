package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The launcher's choice of the start-up cache, run for real ({@code ./gatehouse} under bash) in a
 * copy of the project's layout, with a stand-in JDK 25 whose {@code java} writes down the arguments
 * it was given instead of starting ({@link LauncherInstall}).
 */
class LauncherArchiveTest {

  @Test
  void compactObjectHeadersOnJdk25AndNewerBothWhenTheCacheIsRecordedAndWhenItIsMapped()
      throws Exception {
    LauncherInstall i = LauncherInstall.make();
    // why: the cache records the setting, and a JVM with another one does not use it
    assertThat(i.serve()).contains("-XX:+UseCompactObjectHeaders");
    i.recordAndConfirm();
    assertThat(i.serve()).contains("-XX:AOTCache=" + i.archive(), "-XX:+UseCompactObjectHeaders");
    // why: JDK 21 does not know the flag (it would refuse to start), and JDK 24 calls it
    // experimental
    for (int feature : new int[] {21, 24}) {
      assertThat(LauncherInstall.make(feature).serve())
          .as("JDK " + feature)
          .isNotEmpty()
          .doesNotContain("-XX:+UseCompactObjectHeaders");
    }
  }

  @Test
  void aCompleteCacheIsMapped() throws Exception {
    LauncherInstall i = LauncherInstall.make();
    i.recordAndConfirm();
    List<String> args = i.serve();
    assertThat(args).contains("-XX:AOTCache=" + i.archive());
    assertThat(args).noneMatch(a -> a.startsWith("-XX:AOTCacheOutput="));
    assertThat(i.archive()).exists();
  }

  @Test
  void aCacheWhoseAssemblyWasCutShortIsMadeAgain() throws Exception {
    LauncherInstall i = LauncherInstall.make();
    i.recordAndConfirm();
    // the recording the JVM removes once the cache is assembled: the serve was killed before
    Path config = i.home().resolve("target/gatehouse.aot.config");
    Files.writeString(config, "recording");
    List<String> args = i.serve();
    assertThat(args).noneMatch(a -> a.startsWith("-XX:AOTCache="));
    assertThat(args).contains("-XX:AOTCacheOutput=" + i.archive());
    assertThat(config).doesNotExist();
  }

  @Test
  void anEmptyCacheIsMadeAgainToo() throws Exception {
    // what a serve killed while the cache was assembled left here by hand: an empty file
    LauncherInstall i = LauncherInstall.make();
    i.recordAndConfirm();
    Files.write(i.archive(), new byte[0]);
    assertThat(i.serve()).contains("-XX:AOTCacheOutput=" + i.archive());
  }
}

package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The picocli the gateway runs is the build's own compilation of picocli's source, beside
 * Gatehouse's classes and at the project's release: its published jar is compiled for Java 5
 * (class-file version 49), which the JVM's ahead-of-time cache cannot hold, so every {@code serve}
 * loaded and verified those classes again (docs/configuration.md, "JVM settings").
 */
class PicocliClassesTest {

  /**
   * Java 21, the project's release (maven.compiler.release); the JVM's class-data archives and
   * caches hold class-file version 50 and later.
   */
  private static final int RELEASE_21 = 65;

  @Test
  void picocliComesFromTheBuildNotFromItsPublishedJar() {
    assertThat(CommandLine.class.getProtectionDomain().getCodeSource().getLocation())
        .isEqualTo(Main.class.getProtectionDomain().getCodeSource().getLocation());
  }

  @Test
  void everyPicocliClassIsCompiledAtTheProjectsRelease() throws Exception {
    List<Path> classes = picocliClassFiles();
    assertThat(classes).hasSizeGreaterThan(100); // CommandLine and its nested classes
    for (Path c : classes) {
      int major = majorVersion(c);
      assertThat(major).as(c.toString()).isEqualTo(RELEASE_21);
    }
  }

  @Test
  void theClassesTheJvmLoadedAreThoseFiles() throws Exception {
    // what the class loader reads for CommandLine and a nested class, not only what lies on disk
    for (Class<?> c : List.of(CommandLine.class, CommandLine.Model.CommandSpec.class)) {
      String name = c.getName().substring(c.getName().lastIndexOf('.') + 1) + ".class";
      try (InputStream in = c.getResourceAsStream(name)) {
        assertThat(in).as(name).isNotNull();
        assertThat(majorVersion(in)).as(name).isEqualTo(RELEASE_21);
      }
    }
  }

  private static List<Path> picocliClassFiles() throws URISyntaxException, IOException {
    Path root =
        Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .resolve("picocli");
    assertThat(root).isDirectory();
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(p -> p.toString().endsWith(".class")).toList();
    }
  }

  private static int majorVersion(Path classFile) throws IOException {
    try (InputStream in = Files.newInputStream(classFile)) {
      return majorVersion(in);
    }
  }

  private static int majorVersion(InputStream in) throws IOException {
    DataInputStream d = new DataInputStream(in);
    assertThat(d.readInt()).isEqualTo(0xCAFEBABE);
    d.readUnsignedShort(); // minor
    return d.readUnsignedShort();
  }
}

package dev.gatehouse.testing;

import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs Node.js and npm for the tests that drive real npm packages (tests/node). */
public final class Node {

  /** The npm project of the tests. */
  public static final Path DIR = Path.of("tests/node").toAbsolutePath();

  private Node() {}

  /** A finished command: its exit code and its stdout and stderr merged. */
  public record Run(int exitCode, String output) {}

  /** Runs {@code npm ci} in {@link #DIR} unless its node_modules is there already. */
  public static void install() throws Exception {
    if (!Files.isDirectory(DIR.resolve("node_modules"))) {
      Run ci = exec(DIR, Map.of(), 300, "npm", "ci", "--no-audit", "--no-fund");
      if (ci.exitCode() != 0) {
        fail("npm ci in tests/node:\n" + ci.output());
      }
    }
  }

  /**
   * Runs a command to completion (or kills it after {@code timeoutSeconds}); stdout and stderr
   * merged.
   */
  public static Run exec(Path dir, Map<String, String> env, long timeoutSeconds, String... command)
      throws Exception {
    Path out = Files.createTempFile("gatehouse-node", ".log");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(out.toFile());
      pb.environment().putAll(env);
      pb.environment().put("NO_COLOR", "1");
      Process p = pb.start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        fail(
            String.join(" ", command)
                + " did not finish in "
                + timeoutSeconds
                + " s; output:\n"
                + Files.readString(out, StandardCharsets.UTF_8));
      }
      return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
    }
  }
}

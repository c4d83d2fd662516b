package dev.gatehouse.cli;

import dev.gatehouse.doctor.Finding;
import dev.gatehouse.doctor.JsonReport;
import dev.gatehouse.doctor.PostureMonitor;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * {@code serve}'s periodic posture check, each run in a child JVM of its own ({@code gatehouse
 * posture-run}, {@link PostureRunCommand}) rather than in the gateway. Run in the gateway, the
 * first run loaded about 850 classes the gateway never needs (the JDK's HTTP client and TLS,
 * doctor's rules), compiled them and allocated about 17 MB: RSS went from about 105 to 128 MiB 30 s
 * after start, and stayed there. The child takes all of that with it when it exits; the gateway
 * keeps only this class and the findings.
 *
 * <p>The child is the same Java and class path as this JVM, with a small heap of its own, the
 * gateway's environment, and the configuration file and flags {@code serve} was started with, so it
 * loads the configuration {@code serve} loaded (a file edited since is read as it is now). It
 * prints its report as JSON to a file this side holds open and has already unlinked, so no file is
 * left behind whatever happens to either process; its log lines go to the gateway's standard error.
 * A child that has not exited by the run's deadline plus {@link #GRACE} is killed, and the run
 * fails (the monitor logs it; the next run starts afresh). A child whose gateway dies without
 * stopping it (a kill -9) exits on its own: its standard input is a pipe the gateway holds, which
 * the kernel closes ({@code --exit-with-parent}).
 */
final class PostureChild implements PostureMonitor.Check {

  /**
   * How long past the run's deadline the child may take: its start (about a second), the probe in
   * flight at the deadline (at most its 3 s timeout) and the report.
   */
  static final Duration GRACE = Duration.ofSeconds(15);

  /** The longest report read back; a posture report is a few kilobytes. */
  static final int MAX_REPORT = 8 << 20;

  /** The child's JVM: a short run, so C1 only, and a heap that cannot grow past what it needs. */
  static final List<String> JVM_OPTIONS =
      List.of(
          "-XX:+UseSerialGC", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError");

  private final List<String> command;
  private final Map<String, String> env;
  private final Duration grace;

  /** The last run's child, for tests to see that it was stopped. */
  private volatile @Nullable ProcessHandle last;

  /**
   * @param args the arguments after {@code posture-run}, but for the run's timeout
   * @param grace how long past the deadline the child may run ({@link #GRACE}; tests shorten it)
   */
  PostureChild(List<String> args, Map<String, String> env, Duration grace) {
    List<String> c = new ArrayList<>();
    c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    c.addAll(JVM_OPTIONS);
    if (Runtime.version().feature() >= 23) {
      // as the launcher: Netty's buffers use sun.misc.Unsafe, which JDK 23 and newer warn about
      c.add("--sun-misc-unsafe-memory-access=allow");
    }
    c.add("-cp");
    c.add(System.getProperty("java.class.path"));
    c.add(Main.class.getName());
    c.add("posture-run");
    c.add("--exit-with-parent");
    c.addAll(args);
    this.command = List.copyOf(c);
    this.env = Map.copyOf(env);
    this.grace = grace;
  }

  /** The child of a {@code serve} started with these flags ({@code null}: not given). */
  static PostureChild forServe(
      Map<String, String> env,
      @Nullable Path configFlag,
      @Nullable String listenFlag,
      @Nullable String upstreamFlag) {
    List<String> args = new ArrayList<>();
    if (configFlag != null) {
      args.add("--config");
      args.add(configFlag.toAbsolutePath().toString());
    }
    // serve's overrides, passed on as the same flags (each option is named after its setting)
    ConfigOptions.flags(listenFlag, upstreamFlag)
        .forEach(
            (setting, value) -> {
              args.add("--" + setting);
              args.add(value);
            });
    return new PostureChild(args, env, GRACE);
  }

  /** The last run's child process; null before the first run. */
  @Nullable ProcessHandle lastChild() {
    return last;
  }

  /** The command line of a run with this timeout. */
  List<String> command(long runTimeoutMillis) {
    List<String> c = new ArrayList<>(command);
    c.add("--run-timeout-ms");
    c.add(Long.toString(runTimeoutMillis));
    return c;
  }

  @Override
  public List<Finding> findings(Clock clock, Instant deadline) throws IOException {
    long timeout = Math.max(1, Duration.between(clock.instant(), deadline).toMillis());
    ProcessBuilder pb =
        new ProcessBuilder(command(timeout))
            // a pipe this JVM holds and never writes to: the child exits when it closes, which the
            // kernel does when this JVM dies, however it dies (--exit-with-parent)
            .redirectInput(ProcessBuilder.Redirect.PIPE)
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().clear();
    pb.environment().putAll(env);
    Path report = Files.createTempFile("gatehouse-posture-", ".json");
    try (FileChannel read = FileChannel.open(report, StandardOpenOption.READ)) {
      Process child;
      try {
        child = pb.redirectOutput(report.toFile()).start();
        last = child.toHandle();
      } finally {
        Files.deleteIfExists(report); // both ends stay open; the name is not needed any more
      }
      try {
        if (!child.waitFor(timeout + grace.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new IOException(
              "the posture run's JVM did not finish within "
                  + (timeout + grace.toMillis())
                  + " ms (posture.run_timeout and "
                  + grace.toSeconds()
                  + " s); it was stopped");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("the posture run was interrupted; its JVM was stopped");
      } finally {
        if (child.isAlive()) {
          child.destroyForcibly();
        }
        child.getOutputStream().close();
      }
      if (child.exitValue() != 0) {
        throw new IOException(
            "the posture run's JVM exited with status "
                + child.exitValue()
                + " (its messages are in this log, above)");
      }
      long size = read.size();
      if (size > MAX_REPORT) {
        throw new IOException("the posture run's report is " + size + " bytes, over " + MAX_REPORT);
      }
      ByteBuffer buf = ByteBuffer.allocate((int) size);
      while (buf.hasRemaining() && read.read(buf) >= 0) {
        // read the whole report
      }
      try {
        return JsonReport.findings(buf.array());
      } catch (IllegalArgumentException e) {
        throw new IOException("the posture run's report is unreadable: " + e.getMessage(), e);
      }
    } finally {
      Files.deleteIfExists(report);
    }
  }
}

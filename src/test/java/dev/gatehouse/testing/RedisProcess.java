package dev.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} of any shape for the topology tests: a Sentinel, a Cluster node, a
 * TLS-only server or one with ACL users, from config lines written to a file of its own. Unlike
 * {@link RedisServer}, it waits only for its port to accept connections (a TLS port answers no
 * plain PING), and has no stop and resume.
 */
public final class RedisProcess implements AutoCloseable {

  private final int port;
  private final Path dir;
  private final Process process;

  private RedisProcess(int port, Path dir, Process process) {
    this.port = port;
    this.dir = dir;
    this.process = process;
  }

  /**
   * Starts {@code redis-server} listening on {@code port} (plain, or TLS when {@code lines} say
   * {@code port 0} and {@code tls-port}), with these config lines after the test defaults
   * (loopback, in memory, its own directory); {@code sentinel} runs it as a Sentinel.
   */
  public static RedisProcess start(int port, boolean sentinel, List<String> lines)
      throws IOException, InterruptedException {
    assertThat(RedisServer.BINARY).isExecutable();
    Path dir = Files.createTempDirectory("gh-redis-");
    List<String> conf = new ArrayList<>();
    conf.add("bind 127.0.0.1");
    conf.add("daemonize no");
    conf.add("dir " + dir);
    if (!sentinel) {
      conf.add("save \"\"");
      conf.add("appendonly no");
    }
    conf.add("port " + port);
    conf.addAll(lines);
    Path file = dir.resolve("redis.conf");
    Files.write(file, conf, StandardCharsets.UTF_8);
    List<String> cmd = new ArrayList<>(List.of(RedisServer.BINARY.toString(), file.toString()));
    if (sentinel) {
      cmd.add("--sentinel");
    }
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.log").toFile())
            .start();
    int listening =
        lines.stream()
            .filter(l -> l.startsWith("tls-port "))
            .map(l -> Integer.parseInt(l.substring(9).trim()))
            .findFirst()
            .orElse(port);
    RedisProcess r = new RedisProcess(listening, dir, p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!r.accepts()) {
      if (System.nanoTime() > deadline || !p.isAlive()) {
        String log = r.log();
        r.close();
        throw new IOException("redis-server did not start on port " + listening + ": " + log);
      }
      Thread.sleep(20);
    }
    return r;
  }

  /** A free loopback port, for a server or a Cluster bus. */
  public static int freePort() throws IOException {
    return PostgresServer.freePort();
  }

  /** The port it listens on (the TLS port for a TLS-only server). */
  public int port() {
    return port;
  }

  public String log() throws IOException {
    Path log = dir.resolve("redis.log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  /**
   * Runs {@code redis-cli} with these arguments and returns what it printed; fails when it does not
   * end within 30 s or ends with an error.
   */
  public static String cli(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/redis-cli"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException(
          "redis-cli " + String.join(" ", args) + ": " + new String(out, StandardCharsets.UTF_8));
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  private boolean accepts() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(20, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (var all = Files.walk(dir)) {
      all.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind
    }
  }
}

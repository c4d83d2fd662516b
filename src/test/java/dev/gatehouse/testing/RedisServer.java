package dev.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A real Redis server for the tests: Debian's {@code redis-server} (7 here; {@code .ci/run}
 * installs it) on a free loopback port, in memory only, optionally with a password. {@link #stop}
 * and {@link #resume} keep the port (not the data, which a restarted Redis loses too), for tests of
 * an outage.
 */
public final class RedisServer implements AutoCloseable {

  public static final Path BINARY = Path.of("/usr/bin/redis-server");

  private final int port;
  private final @Nullable String password;
  private final Path dir;
  private @Nullable Process process;

  private RedisServer(int port, @Nullable String password, Path dir) {
    this.port = port;
    this.password = password;
    this.dir = dir;
  }

  /** Starts a server without a password. */
  public static RedisServer start() throws IOException, InterruptedException {
    return start(null);
  }

  /** Starts a server that requires this password ({@code requirepass}), or none when null. */
  public static RedisServer start(@Nullable String password)
      throws IOException, InterruptedException {
    assertThat(BINARY)
        .as("Debian's redis-server (apt-get install redis-server; .ci/run does)")
        .isExecutable();
    RedisServer s =
        new RedisServer(PostgresServer.freePort(), password, Files.createTempDirectory("gh-redis"));
    s.resume();
    return s;
  }

  /** Starts the server (again), on the same port; returns once it answers PING. */
  public synchronized void resume() throws IOException, InterruptedException {
    List<String> c =
        new ArrayList<>(
            List.of(
                BINARY.toString(),
                "--port",
                String.valueOf(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.toString(),
                "--daemonize",
                "no"));
    if (password != null) {
      c.addAll(List.of("--requirepass", password));
    }
    process =
        new ProcessBuilder(c)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.log").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!answers()) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        throw new IOException(
            "redis-server did not start on port "
                + port
                + ": "
                + Files.readString(dir.resolve("redis.log")));
      }
      Thread.sleep(20);
    }
  }

  /** Kills the server (SIGKILL: as a crash looks to its clients) and waits for it to end. */
  public synchronized void stop() throws InterruptedException {
    Process p = process;
    if (p != null) {
      p.destroyForcibly();
      p.waitFor(20, TimeUnit.SECONDS);
      process = null;
    }
  }

  public int port() {
    return port;
  }

  public @Nullable String password() {
    return password;
  }

  /** The address as {@code redis.url} takes it: {@code redis://127.0.0.1:PORT}. */
  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  private boolean answers() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      // PING answers +PONG, or -NOAUTH when a password is set: either way the server is up.
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      int first = in.read();
      return first == '+' || first == '-';
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    try {
      stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (var all = Files.walk(dir)) {
      all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind
    }
  }
}

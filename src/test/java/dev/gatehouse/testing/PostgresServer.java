package dev.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for the tests: Debian's {@code postgresql} package (15 here; {@code
 * .ci/run} installs it), a fresh cluster in a temporary directory, on a free loopback port, with
 * password (SCRAM) authentication over TCP as a deployment has it. The server refuses to run as
 * root, so under root it runs as the {@code postgres} user the package creates. {@link #stop} and
 * {@link #start} again keep the data and the port, for tests of an outage.
 */
public final class PostgresServer implements AutoCloseable {

  public static final String USER = "gatehouse";
  public static final String PASSWORD = "test-password-not-secret";

  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final Path bin;
  private final Path dir;
  private final int port;

  private PostgresServer(Path bin, Path dir, int port) {
    this.bin = bin;
    this.dir = dir;
    this.port = port;
  }

  /** Creates a cluster and starts it; fails the test when PostgreSQL is not installed. */
  public static PostgresServer start() throws IOException, InterruptedException {
    Path bin = binaries();
    Path dir = Files.createTempDirectory("gh-postgres");
    if (asRoot()) {
      run(List.of("chown", "-R", "postgres:postgres", dir.toString()));
    }
    Path pw = dir.resolve("pwfile");
    Files.writeString(pw, PASSWORD + "\n", StandardCharsets.UTF_8);
    if (asRoot()) {
      run(List.of("chown", "postgres:postgres", pw.toString()));
    }
    run(
        as(
            bin.resolve("initdb").toString(),
            "-D",
            dir.resolve("data").toString(),
            "-U",
            USER,
            "--pwfile=" + pw,
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--no-sync"));
    PostgresServer s = new PostgresServer(bin, dir, freePort());
    s.resume();
    return s;
  }

  /** Starts the server again after {@link #stop}, on the same port and data. */
  public void resume() throws IOException, InterruptedException {
    run(
        as(
            bin.resolve("pg_ctl").toString(),
            "-D",
            dir.resolve("data").toString(),
            "-l",
            dir.resolve("server.log").toString(),
            "-w",
            "-t",
            "60",
            "-o",
            "-p "
                + port
                + " -k "
                + dir
                + " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                + " -c full_page_writes=off -c max_connections=200",
            "start"));
  }

  /** Stops the server at once (fast shutdown: open sessions are ended). */
  public void stop() throws IOException, InterruptedException {
    run(
        as(
            bin.resolve("pg_ctl").toString(),
            "-D",
            dir.resolve("data").toString(),
            "-m",
            "fast",
            "-w",
            "stop"));
  }

  public int port() {
    return port;
  }

  /** A JDBC URL for a database, over TCP to loopback. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /**
   * A new empty database owned by {@link #USER}, so that each test class (or test) starts clean;
   * returns its JDBC URL.
   */
  public String newDatabase() throws SQLException {
    String name = "gh_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
    try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), USER, PASSWORD);
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    }
    return jdbcUrl(name);
  }

  /** A file holding the password, as {@code store.password_file} names one. */
  public Path passwordFile() throws IOException {
    Path f = Files.createTempFile("gh-pg-password", ".txt");
    Files.writeString(f, PASSWORD + "\n", StandardCharsets.UTF_8);
    return f;
  }

  @Override
  public void close() throws IOException {
    try {
      stop();
    } catch (IOException e) {
      // already stopped
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** The newest {@code /usr/lib/postgresql/N/bin}. */
  private static Path binaries() throws IOException {
    Path root = Path.of("/usr/lib/postgresql");
    assertThat(root)
        .as("Debian's postgresql package (apt-get install postgresql; .ci/run does)")
        .isDirectory();
    try (Stream<Path> versions = Files.list(root)) {
      Path bin =
          versions
              .map(v -> v.resolve("bin"))
              .filter(b -> Files.isExecutable(b.resolve("postgres")))
              .max(Comparator.comparing(b -> Integer.parseInt(b.getParent().getFileName() + "")))
              .orElseThrow(() -> new IOException("no PostgreSQL server under " + root));
      return bin;
    }
  }

  private static boolean asRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static List<String> as(String... command) {
    List<String> c = new ArrayList<>();
    if (asRoot()) {
      c.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    c.addAll(List.of(command));
    return c;
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(
          String.join(" ", command) + " failed: " + new String(out, StandardCharsets.UTF_8));
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}

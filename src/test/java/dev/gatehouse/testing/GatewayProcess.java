package dev.gatehouse.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code gatehouse serve} in a JVM of its own, on a given config file and data directory: for
 * what only a separate process shows (a signal, a kill -9, two gateways on one store). Started by
 * {@link #start}, which returns once the public listener (and the admin listener, unless turned
 * off) is up; {@link #close} kills whatever is left.
 *
 * <p>By default it listens on 127.0.0.1 with a port of its own choosing, its admin listener
 * likewise ({@code GATEHOUSE_ADMIN_LISTEN=127.0.0.1:0}; pass {@code ""} to turn it off), two event
 * loops, no rate limits, and loopback exempt from bans; {@code env} overrides any of these, and the
 * config file what is not set by the environment.
 */
public final class GatewayProcess implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("listening on https?://[^ ]+:(\\d+)");
  private static final Pattern DASHBOARD = Pattern.compile("Dashboard on http://[^ ]+:(\\d+)/");
  private static final Pattern KEY = Pattern.compile("^\\s+(gk_\\S+)\\s*$");
  private static final Pattern ADMIN_TOKEN = Pattern.compile("^\\s+(gha_\\S+)\\s*$");

  private final Process process;
  private final int port;
  private final int adminPort;
  private final String firstKey;
  private final String adminToken;
  private final List<String> output;

  private GatewayProcess(
      Process process,
      int port,
      int adminPort,
      String firstKey,
      String adminToken,
      List<String> output) {
    this.process = process;
    this.port = port;
    this.adminPort = adminPort;
    this.firstKey = firstKey;
    this.adminToken = adminToken;
    this.output = output;
  }

  /**
   * Starts serve on {@code configFile} (null: none) and {@code dataDir}; waits until it listens.
   */
  public static GatewayProcess start(Path configFile, Path dataDir, Map<String, String> env)
      throws Exception {
    return start(configFile, dataDir, env, List.of());
  }

  /** As {@link #start(Path, Path, Map)}, with the JVM run under {@code prefix} ({@code nohup}). */
  public static GatewayProcess start(
      Path configFile, Path dataDir, Map<String, String> env, List<String> prefix)
      throws Exception {
    return start(configFile, dataDir, env, prefix, List.of());
  }

  /**
   * As {@link #start(Path, Path, Map, List)}, with {@code jvmOptions} given to the JVM after its
   * default heap of 256 MiB (so an {@code -Xmx} there wins).
   */
  public static GatewayProcess start(
      Path configFile,
      Path dataDir,
      Map<String, String> env,
      List<String> prefix,
      List<String> jvmOptions)
      throws Exception {
    String javaCmd = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(prefix);
    command.addAll(List.of(javaCmd, "-Xmx256m"));
    command.addAll(jvmOptions);
    // The coverage agent the build gave this JVM, if any, so that what only a process of its own
    // runs (serve, the drain, a signal) counts too; the agent appends to the same file on exit.
    ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("-javaagent:") && a.contains("jacoco"))
        .forEach(command::add);
    command.addAll(
        List.of("-cp", System.getProperty("java.class.path"), "dev.gatehouse.cli.Main", "serve"));
    if (configFile != null) {
      command.add("--config");
      command.add(configFile.toString());
    }
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("GATEHOUSE_HOME", dataDir.toString());
    settings.put("GATEHOUSE_LISTEN", "127.0.0.1:0");
    settings.put("GATEHOUSE_ADMIN_LISTEN", "127.0.0.1:0");
    settings.put("GATEHOUSE_SERVER_EVENT_LOOPS", "2");
    settings.put("GATEHOUSE_RATE_KEY_RPM", "0");
    settings.put("GATEHOUSE_RATE_IP_RPM", "0");
    settings.put("GATEHOUSE_RATE_ANONYMOUS_IP_RPM", "0");
    settings.put("GATEHOUSE_BANS_NEVER", "127.0.0.0/8,::1");
    settings.putAll(env);
    pb.environment().putAll(settings);
    boolean admin = !settings.get("GATEHOUSE_ADMIN_LISTEN").isEmpty();
    Process p = pb.start();
    List<String> output = java.util.Collections.synchronizedList(new ArrayList<>());
    LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  output.add(line);
                  lines.add(line);
                }
              } catch (IOException ignored) {
                // the process is gone
              }
            },
            "gateway-process-output");
    reader.setDaemon(true);
    reader.start();
    int port = -1;
    int adminPort = -1;
    String key = null;
    String token = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while ((port < 0 || (admin && adminPort < 0)) && System.nanoTime() < deadline) {
      String line = lines.poll(100, TimeUnit.MILLISECONDS);
      if (line == null) {
        if (!p.isAlive() && lines.isEmpty()) {
          break;
        }
        continue;
      }
      Matcher m;
      if ((m = KEY.matcher(line)).matches()) {
        key = m.group(1);
      } else if ((m = ADMIN_TOKEN.matcher(line)).matches()) {
        token = m.group(1);
      } else if ((m = LISTENING.matcher(line)).find()) {
        port = Integer.parseInt(m.group(1));
      } else if ((m = DASHBOARD.matcher(line)).find()) {
        adminPort = Integer.parseInt(m.group(1));
      }
    }
    if (port < 0 || (admin && adminPort < 0)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("gateway did not start:\n" + String.join("\n", output));
    }
    return new GatewayProcess(p, port, adminPort, key, token, output);
  }

  /** The public listener's port. */
  public int port() {
    return port;
  }

  /** The public listener's base URL, http://127.0.0.1:PORT. */
  public String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  /** The admin listener's port, or -1 when it is off. */
  public int adminPort() {
    return adminPort;
  }

  /** The API key a first start printed, or null (a data directory that had keys already). */
  public String firstKey() {
    return firstKey;
  }

  /** The admin credential a first start printed, or null (admin off, or one existed already). */
  public String adminToken() {
    return adminToken;
  }

  /** The process id, for signals of a test's own. */
  public long pid() {
    return process.pid();
  }

  /** Everything the process printed so far (stdout and stderr), one entry a line. */
  public List<String> output() {
    synchronized (output) {
      return List.copyOf(output);
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Sends SIGTERM: serve drains (shutdown.grace) and exits 0. */
  public void sigterm() throws Exception {
    signal("-TERM");
  }

  /** Sends SIGKILL: the process dies at once, as in a crash. */
  public void sigkill() throws Exception {
    signal("-KILL");
  }

  /** Sends SIGHUP: serve reloads its config. */
  public void sighup() throws Exception {
    signal("-HUP");
  }

  private void signal(String which) throws Exception {
    Process kill =
        new ProcessBuilder("kill", which, Long.toString(process.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill " + which + " " + process.pid() + " failed");
    }
  }

  /** The exit status once the process has ended within {@code timeout}, or null if it has not. */
  public Integer waitFor(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
  }

  /**
   * Stops the process if it still runs: SIGTERM first (it drains and exits, writing what it keeps
   * on exit), then SIGKILL if it has not ended within 15 s.
   */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (process.waitFor(15, TimeUnit.SECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}

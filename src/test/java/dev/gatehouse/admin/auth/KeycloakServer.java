package dev.gatehouse.admin.auth;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Keycloak for the tests: the server distribution that the build unpacks into {@code
 * target/keycloak} ({@code keycloak-quarkus-dist}, see the pom), run with the JDK that runs the
 * tests, on a free loopback port, with an in-memory database and the realm of {@code
 * src/test/resources/keycloak/gatehouse-realm.json} imported (its {@code ADMIN_PORT} replaced by
 * the admin listener's port, so the client's redirect URI is exact). The first start of an unpacked
 * distribution runs {@code kc.sh build} once; later starts skip it.
 */
final class KeycloakServer implements AutoCloseable {

  static final String REALM = "gatehouse";

  private final Process process;
  final int port;
  final Duration startedIn;

  private KeycloakServer(Process process, int port, Duration startedIn) {
    this.process = process;
    this.port = port;
    this.startedIn = startedIn;
  }

  String issuer() {
    return "http://127.0.0.1:" + port + "/realms/" + REALM;
  }

  /** Picks the port to run on, before the admin listener is configured with the issuer. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static Path home() {
    String home = System.getProperty("gatehouse.keycloak.home");
    if (home == null) {
      throw new IllegalStateException(
          "gatehouse.keycloak.home is not set: run the tests through Maven, which unpacks Keycloak");
    }
    return Path.of(home);
  }

  /** Starts Keycloak on {@code port} and waits until the realm's discovery document answers. */
  static KeycloakServer start(int port, int adminPort) throws Exception {
    long t0 = System.nanoTime();
    Path home = home();
    if (!Files.isRegularFile(home.resolve("bin/kc.sh"))) {
      throw new IllegalStateException("no Keycloak distribution at " + home);
    }
    Path log = home.resolve("gatehouse-test.log");
    Path built = home.resolve(".gatehouse-built");
    if (!Files.exists(built)) {
      // Build-time options, fixed once: an in-memory database and a local cache (no cluster).
      Process b = command(home, log, List.of("build", "--db=dev-mem", "--cache=local")).start();
      if (!b.waitFor(5, TimeUnit.MINUTES) || b.exitValue() != 0) {
        b.destroyForcibly();
        throw new IllegalStateException("kc.sh build failed; see " + log);
      }
      Files.writeString(built, "built\n");
    }
    Path imports = home.resolve("data/import");
    Files.createDirectories(imports);
    try (InputStream in =
        KeycloakServer.class
            .getClassLoader()
            .getResourceAsStream("keycloak/gatehouse-realm.json")) {
      String realm = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      Files.writeString(
          imports.resolve("gatehouse-realm.json"),
          realm.replace("ADMIN_PORT", Integer.toString(adminPort)));
    }
    Process p =
        command(
                home,
                log,
                List.of(
                    "start",
                    "--optimized",
                    "--http-enabled=true",
                    "--http-host=127.0.0.1",
                    "--http-port=" + port,
                    "--hostname-strict=false",
                    "--import-realm"))
            .start();
    KeycloakServer kc = new KeycloakServer(p, port, Duration.ZERO);
    HttpClient http = HttpClient.newHttpClient();
    URI discovery = URI.create(kc.issuer() + "/.well-known/openid-configuration");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("Keycloak exited with " + p.exitValue() + "; see " + log);
      }
      try {
        HttpResponse<Void> r =
            http.send(
                HttpRequest.newBuilder(discovery).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return new KeycloakServer(p, port, Duration.ofNanos(System.nanoTime() - t0));
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(500);
    }
    kc.close();
    throw new IllegalStateException("Keycloak did not start in 4 minutes; see " + log);
  }

  private static ProcessBuilder command(Path home, Path log, List<String> args) {
    List<String> cmd = new ArrayList<>(List.of("bash", home.resolve("bin/kc.sh").toString()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile());
    // The JDK running the tests (21 or newer, which Keycloak 26 needs).
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().remove("JAVA_OPTS");
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return pb;
  }

  @Override
  public void close() {
    // kc.sh runs java as a child: stop the whole tree.
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

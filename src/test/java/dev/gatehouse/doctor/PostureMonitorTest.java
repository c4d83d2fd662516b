package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.testing.FakeLlmServer;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.Poll;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The periodic posture check against a running gateway: a fake vLLM that starts listening on
 * 0.0.0.0 (a real socket on a free port; the proc tree doctor reads is this test's, so no real
 * public interface is needed) is raised through the gateway's alert rules to its webhook as {@code
 * posture_finding}, once, however many runs see it again.
 */
class PostureMonitorTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String TCP_HEADER = DiscoveryTest.TCP_HEADER;

  /** Records the alert webhook's POSTs. */
  static final class Hook implements AutoCloseable {
    final HttpServer server;
    final List<JsonNode> alerts = new CopyOnWriteArrayList<>();

    Hook() throws Exception {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(Executors.newFixedThreadPool(2));
      server.createContext(
          "/hook",
          ex -> {
            try {
              alerts.add(
                  JSON.readTree(
                      new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            } catch (Exception e) {
              // not JSON: not an alert
            }
            ex.sendResponseHeaders(204, -1);
            ex.close();
          });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    List<JsonNode> posture() {
      return alerts.stream()
          .filter(a -> a.path("alert").asText().equals("posture_finding"))
          .toList();
    }

    @Override
    public void close() {
      server.stop(0);
      ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
  }

  /** A proc tree listing these sockets (address hex as /proc/net/tcp writes it, port). */
  static void listen(Path proc, Map<Integer, String> sockets) throws Exception {
    StringBuilder b = new StringBuilder(TCP_HEADER);
    int i = 0;
    for (Map.Entry<Integer, String> s : sockets.entrySet()) {
      b.append(
          String.format(
              "   %d: %s:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 100 0 0 10 0%n",
              i, s.getValue(), s.getKey(), 50000 + i));
      i++;
    }
    Files.createDirectories(proc.resolve("net"));
    Files.writeString(proc.resolve("net/tcp.tmp"), b.toString());
    Files.move(
        proc.resolve("net/tcp.tmp"),
        proc.resolve("net/tcp"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  void aModelServerThatStartsOnAPublicAddressIsRaisedOnce(@TempDir Path tmp) throws Exception {
    try (Hook hook = new Hook();
        FakeLlmServer upstream =
            FakeLlmServer.start(FakeLlmServer.Kind.OLLAMA, "0.35.0", "127.0.0.1", null, false);
        GatewayFixture gw =
            GatewayFixture.start(Map.of("upstream", upstream.url(), "alerts.webhook", hook.url()));
        JdkHttpProbe http = new JdkHttpProbe(Duration.ofSeconds(5), "gatehouse-test")) {
      Path proc = tmp.resolve("proc");
      Map<Integer, String> sockets = new java.util.concurrent.ConcurrentSkipListMap<>();
      sockets.put(gw.port(), "0100007F");
      sockets.put(upstream.port(), "0100007F");
      listen(proc, sockets);
      List<Integer> ports = new CopyOnWriteArrayList<>(List.of(gw.port(), upstream.port()));
      PostureMonitor.Run run =
          new PostureMonitor.Run(
              () ->
                  new Doctor.Inputs(
                      proc,
                      List.of(tmp.resolve("no-units")),
                      Map.of(),
                      List.copyOf(ports),
                      gw.config,
                      Path.of("/etc/gatehouse/gatehouse.yaml"),
                      List.of(),
                      noKeys(),
                      Advisories.builtIn(),
                      http,
                      Clock.systemUTC(),
                      "test",
                      Severity.HIGH));
      List<Finding> raised = new CopyOnWriteArrayList<>();
      try (PostureMonitor monitor =
          new PostureMonitor(
                  run,
                  Duration.ofMillis(50),
                  Duration.ofSeconds(30),
                  f -> {
                    raised.add(f);
                    gw.gateway()
                        .alerts()
                        .posture(f.id(), f.severity().label(), f.subject(), f.title());
                  },
                  Clock.systemUTC())
              .start()) {
        // why: the setup doctor recommends (upstream on loopback behind Gatehouse) raises nothing
        await(() -> monitor.runs() >= 2);
        assertThat(raised).as(raised.toString()).isEmpty();

        try (FakeLlmServer vllm =
            FakeLlmServer.start(FakeLlmServer.Kind.VLLM, "0.6.3", "0.0.0.0", null, false)) {
          ports.add(vllm.port());
          sockets.put(vllm.port(), "00000000");
          listen(proc, sockets);
          long seen = monitor.runs();
          await(() -> monitor.runs() >= seen + 4);
          // why: the wildcard listener and what it exposes each appear once, though four runs saw
          // them
          List<String> ids = raised.stream().map(Finding::id).toList();
          assertThat(ids)
              .contains("GH-EXPOSED-WILDCARD", "GH-UNAUTH-INFERENCE", "GH-ADVISORY-CVE-2025-48956")
              .doesNotHaveDuplicates();
          assertThat(raised)
              .allMatch(
                  f ->
                      f.subject().contains(":" + vllm.port())
                          && f.severity().atLeast(Severity.HIGH));
          await(
              () ->
                  hook.posture().stream()
                      .anyMatch(a -> a.toString().contains("GH-EXPOSED-WILDCARD")));
          List<String> groups = new ArrayList<>();
          hook.posture().forEach(a -> groups.add(a.path("group").path("value").asText()));
          assertThat(groups)
              .doesNotHaveDuplicates()
              .anyMatch(
                  g -> g.startsWith("GH-EXPOSED-WILDCARD vllm 0.6.3 at 0.0.0.0:" + vllm.port()));
          assertThat(hook.posture()).allMatch(a -> a.path("severity").asText().equals("critical"));
          // why: the periodic check never sends a request that could change state or run a model
          assertThat(vllm.stateChanges()).isEmpty();
          assertThat(upstream.stateChanges()).isEmpty();
        }
        // why: it went away, then comes back: that is new again
        sockets.keySet().removeIf(p -> !p.equals(gw.port()) && !p.equals(upstream.port()));
        listen(proc, sockets);
        long seen = monitor.runs();
        await(() -> monitor.runs() >= seen + 2);
        int before = raised.size();
        try (FakeLlmServer again =
            FakeLlmServer.start(FakeLlmServer.Kind.VLLM, "0.6.3", "0.0.0.0", null, false)) {
          ports.add(again.port());
          sockets.put(again.port(), "00000000");
          listen(proc, sockets);
          // One run raises every new finding in turn (the server's advisories too), so wait for the
          // wildcard one among them rather than judging the first snapshot that grew.
          await(
              () -> {
                List<Finding> now =
                    List.copyOf(raised); // a snapshot: the monitor's thread may still append
                return now.subList(before, now.size()).stream()
                    .anyMatch(f -> f.id().equals("GH-EXPOSED-WILDCARD"));
              });
          List<Finding> now = List.copyOf(raised);
          assertThat(now.subList(before, now.size()))
              .anyMatch(f -> f.id().equals("GH-EXPOSED-WILDCARD"));
        }
      }
    }
  }

  @Test
  void aRunStopsSendingAfterItsTimeout(@TempDir Path tmp) throws Exception {
    // why: the bound holds whatever the servers do: a clock past the deadline lets no request out
    Path proc = tmp.resolve("proc");
    try (FakeLlmServer vllm =
            FakeLlmServer.start(FakeLlmServer.Kind.VLLM, "0.6.3", "127.0.0.1", null, false);
        JdkHttpProbe http = new JdkHttpProbe(Duration.ofSeconds(5), "gatehouse-test")) {
      listen(proc, Map.of(vllm.port(), "00000000"));
      dev.gatehouse.testing.MutableClock clock =
          new dev.gatehouse.testing.MutableClock(java.time.Instant.parse("2026-12-02T00:00:00Z"));
      HttpProbe slow =
          (base, r) -> {
            clock.advance(Duration.ofSeconds(1)); // each request "takes" a second
            return http.send(base, r);
          };
      dev.gatehouse.config.GatehouseConfig config =
          dev.gatehouse.config.ConfigLoader.load(null, false, Map.of(), Map.of(), ConfigChecks.ALL);
      PostureMonitor.Run run =
          new PostureMonitor.Run(
              () ->
                  new Doctor.Inputs(
                      proc,
                      List.of(),
                      Map.of(),
                      List.of(vllm.port()),
                      config,
                      null,
                      List.of(),
                      noKeys(),
                      Advisories.builtIn(),
                      slow,
                      clock,
                      "test",
                      Severity.HIGH));
      try (PostureMonitor m =
          new PostureMonitor(run, Duration.ofHours(1), Duration.ofSeconds(3), f -> {}, clock)) {
        m.runOnce();
      }
      assertThat(vllm.requests()).hasSizeLessThanOrEqualTo(4);
      assertThat(vllm.requests()).isNotEmpty();
    }
  }

  static ConfigAudit.KeySource noKeys() {
    return new ConfigAudit.KeySource() {
      @Override
      public boolean exists() {
        return false;
      }

      @Override
      public List<dev.gatehouse.store.KeyRecord> keys() {
        return List.of();
      }

      @Override
      public String describe() {
        return "none";
      }
    };
  }

  static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
    Poll.until("the condition", Duration.ofSeconds(60), condition);
  }
}

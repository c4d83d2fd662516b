package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.store.SqliteStore;
import dev.gatehouse.testing.FakeUpstream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The durability promise, tested the hard way: a gateway in its own process serves a bounded load,
 * is killed with SIGKILL mid-load, and is started again on the same data directory. Every response
 * a client received in full (X-Request-Id and the whole body) must have its audit record, in the
 * JSONL file and in the database, and the restarted log must verify. Under each {@code
 * audit.durability} that promises it: {@code written} (the default: the record written to the file
 * before the last byte, the fsync in the background) and {@code fsync} (fsynced before it).
 */
class AuditCrashTest {

  private static final Pattern LISTENING =
      Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern KEY = Pattern.compile("^\\s+(gk_\\S+)\\s*$");
  private static final int CLIENTS = 8;

  @TempDir Path dir;

  /** A gateway process and what it printed on start. */
  private record Served(Process process, int port, String firstKey) {}

  private Served serve(String upstream, String durability) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb =
        new ProcessBuilder(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            "dev.gatehouse.cli.Main",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            upstream);
    pb.environment().put("GATEHOUSE_HOME", dir.toString());
    pb.environment().put("GATEHOUSE_RATE_KEY_RPM", "0");
    pb.environment().put("GATEHOUSE_RATE_IP_RPM", "0");
    pb.environment().put("GATEHOUSE_RATE_ANONYMOUS_IP_RPM", "0");
    pb.environment().put("GATEHOUSE_SERVER_EVENT_LOOPS", "2");
    pb.environment().put("GATEHOUSE_AUDIT_DURABILITY", durability);
    pb.environment().put("GATEHOUSE_ADMIN_LISTEN", "127.0.0.1:0");
    // The load sends refused requests from loopback too: keep it from being banned for that.
    pb.environment().put("GATEHOUSE_BANS_NEVER", "127.0.0.0/8,::1");
    pb.redirectErrorStream(true);
    Process p = pb.start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String key = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String line;
    StringBuilder seen = new StringBuilder();
    while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
      seen.append(line).append('\n');
      Matcher k = KEY.matcher(line);
      if (k.matches()) {
        key = k.group(1);
      }
      Matcher m = LISTENING.matcher(line);
      if (m.find()) {
        Thread drain =
            new Thread(
                () -> {
                  try {
                    while (out.readLine() != null) {
                      // keep the pipe from filling up
                    }
                  } catch (IOException ignored) {
                    // the process is gone
                  }
                });
        drain.setDaemon(true);
        drain.start();
        return new Served(p, Integer.parseInt(m.group(1)), key);
      }
    }
    p.destroyForcibly();
    throw new AssertionError("gateway did not start:\n" + seen);
  }

  // why: written is the default, and kill -9 leaves the page cache, so written records survive it;
  // fsync is the opt-in for power loss and must keep the same promise
  @ParameterizedTest(name = "audit.durability: {0}")
  @ValueSource(strings = {"written", "fsync"})
  void everyResponseReceivedInFullSurvivesKillDashNine(String durability) throws Exception {
    List<String> received = new ArrayList<>();
    try (FakeUpstream upstream = new FakeUpstream()) {
      Served first = serve(upstream.url(), durability);
      assertThat(first.firstKey()).as("first start prints a key").isNotNull();
      HttpClient http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(5))
              .build();
      long w0 = System.nanoTime();
      for (int i = 0; i < 20; i++) { // warm up the new JVM
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + first.port() + "/api/chat"))
                .header("Authorization", "Bearer " + first.firstKey())
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[]}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
      }
      System.out.println(
          "warm-up: " + (System.nanoTime() - w0) / 1_000_000 + " ms for 20 requests");
      ConcurrentLinkedQueue<String> complete = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<String> statuses = new ConcurrentLinkedQueue<>();
      AtomicBoolean stop = new AtomicBoolean();
      CountDownLatch done = new CountDownLatch(CLIENTS);
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        Thread t =
            new Thread(
                () -> {
                  try {
                    for (int i = 0; !stop.get(); i++) {
                      // A mix: relayed chats, streamed chats, and refusals (no key).
                      boolean refused = (i + client) % 4 == 0;
                      boolean streamed = (i + client) % 4 == 1;
                      HttpRequest.Builder rb =
                          HttpRequest.newBuilder(
                                  URI.create("http://127.0.0.1:" + first.port() + "/api/chat"))
                              .timeout(Duration.ofSeconds(10))
                              .POST(
                                  HttpRequest.BodyPublishers.ofString(
                                      "{\"model\":\"llama3.2:3b\",\"stream\":"
                                          + streamed
                                          + ",\"messages\":[]}"));
                      if (!refused) {
                        rb.header("Authorization", "Bearer " + first.firstKey());
                      }
                      try {
                        // send() returns only once the whole body arrived (Content-Length met or
                        // the
                        // terminating chunk read); a cut connection throws instead.
                        HttpResponse<String> r =
                            http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
                        String id = r.headers().firstValue("X-Request-Id").orElse(null);
                        statuses.add(
                            r.statusCode()
                                + " "
                                + (r.body().contains("done")
                                    ? "done"
                                    : r.body().substring(0, Math.min(30, r.body().length()))));
                        if (id != null
                            && (refused
                                ? r.statusCode() == 401
                                : r.statusCode() == 200 && r.body().contains("done"))) {
                          complete.add(id);
                        }
                      } catch (IOException e) {
                        statuses.add(e.toString());
                        // the gateway died mid-response: not received in full, nothing promised
                      }
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  } finally {
                    done.countDown();
                  }
                });
        t.setDaemon(true);
        t.start();
      }
      Thread.sleep(2500);
      first.process().destroyForcibly(); // SIGKILL: no shutdown hook, no final flush
      assertThat(first.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
      stop.set(true);
      assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
      received.addAll(complete);
      assertThat(received)
          .as(
              "load ran: "
                  + statuses.stream()
                      .collect(
                          java.util.stream.Collectors.groupingBy(
                              x -> x.substring(0, Math.min(40, x.length())),
                              java.util.stream.Collectors.counting())))
          .hasSizeGreaterThan(50);

      Served second = serve(upstream.url(), durability); // recovers the log on start
      HttpResponse<String> after =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + second.port() + "/healthz"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(after.statusCode()).isEqualTo(200);
      second.process().destroy(); // SIGTERM: the shutdown hook closes the log and signs it
      assertThat(second.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    ObjectMapper json = new ObjectMapper();
    Set<String> inFile = new HashSet<>();
    for (String line : Files.readAllLines(dir.resolve(AuditWriter.FILE), StandardCharsets.UTF_8)) {
      inFile.add(json.readTree(line).path("request_id").asText());
    }
    assertThat(inFile).containsAll(received);
    Set<String> inDb = new HashSet<>();
    try (SqliteStore store = SqliteStore.open(dir)) {
      store.forEachAuditRow(r -> inDb.add(r.requestId()));
      byte[] key = AuditKey.load(dir.resolve("audit-hmac.key"));
      AuditVerifier.Result f =
          AuditVerifier.verifyLog(dir, dir.resolve(AuditWriter.CHECKPOINTS), key);
      assertThat(f.ok()).as(f.describe()).isTrue();
      AuditVerifier.Result d =
          AuditVerifier.verifyStore(store, dir.resolve(AuditWriter.CHECKPOINTS), key);
      assertThat(d.ok()).as(d.describe()).isTrue();
      System.out.println(
          "audit crash test ("
              + durability
              + "): "
              + received.size()
              + " complete responses before kill -9, "
              + f.records()
              + " records after restart; "
              + f.describe());
    }
    assertThat(inDb).containsAll(received);
  }
}

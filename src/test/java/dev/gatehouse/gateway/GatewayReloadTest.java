package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.testing.GatewayFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A running gateway's config reload, on a real listener in front of a fake upstream that records
 * what reached it: live settings apply to new requests, a stream running across the reload keeps
 * its pipeline to the end, an invalid file changes nothing, and a setting that needs a restart is
 * reported and kept.
 */
class GatewayReloadTest {

  private static final String GENERATE =
      "{\"model\":\"llama3.2:3b\",\"prompt\":\"hi\",\"stream\":false}";

  private GatewayFixture gw;
  private Path file;
  private String key;

  @BeforeEach
  void start() throws Exception {
    gw = GatewayFixture.start();
    key = gw.newKey();
    file = Files.createTempFile(gw.dataDir, "gatehouse", ".yaml");
    Files.writeString(file, "rate:\n  key_rpm: 0\n");
  }

  @AfterEach
  void stop() {
    gw.close();
  }

  /** The fixture's own settings (GatewayFixture), which the file is layered under. */
  private Map<String, String> fixtureFlags() {
    Map<String, String> flags = new LinkedHashMap<>();
    flags.put("listen", "127.0.0.1:0");
    flags.put("upstream", gw.upstream.url());
    flags.put("data_dir", gw.dataDir.toString());
    flags.put("server.event_loops", "2");
    flags.put("rate.ip_rpm", "0");
    flags.put("rate.anonymous_ip_rpm", "0");
    flags.put("bans.never", "127.0.0.0/8,::1");
    flags.put("network.allowed_hosts", "*");
    flags.put("health.interval", "0s");
    return flags;
  }

  /** The reloader serve builds, reading this test's file under the fixture's settings. */
  private Reloader reloader() {
    return new Reloader(
        gw.gateway(),
        () -> ConfigLoader.load(file, true, Map.of(), fixtureFlags(), ConfigChecks.ALL));
  }

  /**
   * Writes the file. The fixture turns the key rate off with a flag, which would win over the file,
   * so the file does it here unless {@code yaml} sets rates itself.
   */
  private void writeConfig(String yaml) throws Exception {
    Files.writeString(file, yaml.contains("rate:") ? yaml : "rate:\n  key_rpm: 0\n" + yaml);
  }

  private int generate() throws Exception {
    return gw.post("/api/generate", key, GENERATE).statusCode();
  }

  @Test
  void aLiveChangeAppliesToNewRequestsWhileARunningStreamFinishesWithAllItsChunks()
      throws Exception {
    // why: the reload promise: applied atomically to new requests, none dropped
    gw.upstream.streaming(20, 50); // about a second of chunks
    HttpClient http = HttpClient.newHttpClient();
    CompletableFuture<HttpResponse<String>> stream =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/api/generate"))
                .header("Authorization", "Bearer " + key)
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"llama3.2:3b\",\"prompt\":\"long\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (gw.upstream.requests().stream().noneMatch(r -> r.body().contains("long"))
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(stream).isNotDone();

    // a key may now make one request at once and one a minute
    writeConfig("rate:\n  key_rpm: 1\n  key_burst: 1\n");
    ReloadOutcome outcome = reloader().call();

    assertThat(outcome.applied()).isTrue();
    assertThat(outcome.errors()).isEmpty();
    assertThat(outcome.changed()).containsExactly("rate.key_rpm", "rate.key_burst");
    assertThat(outcome.restartRequired()).isEmpty();
    assertThat(gw.gateway().config().rate().keyRpm()).isEqualTo(1);
    assertThat(stream).as("the stream still runs across the reload").isNotDone();

    assertThat(generate()).isEqualTo(200);
    assertThat(generate()).as("the new rate applies to new requests").isEqualTo(429);

    HttpResponse<String> streamed = stream.get(20, TimeUnit.SECONDS);
    assertThat(streamed.statusCode()).isEqualTo(200);
    String body = streamed.body();
    assertThat(body.split("\n")).hasSize(21); // 20 chunks and the final line
    assertThat(body).contains("\"seq\":19").contains("\"done\":true");
  }

  @Test
  void anInvalidFileChangesNothingAndReturnsEveryError() throws Exception {
    // why: a file that fails validation must leave the running config in force, and say why
    writeConfig(
        "rate:\n  key_rpm: 1\n  key_burst: 1\ncaps:\n  mode: sometimes\nprobes:\n  action: maybe\n");
    GatehouseConfig before = gw.gateway().config();

    ReloadOutcome outcome = reloader().call();

    assertThat(outcome.applied()).isFalse();
    assertThat(outcome.changed()).isEmpty();
    assertThat(outcome.errors())
        .containsExactly(
            "probes.action: maybe (expected: log, ban or tarpit)",
            "caps.mode: sometimes (expected: clamp or reject)");
    assertThat(gw.gateway().config()).isSameAs(before);
    for (int i = 0; i < 3; i++) {
      assertThat(generate()).as("rate.key_rpm: 1 was not applied").isEqualTo(200);
    }

    writeConfig("rate: [not, a, mapping\n");
    ReloadOutcome broken = reloader().call();
    assertThat(broken.applied()).isFalse();
    assertThat(broken.errors()).singleElement().asString().contains("expected: valid YAML");
    assertThat(gw.gateway().config()).isSameAs(before);
  }

  @Test
  void aRestartOnlyChangeIsReportedAndKeepsItsRunningValue() throws Exception {
    // why: what cannot change live must say so, and not half-apply (the merge is explicit)
    GatehouseConfig before = gw.gateway().config();
    writeConfig(
        "concurrency:\n  global: 7\n  per_key: 3\nlimits:\n  max_upstream_connections: 9\n"
            + "audit:\n  prompt: sha256\n");

    ReloadOutcome outcome = reloader().call();

    assertThat(outcome.applied()).isTrue();
    assertThat(outcome.changed()).containsExactly("concurrency.per_key", "audit.prompt");
    assertThat(outcome.restartRequired())
        .containsExactly("limits.max_upstream_connections", "concurrency.global");
    GatehouseConfig now = gw.gateway().config();
    assertThat(now.concurrency().perKey()).isEqualTo(3);
    assertThat(now.audit().prompt()).isEqualTo(GatehouseConfig.AuditPrompt.SHA256);
    assertThat(now.concurrency().global()).isEqualTo(before.concurrency().global());
    assertThat(now.limits().maxUpstreamConnections())
        .isEqualTo(before.limits().maxUpstreamConnections());
    assertThat(generate()).isEqualTo(200);

    // a second reload of the same file changes nothing more, and still reports the restart
    ReloadOutcome again = reloader().call();
    assertThat(again.changed()).isEmpty();
    assertThat(again.restartRequired())
        .containsExactly("limits.max_upstream_connections", "concurrency.global");
  }

  @Test
  void aLiveModelPolicyChangeRefusesWhatItNoLongerAllows() throws Exception {
    // why: a route policy (cloud models) is live: allowed after the reload, refused again after
    String cloud = "{\"model\":\"gpt-oss:120b-cloud\",\"prompt\":\"hi\",\"stream\":false}";
    assertThat(gw.post("/api/generate", key, cloud).statusCode()).isEqualTo(403);
    writeConfig("policy:\n  allow_cloud_models: true\n");
    assertThat(reloader().call().changed()).containsExactly("policy.allow_cloud_models");
    assertThat(gw.post("/api/generate", key, cloud).statusCode()).isNotEqualTo(403);
    writeConfig("");
    assertThat(reloader().call().changed()).containsExactly("policy.allow_cloud_models");
    assertThat(gw.post("/api/generate", key, cloud).statusCode()).isEqualTo(403);
  }

  @Test
  void aReloadOnAVertxWorkerApplies() throws Exception {
    // why: POST /api/v1/reload runs the reload on a Vert.x worker thread; Future.await refuses
    // those threads, and the first version failed there (503) while SIGHUP's thread worked
    writeConfig("policy:\n  allow_cloud_models: true\n");
    ReloadOutcome outcome =
        gw.gateway()
            .vertx()
            .executeBlocking(() -> reloader().call(), false)
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    assertThat(outcome.applied()).isTrue();
    assertThat(outcome.changed()).containsExactly("policy.allow_cloud_models");
  }

  @Test
  void aReloadOnAnEventLoopIsRefused() throws Exception {
    // why: a reload reads files and waits for every loop; on a loop it would stall requests
    CompletableFuture<Throwable> thrown = new CompletableFuture<>();
    gw.gateway()
        .vertx()
        .runOnContext(
            v -> {
              try {
                gw.gateway().reload(gw.gateway().config());
                thrown.complete(null);
              } catch (RuntimeException e) {
                thrown.complete(e);
              }
            });
    assertThat(thrown.get(5, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class);
  }
}

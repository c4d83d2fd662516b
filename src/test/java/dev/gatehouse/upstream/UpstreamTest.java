package dev.gatehouse.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.testing.FakeUpstream;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The upstream: its URL parsed once, one probe for health and readiness, its model digests. */
class UpstreamTest {

  private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
  private final List<String> changes = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private Upstream upstream(String url, Map<String, String> settings) throws Exception {
    Map<String, String> flags = new HashMap<>(settings);
    flags.put("upstream", url);
    GatehouseConfig config =
        ConfigLoader.load(null, false, Map.of(), flags, dev.gatehouse.gateway.ConfigChecks.ALL);
    return new Upstream(vertx, config, (up, detail) -> changes.add(up + " " + detail));
  }

  private static long probes(FakeUpstream fake) {
    return fake.requests().stream().filter(r -> r.uri().equals("/")).count();
  }

  private static <T> T await(Future<T> f) {
    return f.toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
  }

  @Test
  void theUrlIsParsedOnce() {
    // why: plain http with no port means 80, as a browser would read it
    assertThat(Upstream.Address.parse(URI.create("http://127.0.0.1")))
        .isEqualTo(new Upstream.Address("http", "127.0.0.1", 80, false, ""));
    // why: https means TLS on 443
    assertThat(Upstream.Address.parse(URI.create("https://models.internal/")))
        .isEqualTo(new Upstream.Address("https", "models.internal", 443, true, ""));
    // why: an explicit port wins over the scheme's default
    assertThat(Upstream.Address.parse(URI.create("https://models.internal:8443")).port())
        .isEqualTo(8443);
    // why: an IPv6 literal keeps its brackets: Vert.x connects to it, and the Host header needs
    // them
    assertThat(Upstream.Address.parse(URI.create("http://[::1]:11434")))
        .isEqualTo(new Upstream.Address("http", "[::1]", 11434, false, ""));
    // why: a server under a path prefix gets every request target under it, with one slash
    Upstream.Address based =
        Upstream.Address.parse(URI.create("http://proxy.internal:8080/ollama/"));
    assertThat(based.basePath()).isEqualTo("/ollama");
    assertThat(based.target("/api/tags?x=1")).isEqualTo("/ollama/api/tags?x=1");
    assertThat(Upstream.Address.parse(URI.create("HTTP://h:1")).scheme()).isEqualTo("http");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ftp://127.0.0.1:11434", // why: only HTTP is relayed
        "localhost:11434", // why: no scheme: the host is read as one, and not an HTTP one
        "http:///api", // why: no host to connect to
        "http://user:secret@127.0.0.1:11434", // why: credentials in a URL end up in logs
        "http://127.0.0.1:11434/?x=1", // why: a request target cannot follow a query
        "http://127.0.0.1:11434/#top", // why: nor a fragment
        "http://127.0.0.1:70000", // why: no such port
      })
  void aBadUrlIsRefused(String url) {
    assertThatThrownBy(() -> Upstream.Address.parse(URI.create(url)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("upstream: " + url + " (expected: ");
  }

  @Test
  void readinessAndTheHealthCheckAreOneProbe() throws Exception {
    try (FakeUpstream fake = new FakeUpstream()) {
      Upstream up = upstream(fake.url(), Map.of("health.timeout", "2s"));
      assertThat(up.health().state()).isEqualTo(-1);
      // why: a readiness probe is a health check: it moves the state the metrics and alerts read
      assertThat(await(up.ready())).isTrue();
      assertThat(probes(fake)).isEqualTo(1);
      assertThat(up.health().state()).isEqualTo(1);
      // why: within a second readiness is answered from that check; a poller is not load upstream
      assertThat(await(up.ready())).isTrue();
      assertThat(probes(fake)).isEqualTo(1);
      // why: a periodic check that finds it up is itself fresh for readiness
      assertThat(await(up.health().check())).isTrue();
      assertThat(await(up.ready())).isTrue();
      assertThat(probes(fake)).isEqualTo(2);
      assertThat(changes).as("a first check that finds it up is no change").isEmpty();

      // why: checks that come while one runs join it rather than each sending a request
      fake.firstByteDelay(300);
      List<Future<Boolean>> joined = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        joined.add(up.health().check());
      }
      for (Future<Boolean> f : joined) {
        assertThat(await(f)).isTrue();
      }
      assertThat(probes(fake)).isEqualTo(3);
    }
  }

  @Test
  void poolsOutliveTheContextsThatFirstUseThem() throws Exception {
    // why: a loop's pool serves its requests and its timer ticks alike, and belongs to none of
    // them: Vert.x closes a client with the context that built it, so none builds it
    try (FakeUpstream fake = new FakeUpstream()) {
      Upstream up = upstream(fake.url(), Map.of("models.pin_refresh", "1ms"));
      HttpServer front =
          vertx
              .createHttpServer()
              .requestHandler(
                  r ->
                      up.modelDigests()
                          .onComplete(ar -> r.response().end(ar.succeeded() ? "ok" : "failed")))
              .listen(0, "127.0.0.1")
              .await();
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      up.health().start(java.time.Duration.ofMillis(20));
      for (int i = 0; i < 6; i++) {
        java.net.http.HttpResponse<String> r =
            http.send(
                java.net.http.HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + front.actualPort() + "/"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("ok");
        Thread.sleep(50);
      }
      up.close();
      assertThat(probes(fake)).isGreaterThanOrEqualTo(6);
      assertThat(up.health().state()).isEqualTo(1);
      assertThat(changes).isEmpty();
    }
  }

  @Test
  void aDownUpstreamIsNotReadyAndRaisesOneChange() throws Exception {
    FakeUpstream fake = new FakeUpstream();
    Upstream up = upstream(fake.url(), Map.of("health.timeout", "1s"));
    assertThat(await(up.ready())).isTrue();
    fake.close();
    Thread.sleep(1100); // past the second a readiness answer stands for
    // why: /readyz finds it down with the same probe, and the alert hears of it once
    assertThat(await(up.ready())).isFalse();
    assertThat(up.health().state()).isZero();
    assertThat(await(up.health().check())).isFalse();
    assertThat(changes).hasSize(1);
    assertThat(changes.get(0)).startsWith("false ");
    up.close();
    // why: a closed upstream opens no connection, and says so rather than hanging
    assertThat(up.request(up.options(io.vertx.core.http.HttpMethod.GET, "/")).failed()).isTrue();
  }

  @Test
  void aJoinedCheckAnswersOnTheCallersOwnEventLoop() throws Exception {
    // why: a request continues on the thread that owns its connection, never on the fetcher's
    try (FakeUpstream fake = new FakeUpstream()) {
      fake.firstByteDelay(300);
      Upstream up = upstream(fake.url(), Map.of());
      Context a = vertx.getOrCreateContext();
      Context b = vertx.getOrCreateContext();
      CompletableFuture<Boolean> sameA = new CompletableFuture<>();
      CompletableFuture<Boolean> sameB = new CompletableFuture<>();
      a.runOnContext(
          v -> {
            Thread t = Thread.currentThread();
            up.health().check().onComplete(ar -> sameA.complete(Thread.currentThread() == t));
            b.runOnContext(
                w -> {
                  Thread u = Thread.currentThread();
                  up.health().check().onComplete(ar -> sameB.complete(Thread.currentThread() == u));
                });
          });
      assertThat(sameA.get(10, TimeUnit.SECONDS)).isTrue();
      assertThat(sameB.get(10, TimeUnit.SECONDS)).isTrue();
      assertThat(probes(fake)).isEqualTo(1);
    }
  }

  @Test
  void anIpv6UpstreamIsReachedWithItsHostHeader() throws Exception {
    // why: the URL's bracketed literal must reach the socket and the Host header intact
    List<String> hosts = new CopyOnWriteArrayList<>();
    HttpServer server =
        vertx
            .createHttpServer()
            .requestHandler(
                r -> {
                  hosts.add(r.getHeader("Host"));
                  r.response().end("ok");
                })
            .listen(0, "::1")
            .await();
    Upstream up = upstream("http://[::1]:" + server.actualPort(), Map.of());
    assertThat(await(up.ready())).isTrue();
    assertThat(hosts).containsExactly("[::1]:" + server.actualPort());
  }

  @Test
  void modelDigestsAreReadOnceForTheRefreshWindow() throws Exception {
    try (FakeUpstream fake = new FakeUpstream()) {
      Upstream up = upstream(fake.url(), Map.of("models.pin_refresh", "1h"));
      Map<String, String> digests = await(up.modelDigests());
      // why: keyed by canonical name, bare hex, as the pin check compares them
      assertThat(digests)
          .containsEntry(
              dev.gatehouse.exchange.ModelName.parse("llama3.2:3b").canonical(),
              fake.digestOf("llama3.2:3b"));
      assertThat(ModelDigests.bare("SHA256:" + "AB".repeat(32))).isEqualTo("ab".repeat(32));
      await(up.modelDigests());
      assertThat(fake.requests().stream().filter(r -> r.uri().equals("/api/tags")).count())
          .isEqualTo(1);
      assertThat(probes(fake))
          .as("no digests without a health check's GET /, nor the reverse")
          .isZero();
    }
  }
}

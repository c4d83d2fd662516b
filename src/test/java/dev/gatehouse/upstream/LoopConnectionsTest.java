package dev.gatehouse.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.testing.TestCa;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.ssl.SslContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.PemKeyCertOptions;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The relay's own connections to an upstream ({@link LoopConnections}, {@link UpstreamCall}), on
 * real sockets against a Vert.x server that counts the connections it is given: kept alive and
 * reused, closed when the upstream says so, at most so many with the rest waiting (and giving up
 * after the connect timeout), a reset call, a paused response, and TLS with the name checked.
 */
class LoopConnectionsTest {

  private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
  private final ContextInternal ctx = (ContextInternal) vertx.getOrCreateContext();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  /**
   * A server: {@code /slow} answers after 600 ms, {@code /close} with {@code Connection: close},
   * {@code /stream} 50 chunks, anything else {@code ok <path>} at once.
   */
  private int server(@Nullable HttpServerOptions options) {
    HttpServer s =
        vertx
            .createHttpServer(options == null ? new HttpServerOptions() : options)
            .connectionHandler(c -> connections.incrementAndGet())
            .requestHandler(
                req -> {
                  requests.incrementAndGet();
                  req.body()
                      .onSuccess(
                          body -> {
                            switch (req.path()) {
                              case "/slow" ->
                                  vertx.setTimer(600, t -> req.response().end("ok slow"));
                              case "/close" ->
                                  req.response().putHeader("Connection", "close").end("ok close");
                              case "/stream" -> {
                                req.response().setChunked(true);
                                for (int i = 0; i < 50; i++) {
                                  req.response().write("chunk " + i + "\n");
                                }
                                req.response().end();
                              }
                              default -> req.response().end("ok " + req.path() + " " + body);
                            }
                          });
                });
    return s.listen(0, "127.0.0.1").await().actualPort();
  }

  private LoopConnections pool(String url, @Nullable SslContext tls, int max, long connectMillis) {
    return new LoopConnections(
        (VertxInternal) vertx,
        ctx.nettyEventLoop(),
        Upstream.Address.parse(URI.create(url)),
        tls,
        max,
        connectMillis);
  }

  /** Runs {@code f} on the pool's event loop, as the relay does, and waits for its answer. */
  private <T> T on(Supplier<Future<T>> f) {
    Promise<T> p = Promise.promise();
    ctx.runOnContext(v -> f.get().onComplete(p));
    return p.future()
        .toCompletionStage()
        .toCompletableFuture()
        .orTimeout(10, TimeUnit.SECONDS)
        .join();
  }

  private String text(Supplier<Future<String>> f) {
    return on(f);
  }

  /** Sends a GET of {@code path} once it has a connection, with {@code sent} given the call. */
  private Future<UpstreamCall> send(
      LoopConnections pool, String path, String host, Consumer<UpstreamCall> sent) {
    HttpHeaders h = DefaultHttpHeadersFactory.headersFactory().newHeaders();
    h.set("Host", host);
    return pool.call(ctx, HttpMethod.GET, path, h)
        .connectedFuture()
        .compose(
            call -> {
              call.end(null);
              sent.accept(call);
              return call.response();
            });
  }

  /** A GET of {@code path}, its body read whole: "status body". */
  private Future<String> get(LoopConnections pool, String path, String host) {
    return send(pool, path, host, call -> {})
        .compose(
            call -> {
              Promise<String> body = Promise.promise();
              Buffer all = Buffer.buffer();
              call.handler(all::appendBuffer);
              call.exceptionHandler(body::tryFail);
              call.endHandler(v -> body.tryComplete(call.statusCode() + " " + all));
              return body.future();
            });
  }

  @Test
  void aConnectionIsKeptAliveAndReused() {
    int port = server(null);
    LoopConnections pool = pool("http://127.0.0.1:" + port, null, 4, 2_000);
    for (int i = 0; i < 5; i++) {
      int n = i;
      assertThat(text(() -> get(pool, "/r" + n, "127.0.0.1"))).isEqualTo("200 ok /r" + n + " ");
    }
    assertThat(requests.get()).isEqualTo(5);
    assertThat(connections.get()).isEqualTo(1);
  }

  @Test
  void aConnectionTheUpstreamClosesIsNotReused() {
    int port = server(null);
    LoopConnections pool = pool("http://127.0.0.1:" + port, null, 4, 2_000);
    assertThat(text(() -> get(pool, "/close", "x"))).isEqualTo("200 ok close");
    assertThat(text(() -> get(pool, "/close", "x"))).isEqualTo("200 ok close");
    assertThat(text(() -> get(pool, "/again", "x"))).isEqualTo("200 ok /again ");
    assertThat(connections.get()).isEqualTo(3);
  }

  @Test
  void pastTheMaximumACallWaitsForTheConnectionFreedFirst() {
    int port = server(null);
    LoopConnections pool = pool("http://127.0.0.1:" + port, null, 1, 5_000);
    List<String> both =
        on(
            () -> {
              Future<String> slow = get(pool, "/slow", "x");
              Future<String> next = get(pool, "/next", "x"); // waits for /slow's connection
              return Future.all(slow, next).map(all -> List.of(slow.result(), next.result()));
            });
    assertThat(both).containsExactly("200 ok slow", "200 ok /next ");
    assertThat(connections.get()).isEqualTo(1);
  }

  @Test
  void aCallThatFindsNoFreeConnectionWithinTheConnectTimeoutFails() {
    int port = server(null);
    LoopConnections pool = pool("http://127.0.0.1:" + port, null, 1, 150);
    List<String> both =
        on(
            () -> {
              Future<String> slow = get(pool, "/slow", "x");
              Future<String> next =
                  get(pool, "/next", "x").recover(e -> Future.succeededFuture(e.getMessage()));
              return Future.all(slow, next).map(all -> List.of(slow.result(), next.result()));
            });
    assertThat(both.get(0)).isEqualTo("200 ok slow");
    assertThat(both.get(1)).contains("no connection to the upstream free within");
    assertThat(requests.get()).isEqualTo(1); // the one that gave up never reached it
  }

  @Test
  void aConnectThatHangsFailsAfterTheConnectTimeout() throws Exception {
    // An upstream whose accept queue is full: the kernel drops further SYNs, so a connect hangs.
    try (var listener =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      var address = new java.net.InetSocketAddress("127.0.0.1", listener.getLocalPort());
      List<java.net.Socket> queued = new java.util.ArrayList<>();
      boolean full = false;
      try {
        for (int i = 0; i < 16 && !full; i++) {
          var s = new java.net.Socket();
          try {
            s.connect(address, 200);
            queued.add(s);
          } catch (java.net.SocketTimeoutException e) {
            s.close();
            full = true;
          }
        }
        assertThat(full).as("the accept queue filled up").isTrue();
        LoopConnections pool =
            pool("http://" + address.getHostString() + ":" + address.getPort(), null, 1, 300);
        long start = System.nanoTime();
        assertThatThrownBy(() -> text(() -> get(pool, "/x", "x")))
            .isInstanceOf(CompletionException.class)
            .hasMessageContaining("connection timed out after 300 ms");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(millis).isBetween(250L, 5_000L);
      } finally {
        for (var s : queued) {
          s.close();
        }
      }
    }
  }

  @Test
  void aRefusedConnectionFailsTheCall() throws Exception {
    int port;
    try (var s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    LoopConnections pool = pool("http://127.0.0.1:" + port, null, 1, 2_000);
    assertThatThrownBy(() -> text(() -> get(pool, "/x", "x")))
        .isInstanceOf(CompletionException.class)
        .hasMessageContaining("Connection refused");
  }

  @Test
  void aResetBeforeTheHeadFailsTheResponseAndClosesTheConnection() throws Exception {
    int port = server(null);
    LoopConnections pool = pool("http://127.0.0.1:" + port, null, 1, 2_000);
    String failed =
        on(
            () ->
                send(pool, "/slow", "x", call -> vertx.setTimer(100, t -> call.reset()))
                    .map(c -> "answered")
                    .recover(e -> Future.succeededFuture(e.getMessage())));
    assertThat(failed).contains("reset");
    // the reset connection is gone; the next call opens another
    assertThat(text(() -> get(pool, "/after", "x"))).isEqualTo("200 ok /after ");
    assertThat(connections.get()).isEqualTo(2);
  }

  @Test
  void aPausedResponseKeepsWhatCameAndDeliversItInOrder() {
    int port = server(null);
    LoopConnections pool = pool("http://127.0.0.1:" + port, null, 1, 2_000);
    String body =
        on(
            () ->
                send(pool, "/stream", "x", call -> {})
                    .compose(
                        call -> {
                          Promise<String> done = Promise.promise();
                          StringBuilder all = new StringBuilder();
                          call.handler(
                              b -> {
                                all.append(b);
                                call.pause();
                                vertx.setTimer(5, t -> call.resume());
                              });
                          call.endHandler(e -> done.complete(all.toString()));
                          call.exceptionHandler(done::tryFail);
                          return done.future();
                        }));
    StringBuilder want = new StringBuilder();
    for (int i = 0; i < 50; i++) {
      want.append("chunk ").append(i).append('\n');
    }
    assertThat(body).isEqualTo(want.toString());
  }

  @Test
  void tlsChecksTheChainAndTheName() throws Exception {
    TestCa ca = new TestCa("upstreams");
    TestCa.Issued cert =
        ca.issueServer("CN=localhost", List.of("dns:localhost"), Duration.ofDays(1));
    Path dir = Files.createTempDirectory("gh-upstream-tls");
    Path certFile = TestCa.pem(dir.resolve("cert.pem"), cert.cert());
    Path keyFile = TestCa.pem(dir.resolve("key.pem"), cert.key());
    int port =
        server(
            new HttpServerOptions()
                .setSsl(true)
                .setHost("127.0.0.1")
                .setKeyCertOptions(
                    new PemKeyCertOptions()
                        .setCertPath(certFile.toString())
                        .setKeyPath(keyFile.toString())));
    SslContext trusting = Upstream.clientTls(ca.cert); // the gateway's settings, with this CA
    // why: the name in the URL is the one on the certificate, from a trusted issuer
    LoopConnections good = pool("https://localhost:" + port, trusting, 1, 2_000);
    assertThat(text(() -> get(good, "/tls", "localhost"))).isEqualTo("200 ok /tls ");
    // why: the same certificate for another name (the address itself) is refused
    LoopConnections byAddress = pool("https://127.0.0.1:" + port, trusting, 1, 2_000);
    assertThatThrownBy(() -> text(() -> get(byAddress, "/tls", "127.0.0.1")))
        .isInstanceOf(CompletionException.class)
        .hasMessageContaining("No subject alternative names matching IP address 127.0.0.1");
    // why: a chain from an issuer the client does not trust is refused
    SslContext other = Upstream.clientTls(new TestCa("upstreams").cert);
    LoopConnections untrusted = pool("https://localhost:" + port, other, 1, 2_000);
    assertThatThrownBy(() -> text(() -> get(untrusted, "/tls", "localhost")))
        .isInstanceOf(CompletionException.class)
        .hasMessageContaining("PKIX");
    assertThat(requests.get()).isEqualTo(1); // only the trusted call was served
  }
}

package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig.IoTransport;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.GatewayFixture.RawResponse;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.transport.Transport;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code server.transport}: the gateway serves, streams and refuses alike on each socket I/O it can
 * run on. The rest of the suite runs on what {@code auto} picks (io_uring where the kernel allows
 * it); this runs the others through the same requests.
 */
class EventLoopTransportTest {

  @ParameterizedTest
  @ValueSource(strings = {"io_uring", "epoll", "nio"})
  void eachTransportRelaysStreamsAndRefusesAlike(String name) throws Exception {
    Transport transport = transport(name);
    assumeTrue(EventLoopTransport.available(transport), () -> name + " is not available here");
    try (GatewayFixture gw = GatewayFixture.start(Map.of("server.transport", name))) {
      assertThat(((VertxInternal) gw.gateway().vertx()).transport().getClass())
          .isSameAs(transport.implementation().getClass());
      gw.upstream.streaming(40, 2);
      String key = gw.newKey();

      HttpResponse<String> streamed =
          gw.post(
              "/api/chat",
              key,
              "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
      assertThat(streamed.statusCode()).isEqualTo(200);
      assertThat(streamed.body().lines().filter(l -> l.contains("\"seq\"")).count()).isEqualTo(40);
      assertThat(streamed.body()).contains("\"done\":true");
      assertThat(gw.upstream.requests()).hasSize(1);

      // refused before the upstream: no key, then an ambiguous body length sent as raw bytes
      assertThat(gw.post("/api/chat", null, "{\"model\":\"llama3.2:3b\"}").statusCode())
          .isEqualTo(401);
      RawResponse smuggled =
          gw.raw(
              ("POST /api/chat HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                      + key
                      + "\r\nContent-Type: application/json\r\nContent-Length: 4\r\n"
                      + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      assertThat(smuggled.status()).isEqualTo(400);
      assertThat(gw.upstream.requests()).hasSize(1);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"io_uring", "epoll", "nio"})
  void streamsThatCloseTheirConnectionLeaveTheProcessOtherSocketsAlone(String name)
      throws Exception {
    // why: on Netty 4.2.12's io_uring transport (Vert.x 5.0.10's own) these clients, in the
    // gateway's process, read the end of their connections before any byte of their answers, while
    // the same requests from outside the process were served (4.2.18 serves both). Other sockets
    // of the process (a database's) are what this stands for.
    Transport transport = transport(name);
    assumeTrue(EventLoopTransport.available(transport), () -> name + " is not available here");
    try (GatewayFixture gw = GatewayFixture.start(Map.of("server.transport", name))) {
      gw.upstream.streaming(3, 20);
      String key = gw.newKey();
      for (int round = 0; round < 3; round++) {
        List<Socket> clients = new ArrayList<>();
        try {
          for (int i = 0; i < 24; i++) {
            // a chat the way HeldStreamFootprintTest opens its streams: head, then body
            clients.add(HeldStreamFootprintTest.open(gw.port(), key, "Connection: close\r\n"));
          }
          for (Socket s : clients) {
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 200").contains("\"done\":true");
          }
        } finally {
          for (Socket s : clients) {
            s.close();
          }
        }
      }
    }
  }

  @Test
  void autoTakesTheFirstOfIoUringEpollAndNioThatIsAvailable() {
    Transport expected =
        EventLoopTransport.available(Transport.IO_URING)
            ? Transport.IO_URING
            : EventLoopTransport.available(Transport.EPOLL) ? Transport.EPOLL : Transport.NIO;
    assertThat(EventLoopTransport.pick(IoTransport.AUTO)).isSameAs(expected);
    assertThat(EventLoopTransport.pick(IoTransport.NIO)).isSameAs(Transport.NIO);
  }

  @Test
  void aNamedTransportThatIsUnavailableStopsTheStartWithItsCause() {
    // what Vert.x reports where the kernel refuses io_uring (kernel.io_uring_disabled, seccomp)
    Transport refused =
        new Transport() {
          @Override
          public String name() {
            return "io_uring";
          }

          @Override
          public boolean available() {
            return false;
          }

          @Override
          public Throwable unavailabilityCause() {
            return new UnsupportedOperationException("io_uring_setup: Operation not permitted");
          }

          @Override
          public io.vertx.core.spi.transport.Transport implementation() {
            throw new AssertionError("an unavailable transport is never started");
          }
        };
    assertThatThrownBy(() -> EventLoopTransport.required(refused, "io_uring"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "server.transport: io_uring is not available on this machine"
                + " (io_uring_setup: Operation not permitted); use auto to take the best one there is");
    assertThatThrownBy(() -> EventLoopTransport.required(null, "epoll"))
        .hasMessage(
            "server.transport: epoll is not in this build; use auto to take the best one there is");
    assertThat(EventLoopTransport.required(Transport.NIO, "nio")).isSameAs(Transport.NIO);
  }

  @Test
  void anUnknownTransportIsAConfigurationError() {
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    null, false, Map.of(), Map.of("server.transport", "uring"), ConfigChecks.ALL))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "server.transport: uring [from --server.transport] (expected: auto, io_uring, epoll or nio)");
  }

  private static @Nullable Transport transport(String name) {
    return switch (name) {
      case "io_uring" -> Transport.IO_URING;
      case "epoll" -> Transport.EPOLL;
      default -> Transport.NIO;
    };
  }
}

package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.AddressSet;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.testing.GatewayFixture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Connection caps against slowloris: an attacker at one address holding connections open must not
 * lock out a client at another. The attacker is played from 127.0.0.2 and the real client from
 * 127.0.0.1 (all of 127.0.0.0/8 is loopback on Linux). {@code timeouts.header_read} is raised so
 * that the held connections stay held for the whole test.
 */
class ConnectionCapsTest {

  /** Opens {@code n} connections from {@code from}, each sending half a request head. */
  static List<SocketChannel> slowloris(GatewayFixture gw, String from, int n) throws IOException {
    List<SocketChannel> out = new ArrayList<>(n);
    byte[] partial =
        "GET /api/tags HTTP/1.1\r\nHost: gatehouse.test\r\nX-Slow: "
            .getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < n; i++) {
      SocketChannel ch = SocketChannel.open();
      out.add(ch);
      ch.bind(new InetSocketAddress(from, 0));
      ch.connect(new InetSocketAddress("127.0.0.1", gw.port()));
      try {
        ch.write(ByteBuffer.wrap(partial));
      } catch (IOException e) {
        // already closed by the gateway
      }
      ch.configureBlocking(false);
    }
    return out;
  }

  /**
   * How many of these connections the gateway still holds open (a closed one reads EOF or fails).
   */
  static int stillOpen(List<SocketChannel> chans) {
    int open = 0;
    ByteBuffer buf = ByteBuffer.allocate(64);
    for (SocketChannel ch : chans) {
      try {
        buf.clear();
        if (ch.isOpen() && ch.read(buf) == 0) {
          open++;
        }
      } catch (IOException e) {
        // reset: closed
      }
    }
    return open;
  }

  /** Waits (boundedly) until at most {@code max} are open; returns the count. */
  static int settle(List<SocketChannel> chans, int max) throws InterruptedException {
    int open = stillOpen(chans);
    for (int i = 0; i < 100 && open > max; i++) {
      Thread.sleep(50);
      open = stillOpen(chans);
    }
    return open;
  }

  /**
   * Waits (boundedly) until the gateway holds {@code n} connections: a client cannot tell when the
   * gateway has taken a connection off the accept queue, so a test racing that would be flaky.
   */
  static void awaitOpen(GatewayFixture gw, int n) throws InterruptedException {
    for (int i = 0; i < 200 && gw.openConnections() != n; i++) {
      Thread.sleep(25);
    }
    assertThat(gw.openConnections()).isEqualTo(n);
  }

  static void closeAll(List<SocketChannel> chans) {
    for (SocketChannel ch : chans) {
      try {
        ch.close();
      } catch (IOException e) {
        // closing
      }
    }
  }

  @Test
  void aThousandSlowConnectionsFromOneAddressDoNotLockOutAnother() throws Exception {
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of(
                "connections.max_per_ip", "50",
                "connections.max_total", "2000",
                "timeouts.header_read", "60s"))) {
      String key = gw.newKey();
      List<SocketChannel> attack = slowloris(gw, "127.0.0.2", 1000);
      try {
        // The attacker keeps its own share and no more: the other 950 are closed at once.
        assertThat(settle(attack, 50)).isEqualTo(50);
        awaitOpen(gw, 50);
        // A real client at another address is served, repeatedly, while the attack holds.
        for (int i = 0; i < 5; i++) {
          HttpResponse<String> r = gw.get("/api/tags", key);
          assertThat(r.statusCode()).isEqualTo(200);
        }
        assertThat(gw.upstream.requests()).hasSize(5);
        // The attacker's next connection is refused too, while it still holds 50.
        List<SocketChannel> more = slowloris(gw, "127.0.0.2", 1);
        assertThat(settle(more, 0)).isZero();
        closeAll(more);
        assertThat(stillOpen(attack)).isEqualTo(50);
      } finally {
        closeAll(attack);
      }
      // Released: once its connections are gone, the same address is served again.
      assertThat(servedFrom(gw, "127.0.0.2", key)).isEqualTo(200);
    }
  }

  /** The status of a request from {@code from}, retried briefly while closed slots are freed. */
  static int servedFrom(GatewayFixture gw, String from, String key) throws Exception {
    int status = -1;
    for (int i = 0; i < 50 && status != 200; i++) {
      status =
          gw.raw(
                  "GET /api/tags HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                      + key
                      + "\r\nConnection: close\r\n\r\n",
                  from)
              .status();
      if (status != 200) {
        Thread.sleep(50);
      }
    }
    return status;
  }

  @Test
  void withAGlobalCapAloneTheSameAttackLocksEveryoneOut() throws Exception {
    // why: the control for the test above: a shared budget without a per-address cap is what
    // slowloris exhausts, which is why the per-address cap is the protection
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of(
                "connections.max_per_ip", "100000",
                "connections.max_total", "1000",
                "timeouts.header_read", "60s"))) {
      String key = gw.newKey();
      List<SocketChannel> attack = slowloris(gw, "127.0.0.2", 1000);
      try {
        awaitOpen(gw, 1000);
        assertThat(stillOpen(attack)).isEqualTo(1000);
        assertThat(
                gw.raw(
                        "GET /api/tags HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                            + key
                            + "\r\nConnection: close\r\n\r\n",
                        "127.0.0.1")
                    .status())
            .isEqualTo(-1);
        assertThat(gw.upstream.requests()).isEmpty();
      } finally {
        closeAll(attack);
      }
      assertThat(servedFrom(gw, "127.0.0.1", key)).isEqualTo(200);
    }
  }

  @Test
  void theGlobalCapHoldsAndReleases() throws Exception {
    // why: the global cap bounds file descriptors whoever connects; slots free up as connections
    // close
    try (GatewayFixture gw =
        GatewayFixture.start(
            Map.of(
                "connections.max_per_ip", "1000",
                "connections.max_total", "20",
                "timeouts.header_read", "60s"))) {
      List<SocketChannel> held = slowloris(gw, "127.0.0.3", 20);
      try {
        awaitOpen(gw, 20);
        assertThat(stillOpen(held)).isEqualTo(20);
        List<SocketChannel> over = slowloris(gw, "127.0.0.4", 3);
        assertThat(settle(over, 0)).isZero();
        closeAll(over);
        closeAll(held.subList(0, 5));
        assertThat(servedFrom(gw, "127.0.0.4", gw.newKey())).isEqualTo(200);
      } finally {
        closeAll(held);
      }
    }
  }

  @Test
  void connectionCapsCountPerAddressAndReleaseOnClose() {
    ConnectionLimits caps =
        new ConnectionLimits(
            new GatehouseConfig.Connections(2, 3), AddressSet.parse(List.of("10.0.0.1")));
    IpAddress a = IpAddress.parse("203.0.113.1");
    IpAddress b = IpAddress.parse("203.0.113.2");
    Runnable a1 = caps.admit(a);
    Runnable a2 = caps.admit(a);
    assertThat(a1).isNotNull();
    assertThat(a2).isNotNull();
    assertThat(caps.admit(a)).as("third from one address").isNull();
    Runnable b1 = caps.admit(b);
    assertThat(b1).isNotNull();
    assertThat(caps.admit(IpAddress.parse("203.0.113.3"))).as("fourth in all").isNull();
    assertThat(caps.open()).isEqualTo(3);
    a1.run();
    assertThat(caps.admit(IpAddress.parse("10.0.0.1")))
        .as("a proxy, under the global cap")
        .isNotNull();
    assertThat(caps.admit(a)).as("global cap full again").isNull();
    b1.run();
    assertThat(caps.admit(a)).as("a slot of its own freed, and one in all").isNotNull();
  }
}

package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.GatewayProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploads that the default {@code limits.body_memory} admits fit the heap they end up in: a gateway
 * in a JVM of its own with Serial and a small heap, in front of an upstream that never reads (so
 * every admitted body stays held), answers the uploads past the bound with 503 and stays up.
 *
 * <p>Why: a body held for seconds is promoted to Serial's old generation, which is two thirds of
 * this heap (85 MiB of 128). The old default, 60% of the heap (74 MiB), admitted seven of these
 * uploads, 69 MB, four fifths of that old generation before the gateway's own objects; in the
 * bench's large-body step, with the launcher's heap, the JVM then ran out of heap and exited (run
 * 20261206-043501). The bound now stops 64 MiB short of the old generation: two of them. (On the
 * old rule this test fails with seven held.)
 */
class BodyMemoryHeapTest {

  private static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^content-length:\\s*(\\d+)");

  @TempDir Path dir;

  /** A chat carrying one image of 7 MiB (under caps.image_bytes), about 9.8 MB of JSON. */
  private static byte[] upload() {
    byte[] image = new byte[7 << 20];
    new Random(12).nextBytes(image);
    return ("{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[{\"role\":\"user\","
            + "\"content\":\"What is in this picture?\",\"images\":[\""
            + Base64.getEncoder().encodeToString(image)
            + "\"]}]}")
        .getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void uploadsBeyondTheOldGenerationsRoomAreRefusedAndTheGatewayStaysUp() throws Exception {
    List<Socket> upstreamSide = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newCachedThreadPool();
    try (ServerSocket stalled = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      // an upstream that accepts and never reads: the gateway holds every body it forwards
      pool.submit(
          () -> {
            while (!stalled.isClosed()) {
              upstreamSide.add(stalled.accept());
            }
            return null;
          });
      try (GatewayProcess gw =
          GatewayProcess.start(
              null,
              dir,
              Map.of(
                  "GATEHOUSE_UPSTREAM",
                  "http://127.0.0.1:" + stalled.getLocalPort(),
                  "GATEHOUSE_HEALTH_INTERVAL",
                  "0s",
                  "GATEHOUSE_ADMIN_LISTEN",
                  ""),
              List.of(),
              List.of("-XX:+UseSerialGC", "-Xmx128m", "-XX:+ExitOnOutOfMemoryError"))) {
        String key = Objects.requireNonNull(gw.firstKey(), "a first start prints its key");
        byte[] body = upload();
        byte[] head =
            ("POST /api/chat HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                    + key
                    + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length
                    + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        List<Socket> clients = new ArrayList<>();
        List<Future<String>> answers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          Socket s = new Socket(InetAddress.getLoopbackAddress(), gw.port());
          clients.add(s);
          answers.add(pool.submit(() -> send(s, head, body)));
        }
        // the refusals come at once; the admitted uploads wait on the upstream, which never reads
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (answers.stream().filter(Future::isDone).count() < 6
            && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        Thread.sleep(500); // a late refusal beyond the expected six would show here
        int refused = 0;
        int waiting = 0;
        for (Future<String> a : answers) {
          if (!a.isDone()) {
            waiting++;
            continue;
          }
          String answer = a.get();
          assertThat(answer).as(String.join("\n", gw.output())).startsWith("HTTP/1.1 503");
          assertThat(answer).contains("limit.gateway_busy").containsIgnoringCase("Retry-After");
          refused++;
        }
        // a moment for the held bodies to be collected into the old generation
        Thread.sleep(1_000);
        assertThat(gw.isAlive()).as(String.join("\n", gw.output())).isTrue();
        assertThat(gw.output()).noneMatch(l -> l.contains("OutOfMemoryError"));
        assertThat(waiting).as("held: the old generation less 64 MiB, two uploads").isEqualTo(2);
        assertThat(refused).isEqualTo(6);
        // a held upload keeps its own connection to the upstream, which never answers; a refused
        // one that reached the upstream would have needed another
        long connected = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (upstreamSide.size() < waiting && System.nanoTime() < connected) {
          Thread.sleep(50);
        }
        assertThat(upstreamSide).as("connections the upstream accepted").hasSize(waiting);
        try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), gw.port())) {
          assertThat(
                  send(
                      probe,
                      "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                          .getBytes(StandardCharsets.US_ASCII),
                      new byte[0]))
              .startsWith("HTTP/1.1 200");
        }
        for (Socket s : upstreamSide) {
          s.close();
        }
        for (Socket s : clients) {
          s.close();
        }
      }
    } finally {
      for (Socket s : upstreamSide) {
        s.close();
      }
      pool.shutdownNow();
    }
  }

  /**
   * Writes {@code head} and {@code body} from a thread of its own (a refused upload is cut off part
   * way) while this one reads the answer: its head and a body of its Content-Length, or what came
   * before the connection closed; "" if none came within the socket's timeout.
   */
  private static String send(Socket s, byte[] head, byte[] body) throws IOException {
    s.setSoTimeout(120_000);
    OutputStream out = s.getOutputStream();
    Thread writer =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  try {
                    out.write(head);
                    out.write(body);
                    out.flush();
                  } catch (IOException e) {
                    // refused: the gateway answered and closed before the whole body went
                  }
                });
    InputStream in = s.getInputStream();
    byte[] buf = new byte[8192];
    StringBuilder answer = new StringBuilder();
    try {
      int n;
      while ((n = in.read(buf)) > 0) {
        answer.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        int end = answer.indexOf("\r\n\r\n");
        if (end >= 0) {
          Matcher m = CONTENT_LENGTH.matcher(answer.substring(0, end));
          if (m.find() && answer.length() >= end + 4 + Integer.parseInt(m.group(1))) {
            break;
          }
        }
      }
    } catch (SocketTimeoutException e) {
      return answer.toString();
    } catch (IOException e) {
      // reset after the answer: what was read stands
    } finally {
      writer.interrupt();
    }
    return answer.toString();
  }
}

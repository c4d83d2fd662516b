package dev.gatehouse.limit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.authorize.RouteTable;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.BodyFields;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.exchange.RequestTarget;
import dev.gatehouse.store.LocalUsageLedger;
import dev.gatehouse.testing.BodyCorpus;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What limit.admit allocates when it adds the output cap to a 10 MB Ollama chat with an image and
 * no options (the common rewrite): a splice copies the body once, where the full-tree rewrite
 * decoded the image into a string and wrote the whole body out again. Measured with the thread's
 * allocation counter (exact, and independent of load), not timed; the figures are printed so a
 * change can be compared before and after. The full-tree figure is the same admit given no layout,
 * which is the path every rewrite took before the splice.
 */
class AdmitAllocationTest {

  static Vertx vertx;
  static Limiter limiter;

  static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    GatehouseConfig config = ConfigLoader.load(null, false, Map.of(), Map.of(), List.of());
    Clock clock = Clock.systemUTC();
    limiter =
        new Limiter(
            config,
            new LocalRateLimiter(),
            new LocalConcurrencyGate(vertx, 1_000_000, 0, 1_000),
            new LocalUsageLedger(clock),
            clock);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** A request with no socket: all an Exchange asks of it here. */
  private static HttpServerRequest request() {
    HttpServerResponse response =
        (HttpServerResponse)
            Proxy.newProxyInstance(
                AdmitAllocationTest.class.getClassLoader(),
                new Class<?>[] {HttpServerResponse.class},
                (p, method, args) -> null);
    return (HttpServerRequest)
        Proxy.newProxyInstance(
            AdmitAllocationTest.class.getClassLoader(),
            new Class<?>[] {HttpServerRequest.class},
            (p, method, args) -> method.getName().equals("response") ? response : null);
  }

  private static final HttpServerRequest REQUEST = request();

  /** An exchange as limit.admit finds it: authorised, its body read (with a layout, or none). */
  private static Exchange exchange(String path, Buffer body, boolean layout) throws Exception {
    Exchange x = new Exchange(REQUEST, "r-1", 0, 0, null);
    x.targeted(Objects.requireNonNull(RequestTarget.parse(path)));
    x.identified(
        new Principal(
            "k1", "ci", Set.of("inference"), new ModelGlobs(List.of("*")), (Instant) null));
    x.routed(Objects.requireNonNull(RouteTable.standard().match("POST", path).route()), null);
    BodyFields.Scan scan = BodyFields.scan(body);
    if (layout) {
      x.bodyRead(body, scan);
    } else {
      x.bodyRead(body, scan.fields(), scan.model());
    }
    return x;
  }

  /** Bytes this thread allocates in one admit, the least of a few warmed runs. */
  private static long admit(String path, Buffer body, boolean layout) throws Exception {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 8; i++) {
      Exchange x = exchange(path, body, layout);
      long before = THREADS.getCurrentThreadAllocatedBytes();
      assertThat(limiter.admit(x).result()).isNull();
      long used = THREADS.getCurrentThreadAllocatedBytes() - before;
      x.freeSlot();
      if (i >= 3) {
        best = Math.min(best, used);
      }
      JsonNode sent = BodyCorpus.OLD.readTree(Objects.requireNonNull(x.body()).getBytes());
      assertThat(sent.at("/options/num_predict").isInt()).isTrue(); // the cap was added
    }
    return best;
  }

  @Test
  void aSplicedCapCopiesTheBodyOnce() throws Exception {
    String image = Base64.getEncoder().encodeToString(new byte[7_500_000]);
    Buffer big =
        Buffer.buffer(
            ("{\"model\":\"llava\",\"stream\":false,\"messages\":[{\"role\":\"user\","
                    + "\"content\":\"Describe it.\",\"images\":[\""
                    + image
                    + "\"]}]}")
                .getBytes(StandardCharsets.UTF_8));
    Buffer small =
        Buffer.buffer(
            ("{\"model\":\"llama3.2:3b\",\"messages\":["
                    + "{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
                    + "{\"role\":\"user\",\"content\":\"Write a haiku about the sea.\"}]}")
                .getBytes(StandardCharsets.UTF_8));
    long bigSplice = admit("/api/chat", big, true);
    long bigTree = admit("/api/chat", big, false);
    long smallSplice = admit("/api/chat", small, true);
    long smallTree = admit("/api/chat", small, false);
    System.out.printf(
        "allocated by admit, adding num_predict: %d-byte image chat: splice %d, full tree %d;"
            + " %d-byte chat: splice %d, full tree %d%n",
        big.length(), bigSplice, bigTree, small.length(), smallSplice, smallTree);
    // the spliced body, and a little: no decoded image, no second copy
    assertThat(bigSplice).isLessThan(big.length() * 5L / 4);
    assertThat(bigTree).isGreaterThan(big.length() * 2L); // the counter counts
  }
}

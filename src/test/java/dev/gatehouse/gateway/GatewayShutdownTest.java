package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.AccessLogCapture;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.Poll;
import java.time.Duration;
import java.util.Map;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/** What a gateway's own shutdown must not look like. */
class GatewayShutdownTest {

  @Test
  void aHealthCheckCutShortByTheShutdownIsNoOutage() throws Exception {
    // why: closing the gateway fails the upstream check still in flight; read as the upstream's
    // answer, every restart logged upstream.down and raised the upstream_down alert
    try (AccessLogCapture upstreamLog = new AccessLogCapture("gatehouse.upstream")) {
      GatewayFixture gw = GatewayFixture.start(Map.of("health.interval", "200ms"));
      LongSupplier checks =
          () -> gw.upstream.requests().stream().filter(r -> r.uri().equals("/")).count();
      try {
        waitFor(() -> checks.getAsLong() >= 1); // the first check, answered: the upstream is up
        Thread.sleep(100);
        gw.upstream.firstByteDelay(30_000);
        long before = checks.getAsLong();
        waitFor(() -> checks.getAsLong() > before); // a check now waits on the upstream
      } finally {
        gw.close();
      }
      assertThat(upstreamLog.lines()).noneMatch(l -> l.contains("upstream.down"));
    }
  }

  private static void waitFor(java.util.function.BooleanSupplier done) throws Exception {
    Poll.until("the condition", Duration.ofSeconds(5), done);
  }
}

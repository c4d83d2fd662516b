package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.testing.FakeUpstream;
import dev.gatehouse.testing.GatewayProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A serve on the launcher's heap settings runs one full collection after it is up, and Serial then
 * sizes its young generation from the gateway's live set instead of start-up's small heap (why:
 * {@link HeapSettle}). Read from the gateway's own metrics, in a JVM of its own.
 */
class HeapSettleTest {

  @TempDir Path dir;

  @Test
  void onlySerialSizesItsYoungGenerationAtFullCollectionsAlone() {
    // why: G1 and Parallel size their young generation as they go; a full collection would only
    // cost them a pause
    assertThat(HeapSettle.sizesYoungOnlyWhenFull(List.of("Copy", "MarkSweepCompact"))).isTrue();
    assertThat(HeapSettle.sizesYoungOnlyWhenFull(List.of("PS Scavenge", "PS MarkSweep"))).isFalse();
    assertThat(
            HeapSettle.sizesYoungOnlyWhenFull(
                List.of("G1 Young Generation", "G1 Concurrent GC", "G1 Old Generation")))
        .isFalse();
    assertThat(HeapSettle.sizesYoungOnlyWhenFull(List.of("ZGC Minor Cycles", "ZGC Major Cycles")))
        .isFalse();
    assertThat(HeapSettle.sizesYoungOnlyWhenFull(List.of())).isFalse();
  }

  @Test
  void aServeOnTheLaunchersHeapGrowsItsYoungGenerationOnceItIsUp() throws Exception {
    // The launcher's own heap flags, read from a run of it (a stand-in java records them).
    List<String> heap =
        LauncherInstall.make().serve().stream()
            .filter(
                a ->
                    a.startsWith("-Xms")
                        || a.startsWith("-Xmx")
                        || a.equals("-XX:+UseSerialGC")
                        || a.startsWith("-XX:MaxNewSize=")
                        || a.startsWith("-XX:NewRatio=")
                        || a.startsWith("-XX:MinHeapFreeRatio="))
            .toList();
    assertThat(heap).contains("-XX:+UseSerialGC", "-Xms16m", "-XX:NewRatio=1");
    // Serial's young generation from -Xms16m and -XX:NewRatio=1, which it keeps until it
    // collects fully: half of the initial heap
    long startYoung = 8L << 20;
    try (FakeUpstream up = new FakeUpstream();
        GatewayProcess gw =
            GatewayProcess.start(
                null,
                dir,
                Map.of("GATEHOUSE_UPSTREAM", up.url(), "GATEHOUSE_HEALTH_INTERVAL", "0s"),
                List.of(),
                heap)) {
      HttpClient client = HttpClient.newHttpClient();
      String token = Objects.requireNonNull(gw.adminToken(), "the first start prints it");
      String metrics = "";
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        metrics =
            client
                .send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + gw.adminPort() + "/metrics"))
                        .header("Authorization", "Bearer " + token)
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body();
        if (value(metrics, "jvm_gc_pause_seconds_count", "cause=\"System.gc()\"").isPresent()) {
          break;
        }
        Thread.sleep(200);
      }
      assertThat(value(metrics, "jvm_gc_pause_seconds_count", "cause=\"System.gc()\""))
          .as("one full collection, asked for once the gateway is up")
          .hasValue(1.0);
      long eden =
          (long) value(metrics, "jvm_memory_committed_bytes", "id=\"Eden Space\"").orElse(0);
      long survivor =
          (long) value(metrics, "jvm_memory_committed_bytes", "id=\"Survivor Space\"").orElse(0);
      // two survivor spaces, of which the pool reports one
      assertThat(eden + 2 * survivor)
          .as("the young generation, sized from the old one after that collection")
          .isGreaterThanOrEqualTo(2 * startYoung);
    }
  }

  /** The value of the first sample of {@code name} whose labels hold {@code label}. */
  private static OptionalDouble value(String metrics, String name, String label) {
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\}\\s+(\\S+)$")
            .matcher(metrics);
    while (m.find()) {
      if (m.group(1).contains(label)) {
        return OptionalDouble.of(Double.parseDouble(m.group(2)));
      }
    }
    return OptionalDouble.empty();
  }
}

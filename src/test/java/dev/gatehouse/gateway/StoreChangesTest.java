package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.identify.ApiKeys;
import dev.gatehouse.store.SqliteStore;
import dev.gatehouse.testing.GatewayFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keys and bans are read from memory on the request path, and changes are pushed to the gateway: a
 * request makes no store round trip, and a change committed by another process is seen on the very
 * next request.
 */
class StoreChangesTest {

  @Test
  void requestsMakeNoStoreRoundTripWhenNothingChanged() throws Exception {
    // why: two SQLite reads per request were a fixed cost on every request (issue 11)
    try (GatewayFixture gw = GatewayFixture.start()) {
      String key = gw.newKey();
      assertThat(gw.get("/api/tags", key).statusCode()).isEqualTo(200);
      long before = gw.store.snapshotReads();
      long t0 = System.nanoTime();
      int requests = 300;
      for (int i = 0; i < requests; i++) {
        assertThat(gw.get("/api/tags", key).statusCode()).isEqualTo(200);
      }
      long seconds = (System.nanoTime() - t0) / 1_000_000_000L + 1;
      long reads = gw.store.snapshotReads() - before;
      // Only the two timed checks (keys, bans: one version read each per second) read the store.
      // Per-request reads would be at least 2 * 300 = 600.
      assertThat(reads)
          .as("store reads during %d requests in about %d s", requests, seconds)
          .isLessThanOrEqualTo(2 * (seconds + 1));
    }
  }

  @Test
  void aKeyRevokedByAnotherProcessIsRefusedOnTheVeryNextRequest() throws Exception {
    // why: the CLI writes through its own store, in another process; it must not have to wait
    // for the gateway's timer
    try (GatewayFixture gw = GatewayFixture.start()) {
      String key = gw.newKey();
      assertThat(gw.get("/api/tags", key).statusCode()).isEqualTo(200);
      try (Stream<Path> run = Files.list(gw.dataDir.resolve("run"))) {
        assertThat(run.filter(p -> p.getFileName().toString().endsWith(".sock"))).hasSize(1);
      }
      // a socket left by a process that died is skipped and removed
      Path stale = gw.dataDir.resolve("run/gatehouse-1-dead.sock");
      Files.writeString(stale, "");
      gw.upstream.reset();
      try (SqliteStore other = SqliteStore.open(gw.dataDir)) {
        assertThat(other.revoke(ApiKeys.idOf(key), Instant.now())).isTrue();
      }
      assertThat(gw.get("/api/tags", key).statusCode()).isEqualTo(401);
      assertThat(gw.upstream.requests()).isEmpty();
      assertThat(stale).doesNotExist();
    }
  }

  @Test
  void aClosedGatewayLeavesNoSocketBehind() throws Exception {
    Path dir;
    try (GatewayFixture gw = GatewayFixture.start()) {
      dir = gw.dataDir.resolve("run");
      assertThat(dir).isDirectory();
    }
    try (Stream<Path> run = Files.list(dir)) {
      assertThat(run).isEmpty();
    }
  }
}

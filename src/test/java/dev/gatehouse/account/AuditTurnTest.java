package dev.gatehouse.account;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.audit.AuditRecord;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.metrics.GatewayMetrics;
import dev.gatehouse.store.SqliteStore;
import dev.gatehouse.testing.PrunedAuditLog;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event loop's hand-off of audit records ({@link AuditTurn}), against a real writer and a real
 * SQLite store: what one turn of the loop appends reaches the writer as one hand-off, in order, and
 * comes back to the loop; nothing waits for a later turn.
 */
class AuditTurnTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private Vertx vertx;
  private SqliteStore store;
  private AuditWriter writer;
  private AuditTurn turn;

  @BeforeEach
  void open() throws Exception {
    vertx = Vertx.vertx();
    store = SqliteStore.open(dir);
    writer = AuditWriter.open(dir, store, dir.resolve("audit-hmac.key"), 1000, Duration.ofHours(1));
    turn = new AuditTurn(writer, new GatewayMetrics());
  }

  @AfterEach
  void close() throws Exception {
    writer.close();
    store.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static AuditRecord record(String id) {
    return PrunedAuditLog.record(id, Instant.parse("2026-12-05T00:00:00Z"));
  }

  /** Appends {@code n} records in one task of an event loop; returns their futures. */
  private List<CompletableFuture<Void>> appendInOneTurn(String prefix, int n) throws Exception {
    Context ctx = vertx.getOrCreateContext();
    CompletableFuture<List<CompletableFuture<Void>>> appended = new CompletableFuture<>();
    ctx.runOnContext(
        v -> {
          List<CompletableFuture<Void>> fs = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            fs.add(turn.append(record(prefix + i)));
          }
          appended.complete(fs);
        });
    return appended.get(10, TimeUnit.SECONDS);
  }

  private List<String> requestIds() throws Exception {
    List<String> ids = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve(AuditWriter.FILE), StandardCharsets.UTF_8)) {
      ids.add(JSON.readTree(line).get("request_id").asText());
    }
    return ids;
  }

  @Test
  void whatOneTurnAppendsReachesTheWriterAsOneBatchAndComesBackOnTheLoop() throws Exception {
    // why: queued one by one, each record took the queue's lock and could wake the writer, which
    // then wrote the first record alone; one hand-off per turn is one batch, one wake at most
    long before = writer.batches();
    ConcurrentLinkedQueue<Boolean> onLoop = new ConcurrentLinkedQueue<>();
    CompletableFuture<List<CompletableFuture<Void>>> appended = new CompletableFuture<>();
    vertx
        .getOrCreateContext()
        .runOnContext(
            v -> {
              try {
                List<CompletableFuture<Void>> fs = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                  CompletableFuture<Void> f = turn.append(record("r" + i));
                  // not handed over before this task ends, so the callback sees the completion
                  assertThat(f).isNotDone();
                  // the future of the callback itself: complete once it has run
                  fs.add(f.whenComplete((ok, err) -> onLoop.add(Context.isOnEventLoopThread())));
                }
                appended.complete(fs);
              } catch (AssertionError e) {
                appended.completeExceptionally(e);
              }
            });
    List<CompletableFuture<Void>> fs = appended.get(10, TimeUnit.SECONDS);
    CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

    assertThat(writer.batches() - before).isEqualTo(1);
    assertThat(writer.queued()).isZero();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      expected.add("r" + i);
    }
    assertThat(requestIds()).isEqualTo(expected);
    assertThat(onLoop).hasSize(200).containsOnly(true);
  }

  @Test
  void aLongTurnIsHandedOverInPartsAndKeepsItsOrder() throws Exception {
    int n = 2 * AuditTurn.MAX_RECORDS + 37;
    List<CompletableFuture<Void>> fs = appendInOneTurn("p", n);
    CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    List<String> ids = requestIds();
    assertThat(ids).hasSize(n);
    for (int i = 0; i < n; i++) {
      assertThat(ids.get(i)).isEqualTo("p" + i);
    }
  }

  @Test
  void turnsFollowEachOtherInOrder() throws Exception {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    Context ctx = vertx.getOrCreateContext();
    CompletableFuture<Void> queued = new CompletableFuture<>();
    // three turns, each task appending after the one before it ran
    ctx.runOnContext(
        a -> {
          all.add(turn.append(record("t0")));
          ctx.runOnContext(
              b -> {
                all.add(turn.append(record("t1")));
                all.add(turn.append(record("t2")));
                ctx.runOnContext(
                    c -> {
                      all.add(turn.append(record("t3")));
                      queued.complete(null);
                    });
              });
        });
    queued.get(10, TimeUnit.SECONDS);
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    assertThat(requestIds()).containsExactly("t0", "t1", "t2", "t3");
  }

  @Test
  void offAnEventLoopARecordIsQueuedAtOnce() throws Exception {
    // no loop will run a hand-off task for it: it must not wait for one
    turn.append(record("alone")).get(10, TimeUnit.SECONDS);
    assertThat(requestIds()).containsExactly("alone");
  }

  @Test
  void aClosedWriterFailsTheTurnsRecords() throws Exception {
    writer.close();
    List<CompletableFuture<Void>> fs = appendInOneTurn("c", 3);
    for (CompletableFuture<Void> f : fs) {
      assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasMessageContaining("audit writer closed");
    }
  }
}

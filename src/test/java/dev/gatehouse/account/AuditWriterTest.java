package dev.gatehouse.account;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.audit.AuditVerifier;
import dev.gatehouse.store.SqliteStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditWriterTest {

  @TempDir Path dir;

  static AuditRecord record(String id) {
    return new AuditRecord("2026-11-22T00:00:00Z", id, "127.0.0.1", null, null, "GET", "/api/tags", "models.read",
        null, 200, "allow", "ok", 0, 10, -1, -1, 0, 0, 100, null, false, null, null);
  }

  private AuditWriter open(SqliteStore store) throws Exception {
    return AuditWriter.open(dir, store, dir.resolve("audit-hmac.key"), 1000, Duration.ofHours(1));
  }

  private AuditVerifier.Result verify() throws Exception {
    return AuditVerifier.verifyFile(dir.resolve(AuditWriter.FILE), dir.resolve(AuditWriter.CHECKPOINTS),
        AuditKey.load(dir.resolve("audit-hmac.key")));
  }

  @Test
  void aTornFinalLineIsCutOffOnStartAndTheChainContinues() throws Exception {
    // why: kill -9 during a write can leave half a record; it was never acknowledged, and the log
    // must still verify after the restart
    try (SqliteStore store = SqliteStore.open(dir)) {
      try (AuditWriter w = open(store)) {
        w.append(record("a")).join();
        w.append(record("b")).join();
      }
      Files.writeString(dir.resolve(AuditWriter.FILE), "{\"seq\":3,\"prev\":\"12", StandardOpenOption.APPEND);
      try (AuditWriter w = open(store)) {
        w.append(record("c")).join();
      }
      List<String> lines = Files.readAllLines(dir.resolve(AuditWriter.FILE), StandardCharsets.UTF_8);
      assertThat(lines).hasSize(3);
      assertThat(lines.get(2)).contains("\"seq\":3").contains("\"request_id\":\"c\"");
      assertThat(verify().ok()).as(verify().describe()).isTrue();
      List<String> ids = new ArrayList<>();
      store.forEachAuditRow(r -> ids.add(r.requestId()));
      assertThat(ids).containsExactly("a", "b", "c");
    }
  }

  @Test
  void rowsMissingFromTheDatabaseAreCopiedFromTheFileOnStart() throws Exception {
    // why: a crash between the fsync of the file and the database insert leaves the database behind
    try (SqliteStore store = SqliteStore.open(dir)) {
      try (AuditWriter w = AuditWriter.open(dir, dev.gatehouse.store.AuditStore.NONE, dir.resolve("audit-hmac.key"), 1000,
          Duration.ofHours(1))) {
        w.append(record("a")).join();
        w.append(record("b")).join();
      }
      try (AuditWriter w = open(store)) {
        w.append(record("c")).join();
      }
      List<String> ids = new ArrayList<>();
      store.forEachAuditRow(r -> ids.add(r.requestId()));
      assertThat(ids).containsExactly("a", "b", "c");
    }
  }

  @Test
  void theHmacKeyIsCreatedOwnerOnly() throws Exception {
    try (SqliteStore store = SqliteStore.open(dir); AuditWriter w = open(store)) {
      w.append(record("a")).join();
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("audit-hmac.key")))).isEqualTo("rw-------");
    assertThat(AuditKey.load(dir.resolve("audit-hmac.key"))).hasSize(32);
  }

  @Test
  void durableLatencyUnderConcurrentLoad() throws Exception {
    // why: every response waits this long for its record; group commit keeps it to about one fsync
    int threads = 8;
    int each = 250;
    long[] waits = new long[threads * each];
    try (SqliteStore store = SqliteStore.open(dir); AuditWriter w = open(store)) {
      List<Thread> ts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int base = t * each;
        Thread th = new Thread(() -> {
          for (int i = 0; i < each; i++) {
            long t0 = System.nanoTime();
            CompletableFuture<Void> f = w.append(record("r" + (base + i)));
            f.join();
            waits[base + i] = System.nanoTime() - t0;
          }
        });
        ts.add(th);
        th.start();
      }
      for (Thread th : ts) {
        th.join();
      }
      Arrays.sort(waits);
      System.out.printf("audit durable wait: %d records from %d threads in %d batches; median %d us, p99 %d us, mean batch %d us%n",
          w.written(), threads, w.batches(), waits[waits.length / 2] / 1000, waits[waits.length * 99 / 100] / 1000,
          w.meanBatchMicros());
      assertThat(w.written()).isEqualTo(threads * each);
      assertThat(w.batches()).as("records share fsyncs").isLessThan(threads * each);
    }
    AuditVerifier.Result r = verify();
    assertThat(r.ok()).as(r.describe()).isTrue();
    assertThat(r.records()).isEqualTo(threads * each);
  }
}

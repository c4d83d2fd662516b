package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.SqliteStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The database copy of the audit log, on a real SQLite store. */
class AuditDbCopyTest {

  @TempDir Path dir;

  private static List<AuditStore.AuditRow> rows(long from, long to) {
    List<AuditStore.AuditRow> rows = new ArrayList<>();
    for (long seq = from; seq <= to; seq++) {
      rows.add(
          new AuditStore.AuditRow(
              seq,
              "2026-12-05T08:00:00Z",
              "r" + seq,
              "127.0.0.1",
              null,
              200,
              "ok",
              "{\"seq\":" + seq + "}"));
    }
    return rows;
  }

  @Test
  void aCopyGoesInSlicesAndTheWriterComesBackBetweenThem() throws Exception {
    // why: one insert of a whole 1,000-row backlog held the writer thread for about 10 ms, and
    // with it every response waiting for its record to be written (the p99 at one connection).
    // A slice per call, and no wait before the next one, lets the writer write in between.
    try (SqliteStore store = SqliteStore.open(dir)) {
      ChainHead head = new ChainHead();
      AuditDbCopy copy =
          new AuditDbCopy(
              store,
              new AuditFiles(dir, 1 << 20),
              head,
              Duration.ofMinutes(1),
              dir.resolve("checkpoints.jsonl"));
      head.seq = 1000;
      copy.add(rows(1, 1000)); // a full batch: the copy starts, one slice at once
      List<Long> copied = new ArrayList<>(List.of(store.lastAuditSeq()));
      while (copy.pollNanos() == 0) {
        copy.copy(false);
        copied.add(store.lastAuditSeq());
      }
      assertThat(copied).containsExactly(128L, 256L, 384L, 512L, 640L, 768L, 896L, 1000L);
      assertThat(copy.withinLag()).isTrue();

      // a few rows wait for the flush interval (or a full batch) before a copy starts...
      head.seq = 1010;
      copy.add(rows(1001, 1010));
      assertThat(store.lastAuditSeq()).isEqualTo(1000);
      assertThat(copy.pollNanos()).isPositive();
      // ...and a copy asked for now (the writer stopping, a prune) takes the whole backlog
      head.seq = 1500;
      copy.add(rows(1011, 1500));
      copy.copy(true);
      assertThat(store.lastAuditSeq()).isEqualTo(1500);
    }
  }
}

package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.SqliteStore;
import dev.gatehouse.testing.Poll;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

  @Test
  void aCatchUpFromTheFilesCopiesNoRecordPastTheEndItIsGiven() throws Exception {
    // why: after the copy dropped its backlog (the database unreachable for a million rows), the
    // catch-up read the files to the writer's head, which with `written` durability may hold
    // records not yet fsynced: a power loss then left the database holding records the file lost.
    // The writer fsyncs first and hands the catch-up that end; the rows after it come with their
    // fsync, as every batch's do.
    StringBuilder lines = new StringBuilder();
    for (AuditStore.AuditRow r : rows(1, 5)) {
      lines.append(r.line()).append('\n');
    }
    Files.writeString(dir.resolve(AuditWriter.FILE), lines, StandardCharsets.UTF_8);
    try (SqliteStore sqlite = SqliteStore.open(dir)) {
      FlakyAuditStore store = new FlakyAuditStore(sqlite);
      ChainHead head = new ChainHead();
      AuditFiles files = new AuditFiles(dir, 1 << 20);
      files.load(head);
      assertThat(head.seq).isEqualTo(5);
      AuditDbCopy copy =
          new AuditDbCopy(
              store,
              files,
              head,
              Duration.ofMinutes(1),
              dir.resolve("checkpoints.jsonl"),
              new AuditDbCopy.Bounds(2, Duration.ofMinutes(1)));
      copy.start();
      try {
        store.down.set(true);
        copy.add(rows(1, 3)); // fsynced, handed over; the database refuses them...
        Poll.until("the backlog dropped", Duration.ofSeconds(10), copy::catchUpWanted);
        store.down.set(false);
        // ...and the writer, having fsynced records 1-3 (4 and 5 written, not yet fsynced), asks
        // for the catch-up through 3
        copy.catchUpIfWanted(3);
        assertThat(copy.catchUpWanted()).isFalse();
        assertThat(sqlite.lastAuditSeq()).as("rows copied from the files").isEqualTo(3);
        copy.add(rows(4, 5)); // their fsync came
        Poll.until("rows 4 and 5", Duration.ofSeconds(10), () -> sqlite.lastAuditSeq() == 5);
        List<Long> seqs = new ArrayList<>();
        sqlite.forEachAuditRow(r -> seqs.add(r.seq()));
        assertThat(seqs).containsExactly(1L, 2L, 3L, 4L, 5L);
      } finally {
        copy.close(Duration.ofSeconds(10));
      }
    }
  }
}

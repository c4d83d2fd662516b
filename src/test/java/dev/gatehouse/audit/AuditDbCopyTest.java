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
  void aCopyGoesInSlicesAndTheCopyThreadComesBackBetweenThem() throws Exception {
    // why: a copy of a large backlog in one transaction would keep the copy thread from the rows
    // handed to it meanwhile, and the store's other writers from SQLite's write lock, for as long
    // as it took. A slice per call, and no wait before the next one, lets both in between.
    try (SqliteStore store = SqliteStore.open(dir)) {
      ChainHead head = new ChainHead();
      AuditDbCopy copy =
          new AuditDbCopy(
              store,
              new AuditFiles(dir, 1 << 20),
              head,
              Duration.ofMinutes(1),
              dir.resolve("checkpoints.jsonl"));
      head.seq = 2500;
      copy.add(rows(1, 2500)); // more than a full batch: the copy starts, one slice at once
      List<Long> copied = new ArrayList<>(List.of(store.lastAuditSeq()));
      while (copy.pollNanos() == 0) {
        copy.copy(false);
        copied.add(store.lastAuditSeq());
      }
      assertThat(copied).containsExactly(1024L, 2048L, 2500L);
      assertThat(copy.withinLag()).isTrue();

      // a few rows wait for the flush interval (or a full batch) before a copy starts...
      head.seq = 2510;
      copy.add(rows(2501, 2510));
      assertThat(store.lastAuditSeq()).isEqualTo(2500);
      assertThat(copy.pollNanos()).isPositive();
      // ...and a copy asked for now (the writer stopping, a prune) takes the whole backlog
      head.seq = 4000;
      copy.add(rows(2511, 4000));
      copy.copy(true);
      assertThat(store.lastAuditSeq()).isEqualTo(4000);
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

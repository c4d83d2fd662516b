package dev.gatehouse.testing;

import dev.gatehouse.audit.AuditRecord;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.config.GatehouseConfig.AuditRetention;
import dev.gatehouse.store.SqliteStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * Writes an audit log that retention has pruned, with the real writer, files and SQLite: 21
 * records, each in a sealed segment of its own (segments of 1 byte seal after every batch); records
 * 1-10 are 20 days old, 11-20 ten days old and 21 new, and a 15-day {@code max_age} pruned 1-10 in
 * one pass, leaving one signed anchor at seq 10. Checkpoints are signed every 5 records, so those
 * at 5 and 10 now cover pruned records. The active file is empty.
 */
public final class PrunedAuditLog {

  public static final Instant NOW = Instant.parse("2026-11-21T00:00:00Z");
  public static final int PRUNED_THROUGH = 10;
  public static final int LAST = 21;

  private PrunedAuditLog() {}

  /** An audit record of request {@code id} that arrived at {@code time}. */
  public static AuditRecord record(String id, Instant time) {
    return new AuditRecord(
        time.toString(),
        id,
        "127.0.0.1",
        "k1",
        "ci",
        "POST",
        "/api/chat",
        "inference",
        "llama3.2:3b",
        200,
        "allow",
        "ok",
        100,
        200,
        10,
        20,
        1000,
        2000,
        3000,
        "test/1",
        false,
        null,
        null);
  }

  /**
   * Writes the log into {@code dir} (gatehouse.db, the segments, checkpoints and the key
   * audit-hmac.key).
   */
  public static void write(Path dir) throws Exception {
    MutableClock clock = new MutableClock(NOW.minus(Duration.ofDays(10)));
    AuditRetention retention = new AuditRetention(1, Duration.ofDays(15), 0);
    try (SqliteStore store = SqliteStore.open(dir)) {
      try (AuditWriter w =
          AuditWriter.open(
              dir,
              store,
              dir.resolve("audit-hmac.key"),
              5,
              Duration.ofHours(1),
              retention,
              clock)) {
        for (int i = 1; i <= 20; i++) {
          w.append(record("req" + i, NOW.minus(Duration.ofDays(i <= PRUNED_THROUGH ? 20 : 10))))
              .join();
        }
        clock.advance(Duration.ofDays(10)); // now 1-10 are past max_age: the next pass prunes them
        w.append(record("req21", NOW)).join();
      } // close waits for the writer thread, and so for the pass after the last batch
    }
  }
}

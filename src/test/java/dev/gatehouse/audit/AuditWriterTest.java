package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.config.GatehouseConfig.AuditDurability;
import dev.gatehouse.config.GatehouseConfig.AuditRetention;
import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.SqliteStore;
import dev.gatehouse.testing.MutableClock;
import dev.gatehouse.testing.Poll;
import dev.gatehouse.testing.PrunedAuditLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AuditWriterTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  static AuditRecord record(String id) {
    return new AuditRecord(
        "2026-11-22T00:00:00Z",
        id,
        "127.0.0.1",
        null,
        null,
        "GET",
        "/api/tags",
        "models.read",
        null,
        200,
        "allow",
        "ok",
        0,
        10,
        -1,
        -1,
        0,
        0,
        100,
        null,
        false,
        null,
        null);
  }

  private AuditWriter open(SqliteStore store) throws Exception {
    return AuditWriter.open(dir, store, dir.resolve("audit-hmac.key"), 1000, Duration.ofHours(1));
  }

  private AuditVerifier.Result verify() throws Exception {
    return AuditVerifier.verifyLog(
        dir, dir.resolve(AuditWriter.CHECKPOINTS), AuditKey.load(dir.resolve("audit-hmac.key")));
  }

  @Test
  void aLockedDatabaseNeverHoldsTheWriter() throws Exception {
    // why: the database copy ran on the writer's thread, so an insert waiting for SQLite's lock
    // (busy_timeout, 5 s), a slice of inserts or a WAL checkpoint held every response waiting
    // for its record to be written. The copy has a thread of its own: records are written and
    // acknowledged while it waits, and they reach the database once the lock is gone.
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w = open(store)) {
      w.append(record("before")).get(10, TimeUnit.SECONDS);
      awaitRows(store, 1);
      try (Connection locker =
              DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("gatehouse.db"));
          Statement st = locker.createStatement()) {
        st.execute("BEGIN EXCLUSIVE");
        long start = System.nanoTime();
        int n = 0;
        // 2 s of appends: the copy starts 250 ms after the first fsync and then waits on the
        // lock for the rest; each append is still acknowledged at once (the bound is far below
        // the 5 s the copy waits, and far above a write and its fsync)
        while (System.nanoTime() - start < 2_000_000_000L) {
          long t0 = System.nanoTime();
          w.append(record("locked-" + n++)).get(10, TimeUnit.SECONDS);
          assertThat((System.nanoTime() - t0) / 1_000_000)
              .as("append %d, %d ms after the lock", n, (t0 - start) / 1_000_000)
              .isLessThan(1_500);
          Thread.sleep(50);
        }
        assertThat(store.lastAuditSeq()).as("nothing copied under the lock").isEqualTo(1);
        st.execute("ROLLBACK");
        awaitRows(store, 1 + n);
      }
    }
  }

  /** Waits up to 10 s for the rows through {@code seq}, and no more, to be in the database. */
  private static void awaitRows(SqliteStore store, long seq) throws InterruptedException {
    Poll.until("rows through " + seq, Duration.ofSeconds(10), () -> store.lastAuditSeq() >= seq);
    assertThat(store.lastAuditSeq()).isEqualTo(seq);
  }

  @Test
  void appendAllQueuesItsRecordsTogetherInOrderAndCountsEachAsQueued() throws Exception {
    // why: an event loop hands over a turn's records with appendAll (account.AuditTurn); they
    // must be written as the records they are, in order, and counted one by one while queued
    CountingChannel.Seam seam = new CountingChannel.Seam(true); // fsyncs wait for the test
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w = open(store, AuditDurability.FSYNC, seam)) {
      CompletableFuture<Void> first = w.append(record("first"));
      assertThat(seam.forceStarted.await(5, TimeUnit.SECONDS))
          .as("the writer is in its fsync")
          .isTrue();
      CompletableFuture<Void> all = w.appendAll(List.of(record("a"), record("b"), record("c")));
      assertThat(w.queued()).isEqualTo(3);
      assertThat(all).isNotDone();
      seam.gate.countDown();
      first.get(5, TimeUnit.SECONDS);
      all.get(5, TimeUnit.SECONDS);
      assertThat(w.queued()).isZero();
      List<String> ids = new ArrayList<>();
      for (String line :
          Files.readAllLines(dir.resolve(AuditWriter.FILE), StandardCharsets.UTF_8)) {
        ids.add(JSON.readTree(line).get("request_id").asText());
      }
      assertThat(ids).containsExactly("first", "a", "b", "c");
    }
    assertThat(verify().ok()).isTrue();
  }

  @Test
  void writingAuditRowsChangesNeitherTheKeyNorTheBanVersion() throws Exception {
    // why: a version bump makes every event loop reload its key ring and ban list; audit rows
    // are written after every batch and change neither
    try (SqliteStore store = SqliteStore.open(dir);
        var keys = store.openVersionProbe();
        var bans = store.openBanVersionProbe()) {
      long k0 = keys.version();
      long b0 = bans.version();
      store.appendAudit(
          List.of(
              new AuditStore.AuditRow(
                  1,
                  "2026-11-22T00:00:00.000Z",
                  "r1",
                  "127.0.0.1",
                  null,
                  401,
                  "auth.key_invalid",
                  "{\"seq\":1}")));
      assertThat(store.lastAuditSeq()).isEqualTo(1);
      assertThat(keys.version()).isEqualTo(k0);
      assertThat(bans.version()).isEqualTo(b0);
    }
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
      Files.writeString(
          dir.resolve(AuditWriter.FILE), "{\"seq\":3,\"prev\":\"12", StandardOpenOption.APPEND);
      try (AuditWriter w = open(store)) {
        w.append(record("c")).join();
      }
      List<String> lines =
          Files.readAllLines(dir.resolve(AuditWriter.FILE), StandardCharsets.UTF_8);
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
      try (AuditWriter w =
          AuditWriter.open(
              dir, AuditStore.NONE, dir.resolve("audit-hmac.key"), 1000, Duration.ofHours(1))) {
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
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w = open(store)) {
      w.append(record("a")).join();
    }
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("audit-hmac.key"))))
        .isEqualTo("rw-------");
    assertThat(AuditKey.load(dir.resolve("audit-hmac.key"))).hasSize(32);
  }

  @ParameterizedTest
  @EnumSource(
      value = AuditDurability.class,
      names = {"WRITTEN", "FSYNC"})
  void durableLatencyUnderConcurrentLoad(AuditDurability durability) throws Exception {
    // why: every response waits this long for its record; group commit keeps it to about one
    // write (written) or one fsync (fsync)
    int threads = 8;
    int each = 250;
    long[] waits = new long[threads * each];
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w = open(store, durability)) {
      List<Thread> ts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int base = t * each;
        Thread th =
            new Thread(
                () -> {
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
      System.out.printf(
          "audit durable wait (%s): %d records from %d threads in %d batches, %d fsyncs; median %d us, p99 %d us, mean batch %d us, longest fsync lag %d us%n",
          durability,
          w.written(),
          threads,
          w.batches(),
          w.fsyncs(),
          waits[waits.length / 2] / 1000,
          waits[waits.length * 99 / 100] / 1000,
          w.meanBatchMicros(),
          w.maxFsyncLagMicros());
      assertThat(w.written()).isEqualTo(threads * each);
      assertThat(w.batches()).as("records share fsyncs").isLessThan(threads * each);
    }
    AuditVerifier.Result r = verify();
    assertThat(r.ok()).as(r.describe()).isTrue();
    assertThat(r.records()).isEqualTo(threads * each);
  }

  // --- Durability: written (the default) and fsync. ---

  /** A writer whose file goes through {@code seam} from its first write on. */
  private AuditWriter open(AuditStore store, AuditDurability durability, CountingChannel.Seam seam)
      throws Exception {
    AuditWriter w = open(store, durability);
    w.useFileOpener(seam.opener());
    return w;
  }

  private AuditWriter open(AuditStore store, AuditDurability durability) throws Exception {
    return open(store, durability, AuditDbCopy.MAX_DB_BACKLOG);
  }

  /** With the database copy's backlog dropped past {@code maxDbBacklog} rows. */
  private AuditWriter open(AuditStore store, AuditDurability durability, int maxDbBacklog)
      throws Exception {
    return open(
        store,
        durability,
        AuditRetention.KEEP_ALL,
        new AuditDbCopy.Bounds(maxDbBacklog, AuditDbCopy.Bounds.PRODUCTION.catchUpWait()));
  }

  /** With the given retention (its segment size) and the database copy's bounds. */
  private AuditWriter open(
      AuditStore store,
      AuditDurability durability,
      AuditRetention retention,
      AuditDbCopy.Bounds dbBounds)
      throws Exception {
    return AuditWriter.open(
        dir,
        store,
        dir.resolve("audit-hmac.key"),
        1000,
        Duration.ofHours(1),
        retention,
        Clock.systemUTC(),
        AuditWriter.DEFAULT_DB_MAX_LAG,
        durability,
        dbBounds);
  }

  /** Waits up to 5 s for {@code condition}: a generous bound, not a timing assertion. */
  private static void await(String what, BooleanSupplier condition) throws Exception {
    Poll.until(what, Duration.ofSeconds(5), condition);
  }

  @Test
  void writtenDurabilityAcknowledgesTheWriteAndFsyncsInTheBackground() throws Exception {
    // why: the default lets the response's last byte go once the record is in the page cache
    // (which survives a kill -9 of the gateway); the fsync, for power loss, follows within the
    // bound without anyone waiting for it
    assertThat(AuditWriter.MAX_FSYNC_LAG).isEqualTo(Duration.ofMillis(100));
    assertThat(AuditSync.FSYNC_AFTER_NANOS).isLessThan(AuditWriter.MAX_FSYNC_LAG.toNanos());
    CountingChannel.Seam seam = new CountingChannel.Seam(true); // fsyncs wait for the test
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w = open(store, AuditDurability.WRITTEN, seam)) {
      assertThat(w.durability()).isEqualTo(AuditDurability.WRITTEN);
      long f0 = w.fsyncs();
      // Acknowledged while every fsync is held: the acknowledgement does not wait for one.
      w.append(record("a")).orTimeout(5, TimeUnit.SECONDS).join();
      assertThat(seam.writes.get()).isPositive();
      assertThat(Files.readString(dir.resolve(AuditWriter.FILE))).contains("\"request_id\":\"a\"");
      assertThat(seam.forceStarted.await(5, TimeUnit.SECONDS)).as("background fsync").isTrue();
      assertThat(seam.forces.get()).isZero();
      seam.gate.countDown();
      await("the background fsync", () -> w.fsyncs() > f0 && seam.forces.get() > 0);
      // Group commit: many writes share the background fsyncs.
      for (int i = 0; i < 200; i++) {
        w.append(record("r" + i)).join();
      }
      long batches = w.batches();
      await("the fsync of the last writes", () -> store.lastAuditSeq() == 201);
      System.out.printf(
          "audit written durability: %d batches, %d fsyncs, longest fsync lag %d us%n",
          batches, w.fsyncs(), w.maxFsyncLagMicros());
      assertThat(w.fsyncs()).as("fsyncs shared by batches").isLessThan(batches);
    }
    AuditVerifier.Result r = verify();
    assertThat(r.ok()).as(r.describe()).isTrue();
  }

  @Test
  void aCatchUpFromTheFilesWaitsForTheirFsync() throws Exception {
    // why: after the database copy dropped its backlog, its catch-up read the files to the
    // writer's head, which with `written` durability may hold records not yet fsynced; a power
    // loss then left the database holding a record the file lost. The writer fsyncs first.
    try (SqliteStore sqlite = SqliteStore.open(dir)) {
      FlakyAuditStore store = new FlakyAuditStore(sqlite);
      store.down.set(true);
      try (AuditWriter w = open(store, AuditDurability.WRITTEN, 2)) {
        dropTheBacklog(w);
        // a record written whose fsync is held, and then the database answers again
        CountingChannel.Seam held = new CountingChannel.Seam(true);
        w.useFileOpener(held.opener());
        w.append(record("d")).get(5, TimeUnit.SECONDS);
        assertThat(held.forceStarted.await(5, TimeUnit.SECONDS)).as("d's fsync").isTrue();
        store.down.set(false);
        Thread.sleep(1_000); // the writer's turns go on meanwhile (its fsync is due every 50 ms)
        assertThat(sqlite.lastAuditSeq())
            .as("nothing copied while a record in the file waits for its fsync")
            .isZero();
        held.gate.countDown();
        awaitRows(sqlite, 4);
      }
    }
    AuditVerifier.Result r = verify();
    assertThat(r.ok()).as(r.describe()).isTrue();
  }

  @Test
  void noFileIsSealedWhileACatchUpStillReadsThem() throws Exception {
    // why: the writer waits for a catch-up from the files a bounded time, then goes on writing;
    // it also sealed the active file meanwhile, and a catch-up that had listed the files before a
    // seal read the new active file in place of the sealed one: its records were never copied to
    // the database. Nothing is sealed or pruned until the catch-up has ended.
    AuditRetention smallSegments = new AuditRetention(2_000, Duration.ZERO, 0);
    try (SqliteStore sqlite = SqliteStore.open(dir)) {
      FlakyAuditStore store = new FlakyAuditStore(sqlite);
      store.down.set(true);
      try (AuditWriter w =
          open(
              store,
              AuditDurability.WRITTEN,
              smallSegments,
              new AuditDbCopy.Bounds(2, Duration.ofMillis(200)))) {
        dropTheBacklog(w); // records 1-3 are in the active file
        CountDownLatch slow = new CountDownLatch(1);
        store.hold = slow;
        store.down.set(false);
        w.append(record("d")).get(5, TimeUnit.SECONDS); // the writer's next turn starts it
        assertThat(store.held.await(10, TimeUnit.SECONDS)).as("the catch-up's insert").isTrue();
        // the catch-up outlasts the writer's wait, which goes on writing: past the segment size
        List<AuditRecord> more = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          more.add(record("m" + i));
        }
        w.appendAll(more).get(10, TimeUnit.SECONDS);
        Thread.sleep(1_000); // the writer's turns go on meanwhile, each after its 200 ms wait
        assertThat(sealedSegments())
            .as("no file sealed while the catch-up reads the files")
            .isEmpty();
        slow.countDown();
        store.hold = null;
        awaitRows(sqlite, 24);
        w.append(record("e")).get(5, TimeUnit.SECONDS); // the writer's next turn sees it ended
        await("sealed once the catch-up ended", () -> !sealedSegments().isEmpty());
        awaitRows(sqlite, 25);
        assertThat(dbSeqs(sqlite))
            .as("every record copied once, in order")
            .isEqualTo(LongStream.rangeClosed(1, 25).boxed().toList());
      }
    }
    AuditVerifier.Result r = verify();
    assertThat(r.ok()).as(r.describe()).isTrue();
  }

  @Test
  void recordsAreWrittenWhileTheBackgroundFsyncRuns() throws Exception {
    // why: the background fsync ran on the writer thread, so a record queued during it waited for
    // it (a few ms, tens on a busy disk), and so did its response's last byte: the p99 latency at
    // one connection. It runs beside the writer, which goes on writing.
    CountingChannel.Seam seam = new CountingChannel.Seam(true); // fsyncs wait for the test
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w = open(store, AuditDurability.WRITTEN, seam)) {
      w.append(record("a")).orTimeout(5, TimeUnit.SECONDS).join();
      assertThat(seam.forceStarted.await(5, TimeUnit.SECONDS)).as("background fsync").isTrue();
      // the fsync of "a" is held: "b" is written and acknowledged meanwhile
      w.append(record("b")).orTimeout(5, TimeUnit.SECONDS).join();
      assertThat(Files.readString(dir.resolve(AuditWriter.FILE))).contains("\"request_id\":\"b\"");
      assertThat(seam.forces.get()).as("the fsync is still held").isZero();
      assertThat(store.lastAuditSeq()).as("no row before its fsync").isZero();
      seam.gate.countDown();
      // the held fsync covers "a"; "b", written during it, gets the next one
      await("both fsynced and copied", () -> store.lastAuditSeq() == 2);
      assertThat(seam.forces.get()).isGreaterThanOrEqualTo(1);
    }
    AuditVerifier.Result r = verify();
    assertThat(r.ok()).as(r.describe()).isTrue();
  }

  @Test
  void fsyncDurabilityAcknowledgesNothingBeforeItsFsync() throws Exception {
    // why: audit.durability: fsync is the opt-in for power-loss durability: the response's last
    // byte must not go before the record's fsync has returned
    CountingChannel.Seam seam = new CountingChannel.Seam(true);
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w = open(store, AuditDurability.FSYNC, seam)) {
      CompletableFuture<Void> done = w.append(record("a"));
      assertThat(seam.forceStarted.await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(seam.writes.get()).as("written, and now in its fsync").isPositive();
      assertThat(done).as("acknowledged before its fsync returned").isNotDone();
      seam.gate.countDown();
      done.orTimeout(5, TimeUnit.SECONDS).join();
      assertThat(seam.forces.get()).isEqualTo(1);
      assertThat(w.fsyncs()).isEqualTo(1);
      w.append(record("b")).join();
      assertThat(seam.forces.get()).as("one fsync per batch").isEqualTo(2);
    }
  }

  @Test
  void aFailedBackgroundFsyncFailsClosedAndWritesTheUnsyncedRecordsAgain() throws Exception {
    // why: records already acknowledged may not be durable after a failed fsync (Linux may have
    // marked their pages clean); the gateway must refuse new requests until they are written
    // again and fsynced, and the retry must not duplicate them in the chain
    CountingChannel.Seam seam = new CountingChannel.Seam(false);
    seam.failForce.set(true);
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w = open(store, AuditDurability.WRITTEN, seam)) {
      w.append(record("a")).join();
      w.append(record("b")).join();
      await("failing closed", () -> !w.healthy());
      assertThat(w.unhealthyReason()).contains("fsync");
      assertThat(w.append(record("c")))
          .as("held while failing, its response aborted")
          .failsWithin(5, TimeUnit.SECONDS);
      assertThat(store.lastAuditSeq()).as("no row before its fsync").isZero();
      seam.failForce.set(false);
      await("recovery", w::healthy);
      w.append(record("d")).join();
    }
    List<String> ids = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve(AuditWriter.FILE), StandardCharsets.UTF_8)) {
      ids.add(JSON.readTree(line).path("request_id").asText());
    }
    assertThat(ids).containsExactly("a", "b", "c", "d");
    AuditVerifier.Result r = verify();
    assertThat(r.ok()).as(r.describe()).isTrue();
    try (SqliteStore store = SqliteStore.open(dir)) {
      assertThat(dbSeqs(store)).containsExactly(1L, 2L, 3L, 4L);
    }
  }

  // --- Retention: sealing segments, pruning them, and starting again after either. ---

  private AuditWriter open(AuditStore store, AuditRetention retention, Clock clock)
      throws Exception {
    return AuditWriter.open(
        dir, store, dir.resolve("audit-hmac.key"), 5, Duration.ofHours(1), retention, clock);
  }

  private static long seqOf(String line) throws Exception {
    return JSON.readTree(line).path("seq").asLong();
  }

  /**
   * Writes records 1-3 while the store refuses them: fsynced, handed over and refused, they make a
   * copy with a backlog bound of 2 drop its backlog and want a catch-up from the files.
   */
  private static void dropTheBacklog(AuditWriter w) throws Exception {
    for (String id : List.of("a", "b", "c")) {
      w.append(record(id)).get(5, TimeUnit.SECONDS);
    }
    await("the backlog dropped", w::dbCatchUpWanted);
  }

  private List<Path> sealedSegments() {
    try {
      return AuditSegments.sealed(dir);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private List<Long> dbSeqs(SqliteStore store) {
    List<Long> seqs = new ArrayList<>();
    store.forEachAuditRow(r -> seqs.add(r.seq()));
    return seqs;
  }

  private AuditVerifier.Result verifyDb(SqliteStore store) throws Exception {
    return AuditVerifier.verifyStore(
        store, dir.resolve(AuditWriter.CHECKPOINTS), AuditKey.load(dir.resolve("audit-hmac.key")));
  }

  @Test
  void aFullFileIsSealedIntoSegmentsNamedByTheirFirstRecordAndTheChainRunsAcrossThem()
      throws Exception {
    // why: the log must stay one verifiable chain when it is split into files
    try (SqliteStore store = SqliteStore.open(dir)) {
      try (AuditWriter w =
          open(store, new AuditRetention(2048, Duration.ZERO, 0), Clock.systemUTC())) {
        for (int i = 1; i <= 30; i++) {
          w.append(record("r" + i)).join();
        }
      }
      List<Path> sealed = AuditSegments.sealed(dir);
      assertThat(sealed).hasSizeGreaterThan(2);
      long expectFirst = 1;
      for (Path p : sealed) {
        List<String> lines = Files.readAllLines(p);
        assertThat(p.getFileName().toString()).isEqualTo(AuditSegments.name(expectFirst));
        assertThat(seqOf(lines.getFirst())).isEqualTo(expectFirst);
        assertThat(Files.size(p))
            .as("sealed once past segment_bytes, between batches")
            .isGreaterThanOrEqualTo(2048);
        expectFirst = seqOf(lines.getLast()) + 1;
      }
      List<String> active = Files.readAllLines(dir.resolve(AuditWriter.FILE));
      if (!active.isEmpty()) {
        assertThat(seqOf(active.getFirst())).isEqualTo(expectFirst);
      }
      AuditVerifier.Result r = verify();
      assertThat(r.ok()).as(r.describe()).isTrue();
      assertThat(r.records()).isEqualTo(30);
      assertThat(r.lastCheckpointSeq()).isEqualTo(30);
      assertThat(verifyDb(store).ok()).isTrue();
    }
  }

  @Test
  void aRestartAfterSealingContinuesTheChainEvenWhenTheCrashCameBeforeTheNewFile()
      throws Exception {
    // why: a crash between renaming audit.jsonl and creating the next one leaves no active file;
    // the head of the chain is then in the newest segment
    try (SqliteStore store = SqliteStore.open(dir)) {
      try (AuditWriter w =
          open(store, new AuditRetention(2048, Duration.ZERO, 0), Clock.systemUTC())) {
        for (int i = 1; i <= 12; i++) {
          w.append(record("r" + i)).join();
        }
      }
      Path active = dir.resolve(AuditWriter.FILE);
      long first = seqOf(Files.readAllLines(active).getFirst());
      Files.move(active, dir.resolve(AuditSegments.name(first))); // as if sealed, then the crash
      try (AuditWriter w =
          open(store, new AuditRetention(2048, Duration.ZERO, 0), Clock.systemUTC())) {
        w.append(record("after")).join();
      }
      List<String> now = Files.readAllLines(active);
      assertThat(now).hasSize(1);
      assertThat(seqOf(now.getFirst())).isEqualTo(13);
      AuditVerifier.Result r = verify();
      assertThat(r.ok()).as(r.describe()).isTrue();
      assertThat(r.records()).isEqualTo(13);
      assertThat(dbSeqs(store)).hasSize(13).last().isEqualTo(13L);
    }
  }

  @Test
  void rowsMissingFromTheDatabaseAreCopiedFromSealedSegmentsToo() throws Exception {
    try (SqliteStore store = SqliteStore.open(dir)) {
      try (AuditWriter w =
          open(AuditStore.NONE, new AuditRetention(2048, Duration.ZERO, 0), Clock.systemUTC())) {
        for (int i = 1; i <= 12; i++) {
          w.append(record("r" + i)).join();
        }
      }
      assertThat(AuditSegments.sealed(dir)).isNotEmpty();
      try (AuditWriter w =
          open(store, new AuditRetention(2048, Duration.ZERO, 0), Clock.systemUTC())) {
        w.append(record("r13")).join();
      }
      assertThat(dbSeqs(store))
          .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L);
      assertThat(verifyDb(store).ok()).isTrue();
    }
  }

  @Test
  void pruningBySizeDropsTheOldestSegmentsAndTheirRowsAfterASignedAnchor() throws Exception {
    // why: max_bytes bounds the disk the log takes; what remains must still verify
    AuditRetention retention = new AuditRetention(2048, Duration.ZERO, 6144);
    try (SqliteStore store = SqliteStore.open(dir)) {
      try (AuditWriter w = open(store, retention, Clock.systemUTC())) {
        for (int i = 1; i <= 60; i++) {
          w.append(record("r" + i)).join();
        }
      }
      long total = Files.size(dir.resolve(AuditWriter.FILE));
      for (Path p : AuditSegments.sealed(dir)) {
        total += Files.size(p);
      }
      assertThat(total).isLessThanOrEqualTo(6144);
      List<Path> sealed = AuditSegments.sealed(dir);
      long firstKept = AuditSegments.firstSeq(sealed.getFirst());
      assertThat(firstKept).isGreaterThan(1);
      List<String> anchors =
          Files.readAllLines(dir.resolve(AuditWriter.CHECKPOINTS)).stream()
              .filter(l -> l.contains("pruned_through"))
              .toList();
      assertThat(anchors).isNotEmpty();
      assertThat(JSON.readTree(anchors.getLast()).path("pruned_through").asLong())
          .isEqualTo(firstKept - 1);
      assertThat(dbSeqs(store).getFirst()).as("rows go with their segments").isEqualTo(firstKept);
      AuditVerifier.Result r = verify();
      assertThat(r.ok()).as(r.describe()).isTrue();
      assertThat(r.firstSeq()).isEqualTo(firstKept);
      assertThat(r.lastSeq()).isEqualTo(60);
      assertThat(r.prunedThrough()).isEqualTo(firstKept - 1);
      AuditVerifier.Result d = verifyDb(store);
      assertThat(d.ok()).as(d.describe()).isTrue();
      assertThat(d.firstSeq()).isEqualTo(firstKept);
    }
  }

  @Test
  void pruningByAgeGoesByTheNewestRecordOfEachSegmentAndNeverTakesTheActiveFile() throws Exception {
    Instant now = Instant.parse("2026-11-21T00:00:00Z");
    MutableClock clock = new MutableClock(now);
    AuditRetention retention = new AuditRetention(2048, Duration.ofDays(30), 0);
    try (SqliteStore store = SqliteStore.open(dir)) {
      try (AuditWriter w = open(store, retention, clock)) {
        for (int i = 1; i <= 30; i++) {
          w.append(PrunedAuditLog.record("r" + i, now)).join();
        }
        clock.advance(Duration.ofDays(29));
        w.append(PrunedAuditLog.record("r31", clock.instant())).join();
      }
      assertThat(AuditSegments.sealed(dir)).as("29 days old: kept").isNotEmpty();
      try (AuditWriter w = open(store, retention, clock)) {
        clock.advance(Duration.ofDays(2));
        w.append(PrunedAuditLog.record("r32", clock.instant())).join();
      }
      // Every sealed segment's newest record is now 31 days old, except one sealed after r31 or
      // r32.
      for (Path p : AuditSegments.sealed(dir)) {
        assertThat(Files.readString(p)).containsAnyOf("\"r31\"", "\"r32\"");
      }
      assertThat(Files.exists(dir.resolve(AuditWriter.FILE))).isTrue();
      AuditVerifier.Result r = verify();
      assertThat(r.ok()).as(r.describe()).isTrue();
      assertThat(r.lastSeq()).isEqualTo(32);
      assertThat(r.prunedThrough()).isGreaterThan(0);
      assertThat(dbSeqs(store).getFirst()).isEqualTo(r.prunedThrough() + 1);
    }
  }

  @Test
  void aPruningCutShortByACrashVerifiesAndIsFinishedOnTheNextStart() throws Exception {
    // why: the anchor is written first; a crash before the files and rows go must not look like
    // tampering, and the next start deletes what the anchor covers
    Instant now = Instant.parse("2026-11-21T00:00:00Z");
    MutableClock clock = new MutableClock(now.minus(Duration.ofDays(10)));
    AuditRetention retention = new AuditRetention(1, Duration.ofDays(15), 0); // a segment per batch
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w = open(store, retention, clock)) {
      for (int i = 1; i <= 20; i++) {
        w.append(PrunedAuditLog.record("r" + i, now.minus(Duration.ofDays(i <= 10 ? 20 : 10))))
            .join();
      }
    }
    Path backup = Files.createDirectories(dir.resolve("backup"));
    for (Path p : AuditSegments.sealed(dir)) {
      Files.copy(p, backup.resolve(p.getFileName()));
    }
    Files.copy(dir.resolve("gatehouse.db"), backup.resolve("gatehouse.db"));
    clock.advance(Duration.ofDays(10));
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w = open(store, retention, clock)) {
      w.append(PrunedAuditLog.record("r21", now)).join();
    }
    assertThat(Files.exists(dir.resolve(AuditSegments.name(10)))).isFalse();
    // The crash: files and rows the anchor covers are still there.
    for (int s = 1; s <= 10; s++) {
      Files.copy(backup.resolve(AuditSegments.name(s)), dir.resolve(AuditSegments.name(s)));
    }
    try (SqliteStore store = SqliteStore.open(dir)) {
      List<Long> keep = dbSeqs(store);
      assertThat(keep.getFirst()).isEqualTo(11L);
    }
    Files.copy(
        backup.resolve("gatehouse.db"),
        dir.resolve("gatehouse.db"),
        StandardCopyOption.REPLACE_EXISTING);
    try (SqliteStore store = SqliteStore.open(dir)) {
      String line21 =
          Files.readString(dir.resolve(AuditSegments.name(21))).strip(); // written after the backup
      var n = JSON.readTree(line21);
      store.appendAudit(
          List.of(
              new AuditStore.AuditRow(
                  21, n.path("time").asText(), "r21", "127.0.0.1", "k1", 200, "ok", line21)));
      AuditVerifier.Result f = verify();
      assertThat(f.ok()).as(f.describe()).isTrue();
      assertThat(f.firstSeq()).isEqualTo(1);
      assertThat(f.prunedThrough()).isEqualTo(10);
      AuditVerifier.Result d = verifyDb(store);
      assertThat(d.ok()).as(d.describe()).isTrue();
      assertThat(dbSeqs(store).getFirst()).isEqualTo(1L);
      // No age limit now: only the anchor can make this start delete anything.
      try (AuditWriter w = open(store, new AuditRetention(1, Duration.ZERO, 0), clock)) {
        w.append(PrunedAuditLog.record("r22", now)).join();
      }
      assertThat(AuditSegments.firstSeq(AuditSegments.sealed(dir).getFirst())).isEqualTo(11);
      assertThat(dbSeqs(store).getFirst()).isEqualTo(11L);
      assertThat(dbSeqs(store).getLast()).isEqualTo(22L);
      AuditVerifier.Result after = verify();
      assertThat(after.ok()).as(after.describe()).isTrue();
      assertThat(after.firstSeq()).isEqualTo(11);
    }
  }

  @Test
  void whenEverySegmentWasPrunedTheChainContinuesFromTheAnchor() throws Exception {
    // why: with an empty active file and no segments left, only the anchor knows the chain's head
    PrunedAuditLog.write(dir);
    MutableClock clock = new MutableClock(PrunedAuditLog.NOW.plus(Duration.ofDays(30)));
    try (SqliteStore store = SqliteStore.open(dir)) {
      try (AuditWriter w = open(store, new AuditRetention(1, Duration.ofDays(15), 0), clock)) {
        w.append(PrunedAuditLog.record("r22", PrunedAuditLog.NOW))
            .join(); // old on arrival: pruned with the rest
      }
      assertThat(AuditSegments.sealed(dir)).isEmpty();
      assertThat(Files.size(dir.resolve(AuditWriter.FILE))).isZero();
      assertThat(dbSeqs(store)).isEmpty();
      AuditVerifier.Result empty = verify();
      assertThat(empty.ok()).as(empty.describe()).isTrue();
      assertThat(empty.prunedThrough()).isEqualTo(22);
      try (AuditWriter w =
          open(store, new AuditRetention(1 << 20, Duration.ofDays(15), 0), clock)) {
        w.append(PrunedAuditLog.record("r23", clock.instant())).join();
      }
      AuditVerifier.Result r = verify();
      assertThat(r.ok()).as(r.describe()).isTrue();
      assertThat(r.firstSeq()).isEqualTo(23);
      assertThat(r.records()).isEqualTo(1);
      assertThat(verifyDb(store).ok()).isTrue();
    }
  }
}

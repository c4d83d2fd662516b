package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.GatehouseConfig.AuditRetention;
import dev.gatehouse.store.AuditStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit log's read side without the CLI: time bounds, the newest records, and following across
 * sealing.
 */
class AuditReaderTest {

  @TempDir Path dir;

  static AuditRecord record(int i) {
    return new AuditRecord(
        "2026-01-01T00:00:00.000Z",
        "req-" + i,
        "127.0.0.1",
        null,
        null,
        "GET",
        "/api/tags",
        "models",
        null,
        200,
        "allow",
        "ok",
        0,
        0,
        -1,
        -1,
        0,
        0,
        1,
        null,
        false,
        null,
        null);
  }

  static long seq(String line) {
    return Long.parseLong(line.substring(line.indexOf("\"seq\":") + 6, line.indexOf(',')));
  }

  /** Appends one record's line to {@code file}, as the writer does. */
  private static void append(Path file, long seq, String id) throws java.io.IOException {
    java.nio.file.Files.writeString(
        file,
        "{\"seq\":" + seq + ",\"id\":\"" + id + "\"}\n",
        StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.APPEND);
  }

  /** The sequence numbers of {@code lines}, in their order. */
  static List<Long> seqs(List<String> lines) {
    List<Long> out = new ArrayList<>();
    for (String line : lines) {
      out.add(seq(line));
    }
    return out;
  }

  @Test
  void timeBoundsAreUtcTimesInTheColumnsFormat() {
    Instant now = Instant.parse("2026-11-02T10:00:00Z");
    assertThat(AuditReader.timeBound("1h", now)).isEqualTo("2026-11-02T09:00:00.000Z");
    assertThat(AuditReader.timeBound("7d", now)).isEqualTo("2026-10-26T10:00:00.000Z");
    assertThat(AuditReader.timeBound("2026-11-01", now)).isEqualTo("2026-11-01");
    assertThat(AuditReader.timeBound("2026-11-01T10:00Z", now)).isEqualTo("2026-11-01T10:00");
    // why: an unknown form must not silently mean "everything"; the CLI turns null into a usage
    // error
    assertThat(AuditReader.timeBound("yesterday", now)).isNull();
  }

  AuditWriter writer() throws Exception {
    // Small segments: a few records each, so that the log is sealed several times.
    return AuditWriter.open(
        dir,
        AuditStore.NONE,
        dir.resolve("audit-hmac.key"),
        1000,
        Duration.ofHours(1),
        new AuditRetention(1000, Duration.ZERO, 0),
        Clock.systemUTC());
  }

  @Test
  void newestReadsBackIntoSealedSegmentsAndFollowingSeesEachNewRecordOnceAcrossSealing()
      throws Exception {
    try (AuditWriter w = writer()) {
      for (int i = 1; i <= 12; i++) {
        w.append(record(i)).get();
      }
    } // closed: no sealing in progress while the reader starts
    assertThat(AuditSegments.sealed(dir)).isNotEmpty();
    try (AuditReader r = AuditReader.open(dir)) {
      List<String> newest = r.newest(10);
      assertThat(newest).hasSize(10);
      assertThat(seq(newest.getFirst())).isEqualTo(3);
      assertThat(seq(newest.getLast())).isEqualTo(12);
      r.follow();
      assertThat(r.poll()).isEmpty();
      try (AuditWriter w = writer()) {
        for (int i = 13; i <= 30; i++) {
          w.append(record(i)).get();
        }
      }
      List<Long> seen = seqs(r.poll());
      List<Long> expected = new ArrayList<>();
      for (long s = 13; s <= 30; s++) {
        expected.add(s);
      }
      assertThat(seen).isEqualTo(expected);
    }
  }

  @Test
  void openingWaitsForTheActiveFileWhileItIsBeingSealed() throws Exception {
    // why: sealing renames audit.jsonl and then creates the next one; audit tail -f started in
    // that moment failed with "not found" and printed nothing (seen in CI)
    java.nio.file.Files.writeString(
        dir.resolve(AuditSegments.name(1)), "{\"seq\":1,\"id\":\"a\"}\n", StandardCharsets.UTF_8);
    Path active = dir.resolve(AuditWriter.FILE);
    Thread sealer =
        new Thread(
            () -> {
              try {
                Thread.sleep(150);
                // the next file appears with its record in it (written aside, then renamed in):
                // Files.writeString creates the file before it writes, and a reader that opened
                // it in between saw it empty (CI, once); that case is the test below
                Path aside = dir.resolve("next.tmp");
                java.nio.file.Files.writeString(
                    aside, "{\"seq\":2,\"id\":\"b\"}\n", StandardCharsets.UTF_8);
                java.nio.file.Files.move(
                    aside, active, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    sealer.start();
    try (AuditReader r = AuditReader.open(dir)) {
      assertThat(seqs(r.newest(10))).containsExactly(1L, 2L);
    } finally {
      sealer.join();
    }
  }

  @Test
  void aRecordWrittenAfterTheNextFileAppearsIsFollowedNotLost() throws Exception {
    // the writer's own order: the next audit.jsonl is created, then records go into it; a reader
    // that opens it in between lists the sealed records and follows the new ones from the start
    java.nio.file.Files.writeString(
        dir.resolve(AuditSegments.name(1)), "{\"seq\":1,\"id\":\"a\"}\n", StandardCharsets.UTF_8);
    Path active = dir.resolve(AuditWriter.FILE);
    java.nio.file.Files.createFile(active);
    try (AuditReader r = AuditReader.open(dir)) {
      assertThat(seqs(r.newest(10))).containsExactly(1L);
      append(active, 2, "b");
      assertThat(seqs(r.poll())).containsExactly(2L);
    }
  }

  @Test
  void aLogThatIsNotThereIsReportedAtOnce() {
    // why: with no segments either, nothing is being sealed: there is no log to wait for
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> AuditReader.open(dir))
        .isInstanceOf(java.io.FileNotFoundException.class);
  }

  @Test
  void newestDoesNotReadTheFileItHoldsTwiceWhenItWasSealedMeanwhile() throws Exception {
    // why: audit tail -f printed a record twice when the log was sealed between the reader opening
    // audit.jsonl and reading the newest records: the newest segment is then that same file
    java.nio.file.Files.writeString(
        dir.resolve(AuditSegments.name(1)), "{\"seq\":1,\"id\":\"a\"}\n", StandardCharsets.UTF_8);
    Path active = dir.resolve(AuditWriter.FILE);
    java.nio.file.Files.writeString(active, "{\"seq\":2,\"id\":\"b\"}\n", StandardCharsets.UTF_8);
    try (AuditReader r = AuditReader.open(dir)) {
      // sealed after the open, as the writer does: renamed, then a new empty audit.jsonl
      java.nio.file.Files.move(active, dir.resolve(AuditSegments.name(2)));
      java.nio.file.Files.writeString(active, "", StandardCharsets.UTF_8);
      assertThat(seqs(r.newest(100))).containsExactly(1L, 2L);
      r.follow();
      append(active, 3, "c");
      assertThat(seqs(r.poll())).containsExactly(3L);
    }
  }
}

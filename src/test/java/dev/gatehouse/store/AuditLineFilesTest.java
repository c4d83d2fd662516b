package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.audit.AuditSegments;
import dev.gatehouse.audit.AuditWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a record's line from the audit files by its seq and byte offset. */
class AuditLineFilesTest {

  @TempDir Path dir;

  private static String line(long seq, String pad) {
    return "{\"seq\":" + seq + ",\"pad\":\"" + pad + "\"}";
  }

  /** Appends the lines to {@code file}; returns each one's offset. */
  private static long[] append(Path file, String... lines) throws Exception {
    long[] at = new long[lines.length];
    long size = Files.exists(file) ? Files.size(file) : 0;
    for (int i = 0; i < lines.length; i++) {
      at[i] = size;
      byte[] b = (lines[i] + "\n").getBytes(StandardCharsets.UTF_8);
      Files.write(file, b, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      size += b.length;
    }
    return at;
  }

  @Test
  void theNamesAreTheWritersNames() {
    assertThat(AuditLineFiles.ACTIVE).isEqualTo(AuditWriter.FILE);
    assertThat(AuditLineFiles.sealedName(42)).isEqualTo(AuditSegments.name(42));
    assertThat(AuditLineFiles.sealedFirstSeq(AuditSegments.name(42))).isEqualTo(42);
    assertThat(AuditLineFiles.sealedFirstSeq("audit.jsonl")).isEqualTo(-1);
  }

  @Test
  void linesLongerThanAReadAndOfSeveralBytesACharacterAreReadWhole() throws Exception {
    String longPad = "\u00e9\u20ac".repeat(70_000); // 350,000 bytes: several reads, grown
    Path active = dir.resolve(AuditLineFiles.ACTIVE);
    long[] at = append(active, line(1, "a"), line(2, longPad), line(3, "\u00e9"), line(4, "b"));
    try (AuditLineFiles files = new AuditLineFiles(dir)) {
      assertThat(files.line(2, at[1])).isEqualTo(line(2, longPad));
      assertThat(files.line(4, at[3])).isEqualTo(line(4, "b"));
      assertThat(files.line(1, at[0])).isEqualTo(line(1, "a")); // backwards: read again
      assertThat(files.line(3, at[2])).isEqualTo(line(3, "\u00e9"));
    }
  }

  @Test
  void anOffsetThatIsNotTheRecordsLineGivesNone() throws Exception {
    Path active = dir.resolve(AuditLineFiles.ACTIVE);
    long[] at = append(active, line(1, "a"), line(2, "b"));
    Files.write(
        active, "{\"seq\":3,\"torn".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
    try (AuditLineFiles files = new AuditLineFiles(dir)) {
      assertThat(files.line(2, at[0])).as("another record's line").isNull();
      assertThat(files.line(2, at[1] + 1)).as("the middle of a line").isNull();
      assertThat(files.line(3, at[1] + line(2, "b").length() + 1)).as("no newline").isNull();
      assertThat(files.line(2, Files.size(active) + 10)).as("past the end").isNull();
      assertThat(files.line(2, -1)).isNull();
      assertThat(files.line(2, at[1])).isEqualTo(line(2, "b"));
    }
  }

  @Test
  void aLineIsFoundInItsSegmentAfterTheActiveFileWasSealedUnderTheReader() throws Exception {
    Path active = dir.resolve(AuditLineFiles.ACTIVE);
    long[] first = append(dir.resolve(AuditLineFiles.sealedName(1)), line(1, "a"), line(2, "b"));
    long[] second = append(active, line(3, "c"), line(4, "d"));
    try (AuditLineFiles files = new AuditLineFiles(dir)) {
      assertThat(files.line(3, second[0])).isEqualTo(line(3, "c")); // lists and opens the active
      assertThat(files.line(1, first[0])).isEqualTo(line(1, "a"));
      assertThat(files.line(3, second[0])).isEqualTo(line(3, "c"));
      // sealed now, as the writer does: renamed, and a new active file started
      Files.move(active, dir.resolve(AuditLineFiles.sealedName(3)));
      long[] third = append(active, line(5, "eeeeeeeeeeeee"));
      assertThat(files.line(4, second[1])).isEqualTo(line(4, "d"));
      assertThat(files.line(5, third[0])).isEqualTo(line(5, "eeeeeeeeeeeee"));
      assertThat(files.line(2, first[1])).isEqualTo(line(2, "b"));
    }
  }

  @Test
  void aWalkInTheLogsOrderOpensEachFileOnce() throws Exception {
    // A record of the newest segment is told from one of the active file by the active file's
    // first seq, not by trying both: a walk over the log (audit verify) reads each file in turn.
    long[][] at = new long[3][];
    for (int f = 0; f < 3; f++) {
      String[] lines = new String[50];
      for (int i = 0; i < 50; i++) {
        lines[i] = line(f * 50L + i + 1, "x".repeat(i));
      }
      Path p =
          f < 2
              ? dir.resolve(AuditLineFiles.sealedName(f * 50L + 1))
              : dir.resolve(AuditLineFiles.ACTIVE);
      at[f] = append(p, lines);
    }
    try (AuditLineFiles files = new AuditLineFiles(dir)) {
      for (int f = 0; f < 3; f++) {
        for (int i = 0; i < 50; i++) {
          long seq = f * 50L + i + 1;
          assertThat(files.line(seq, at[f][i])).isEqualTo(line(seq, "x".repeat(i)));
        }
      }
      assertThat(files.opened()).isEqualTo(3);
    }
  }

  @Test
  void aFileThatIsThereButCannotBeReadIsAnErrorNotAnEmptyAnswer() throws Exception {
    Files.createDirectories(dir.resolve(AuditLineFiles.ACTIVE)); // opens, but reads fail
    try (AuditLineFiles files = new AuditLineFiles(dir)) {
      assertThatThrownBy(() -> files.line(1, 0))
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("cannot read the audit log's files");
    }
  }

  @Test
  void noFilesGiveNone() {
    try (AuditLineFiles files = new AuditLineFiles(dir.resolve("absent"))) {
      assertThat(files.line(1, 0)).isNull();
    }
  }
}

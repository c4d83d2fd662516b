package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.AuditStore;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * The writer's encoder writes the log format byte for byte: the lines and hashes of a golden file
 * written before it existed, and the same bytes as the one-off forms the verifier checks with.
 */
class AuditLinesTest {

  /** Escapes, non-ASCII text, nulls, guard fields and large numbers: each part of the format. */
  static final List<AuditRecord> RECORDS =
      List.of(
          new AuditRecord(
              "2026-11-22T10:00:00.000Z",
              "r-1",
              "2001:db8::1",
              null,
              "naïve \"key\" ✓",
              "POST",
              "/api/chat",
              "inference",
              "llama3.2:3b",
              200,
              "allow",
              "ok",
              10,
              20,
              -1,
              5,
              100,
              200,
              300,
              "ua/1 \u0001 \uD83D\uDE00 </tag>",
              false,
              "e3b0c442",
              "a prompt with\nnewlines\t\\"),
          new AuditRecord(
              "2026-11-22T10:00:00.001Z",
              "r-2",
              "10.0.0.1",
              "k1",
              "ci",
              "GET",
              null,
              null,
              null,
              401,
              "deny",
              "auth.key_invalid",
              0,
              0,
              -1,
              -1,
              0,
              0,
              12,
              null,
              true,
              null,
              null,
              "flag",
              0.625,
              "injection,jailbreak",
              "aws:1",
              null),
          new AuditRecord(
              "2026-11-22T10:00:01.999Z",
              "r-3",
              "127.0.0.1",
              "k1",
              "ci",
              "POST",
              "/v1/chat/completions",
              "inference",
              "m",
              200,
              "allow",
              "ok",
              Long.MAX_VALUE,
              1L << 40,
              3,
              4,
              5,
              6,
              7,
              "x",
              false,
              null,
              null,
              "pass",
              1.0E-7,
              null,
              null,
              null));

  /** The three records chained from the genesis by the writer before this encoder. */
  static byte[] golden() throws Exception {
    try (InputStream in =
        Objects.requireNonNull(AuditLinesTest.class.getResourceAsStream("golden-chain.jsonl"))) {
      return in.readAllBytes();
    }
  }

  static byte[] written(AuditLines lines) {
    return Arrays.copyOf(lines.bytes(), lines.length());
  }

  @Test
  void writesTheGoldenLinesAndMovesTheHeadOn() throws Exception {
    AuditLines lines = new AuditLines();
    ChainHead head = new ChainHead();
    List<AuditStore.AuditRow> rows = new ArrayList<>();
    lines.chain(RECORDS, head, rows, -1);

    byte[] golden = golden();
    assertThat(written(lines)).isEqualTo(golden);
    String[] goldenLines = new String(golden, StandardCharsets.UTF_8).split("\n");
    assertThat(rows).extracting(AuditStore.AuditRow::line).containsExactly(goldenLines);
    assertThat(rows).extracting(AuditStore.AuditRow::seq).containsExactly(1L, 2L, 3L);
    assertThat(rows.get(1).keyId()).isEqualTo("k1");
    assertThat(rows.get(1).reason()).isEqualTo("auth.key_invalid");
    assertThat(head.seq).isEqualTo(3);
    assertThat(head.hash)
        .isEqualTo(goldenLines[2].replaceAll(".*\"hash\":\"([0-9a-f]{64})\"}$", "$1"));
  }

  @Test
  void batchesOfAnySizeWriteTheSameLog() throws Exception {
    AuditLines lines = new AuditLines();
    ChainHead head = new ChainHead();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    lines.chain(RECORDS.subList(0, 1), head, new ArrayList<>(), -1);
    log.writeBytes(written(lines));
    lines.chain(List.of(), head, new ArrayList<>(), -1); // an empty batch writes nothing
    assertThat(lines.length()).isZero();
    lines.chain(RECORDS.subList(1, 3), head, new ArrayList<>(), -1);
    log.writeBytes(written(lines));
    assertThat(log.toByteArray()).isEqualTo(golden());
  }

  @Test
  void equalsTheOneOffFormsTheVerifierUses() throws Exception {
    AuditLines lines = new AuditLines();
    // A head read from a damaged file may carry any text: it is chained to as it is.
    for (String start : List.of(AuditChain.GENESIS, "", "not \"hex\" é")) {
      ChainHead head = new ChainHead();
      head.seq = 41;
      head.hash = start;
      List<AuditStore.AuditRow> rows = new ArrayList<>();
      lines.chain(RECORDS, head, rows, -1);

      StringBuilder expected = new StringBuilder();
      String prev = start;
      long seq = 41;
      for (AuditRecord r : RECORDS) {
        byte[] canonical = r.canonicalJson(++seq, prev);
        prev = AuditChain.hash(prev, canonical);
        expected.append(AuditChain.line(canonical, prev)).append('\n');
      }
      assertThat(new String(written(lines), StandardCharsets.UTF_8)).isEqualTo(expected.toString());
      assertThat(head.seq).isEqualTo(44);
      assertThat(head.hash).isEqualTo(prev);
    }
  }
}

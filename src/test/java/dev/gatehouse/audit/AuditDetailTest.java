package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.audit.AuditVerifier.Result;
import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.SqliteStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A refusal's {@code detail} (issue 14): written only when present, after {@code reason}; cleaned
 * of control characters and credential-shaped text and bounded; chained and verified like every
 * other field, in a log that mixes records with and without it.
 */
class AuditDetailTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  static AuditRecord refusal(String id, @Nullable String detail) {
    return new AuditRecord(
        "2026-11-22T00:00:00.000Z",
        id,
        "127.0.0.1",
        null,
        null,
        "POST",
        "/api/chat",
        "inference",
        "llama3.2:3b",
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
        "test/1",
        false,
        null,
        null,
        null,
        0,
        null,
        null,
        detail);
  }

  @Test
  void writtenAfterTheReasonOnlyWhenPresent() throws Exception {
    String with = new String(refusal("r1", "JWT: Expired JWT").canonicalJson(1, "p"), "UTF-8");
    assertThat(with).contains("\"reason\":\"auth.key_invalid\",\"detail\":\"JWT: Expired JWT\",");
    String without = new String(refusal("r1", null).canonicalJson(1, "p"), "UTF-8");
    assertThat(without).doesNotContain("detail");
    // the older constructors make records without it: their bytes are unchanged
    assertThat(AuditLinesTest.RECORDS)
        .allSatisfy(r -> assertThat(r.detail()).isNull())
        .allSatisfy(
            r -> assertThat(new String(r.canonicalJson(1, "p"), "UTF-8")).doesNotContain("detail"));
  }

  @Test
  void cleanedOfControlCharactersAndSecretsAndBounded() {
    assertThat(AuditRecord.cleanDetail(null)).isNull();
    assertThat(AuditRecord.cleanDetail(" \n\u0000 ")).isNull();
    assertThat(AuditRecord.cleanDetail("a\nb\rc\u0000d\u001be\u2028f\u202eg"))
        .isEqualTo("a b c d e f g");
    String key = "gk_abcdefghijkl_" + "S3cret".repeat(7);
    assertThat(AuditRecord.cleanDetail("wrong " + key)).doesNotContain("S3cret");
    String jwt =
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMDAwMH0."
            + "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl";
    assertThat(AuditRecord.cleanDetail("malformed JWT: " + jwt))
        .doesNotContain("c2lnbmF0dXJl")
        .doesNotContain("eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMDAwMH0");
    assertThat(AuditRecord.cleanDetail("token eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. refused"))
        .isEqualTo("token [REDACTED:jwt] refused");
    assertThat(AuditRecord.cleanDetail("Bearer abcdefgh.ijkl")).doesNotContain("abcdefgh");
    assertThat(AuditRecord.cleanDetail("x ".repeat(10_000))).hasSize(AuditRecord.MAX_DETAIL);
    // a surrogate pair is not cut in two
    String pad = "a ".repeat(AuditRecord.MAX_DETAIL / 2).substring(0, AuditRecord.MAX_DETAIL - 1);
    assertThat(AuditRecord.cleanDetail(pad + "\uD83D\uDE00")).isEqualTo(pad);
    assertThat(AuditRecord.cleanDetail("cut \uD83D")).isEqualTo("cut ?");
    assertThat(AuditRecord.cleanDetail("cut \uDE00 x")).isEqualTo("cut ? x");
    // what the identifier writes is kept as it is
    assertThat(AuditRecord.cleanDetail("unknown key id abcdefghijkl"))
        .isEqualTo("unknown key id abcdefghijkl");
    assertThat(refusal("r", "a\u0000b").detail()).isEqualTo("a b");
  }

  @Test
  void theWriterChainsItAsTheVerifierChecksIt() throws Exception {
    List<AuditRecord> records =
        List.of(
            refusal("r1", null),
            refusal("r2", "JWT: JWT iss claim has value \"é\\\", must be x"),
            refusal("r3", null));
    AuditLines lines = new AuditLines();
    ChainHead head = new ChainHead();
    List<AuditStore.AuditRow> rows = new ArrayList<>();
    lines.chain(records, head, rows, -1);
    String prev = AuditChain.GENESIS;
    for (AuditStore.AuditRow row : rows) {
      JsonNode n = JSON.readTree(row.line());
      assertThat(n.path("hash").asText()).isEqualTo(AuditChain.hash(prev, n));
      prev = n.path("hash").asText();
    }
    assertThat(JSON.readTree(rows.get(1).line()).path("detail").asText())
        .isEqualTo("JWT: JWT iss claim has value \"é\\\", must be x");
  }

  @Test
  void aLogWithAndWithoutDetailsVerifiesInBothCopies(@TempDir Path dir) throws Exception {
    try (SqliteStore store = SqliteStore.open(dir);
        AuditWriter w =
            AuditWriter.open(dir, store, dir.resolve("audit-hmac.key"), 2, Duration.ofHours(1))) {
      for (int i = 1; i <= 5; i++) {
        w.append(refusal("req" + i, i % 2 == 0 ? "unknown key id abcdefghijk" + i : null)).join();
      }
    }
    byte[] key = AuditKey.load(dir.resolve("audit-hmac.key"));
    Path checkpoints = dir.resolve(AuditWriter.CHECKPOINTS);
    Result f = AuditVerifier.verifyLog(dir, checkpoints, key);
    assertThat(f.ok()).as(f.describe()).isTrue();
    assertThat(f.records()).isEqualTo(5);
    try (SqliteStore store = SqliteStore.open(dir)) {
      Result d = AuditVerifier.verifyStore(store, checkpoints, key);
      assertThat(d.ok()).as(d.describe()).isTrue();
    }
    List<String> log = Files.readAllLines(dir.resolve(AuditWriter.FILE), StandardCharsets.UTF_8);
    assertThat(log).filteredOn(l -> l.contains("\"detail\":")).hasSize(2);
  }
}

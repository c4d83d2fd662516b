package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.audit.AuditSegments;
import dev.gatehouse.testing.GatewayFixture;
import dev.gatehouse.testing.PrunedAuditLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuditCommandTest {

  @Test
  void verifyExitsZeroOnAnIntactLogOneOnATamperedOneTwoOnErrors() throws Exception {
    // why: scripts and cron jobs act on the exit status; the output names the first bad record
    Path dir = Files.createTempDirectory("gh-audit-cli");
    try (GatewayFixture gw = GatewayFixture.start(Map.of(), dir, null, null)) {
      String key = gw.newKey();
      for (int i = 0; i < 5; i++) {
        gw.post("/api/chat", key, "{\"model\":\"llama3.2:3b\",\"stream\":false,\"messages\":[]}");
        gw.get("/api/tags", null);
      }
    }
    Map<String, String> env = Map.of("GATEHOUSE_HOME", dir.toString());
    CliRun ok = CliRun.run(env, "audit", "verify");
    assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
    assertThat(ok.out())
        .contains(
            "audit.jsonl: OK: 10 records (seq 1-10), chain intact; 1 signed checkpoints, last at seq 10")
        .contains("database: OK: 10 records");

    Path file = dir.resolve("audit.jsonl");
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    lines.set(3, lines.get(3).replace("\"status\":401", "\"status\":200"));
    Files.write(file, lines, StandardCharsets.UTF_8);
    CliRun bad = CliRun.run(env, "audit", "verify", "--jsonl", file.toString());
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.out())
        .contains("TAMPERED: record seq 4 was changed (line 4); 6 records follow it");
    // The database's rows point at their lines in the files (they keep no copy of them): the
    // database copy reads the changed line, and says so too.
    CliRun db = CliRun.run(env, "audit", "verify", "--db");
    assertThat(db.code()).as(db.out()).isEqualTo(1);
    assertThat(db.out()).contains("TAMPERED").contains("seq 4");

    assertThat(
            CliRun.run(env, "audit", "verify", "--jsonl", dir.resolve("missing.jsonl").toString())
                .code())
        .isEqualTo(2);
    assertThat(
            CliRun.run(
                    Map.of(
                        "GATEHOUSE_HOME",
                        dir.toString(),
                        "GATEHOUSE_AUDIT_HMAC_KEY_FILE",
                        dir.resolve("nokey").toString()),
                    "audit",
                    "verify")
                .code())
        .isEqualTo(2);
  }

  @Test
  void verifyChecksEverySegmentAndAcceptsWhatRetentionPrunedUnderASignedAnchor() throws Exception {
    // why: after pruning, the default check must still pass, and still catch a deleted head
    Path dir = Files.createTempDirectory("gh-audit-pruned");
    PrunedAuditLog.write(dir);
    Map<String, String> env = Map.of("GATEHOUSE_HOME", dir.toString());
    CliRun ok = CliRun.run(env, "audit", "verify");
    assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
    assertThat(ok.out())
        .contains(
            "audit.jsonl and 11 sealed segments: OK: 11 records (seq 11-21), chain intact; "
                + "seq 1-10 pruned by retention (signed anchor); 3 signed checkpoints, last at seq 21")
        .contains("database: OK: 11 records (seq 11-21)");

    Path segment = dir.resolve(AuditSegments.name(13));
    CliRun alone = CliRun.run(env, "audit", "verify", "--jsonl", segment.toString());
    assertThat(alone.code()).as(alone.out() + alone.err()).isZero();
    assertThat(alone.out())
        .contains(segment + ": OK: 1 records (seq 13-13)")
        .contains("this file alone");

    Files.delete(dir.resolve(AuditSegments.name(11)));
    CliRun bad = CliRun.run(env, "audit", "verify");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.out())
        .contains(
            "TAMPERED: record seq 11 was deleted ("
                + AuditSegments.name(12)
                + " line 1); 10 records follow it");
  }
}

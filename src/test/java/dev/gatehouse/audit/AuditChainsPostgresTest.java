package dev.gatehouse.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.gatehouse.audit.AuditVerifier.Kind;
import dev.gatehouse.audit.AuditVerifier.Result;
import dev.gatehouse.config.GatehouseConfig.AuditRetention;
import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.PostgresAuditStore;
import dev.gatehouse.store.StoreException;
import dev.gatehouse.testing.PostgresServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several gateways writing their audit logs into one PostgreSQL database: each appends its own
 * chain under its instance id, with its signed checkpoints copied beside it, and verify checks
 * every chain from any machine and names the instance of what was deleted or changed. A real
 * PostgreSQL server; a new database per test.
 */
class AuditChainsPostgresTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PER_WRITER = 120;
  private static PostgresServer pg;

  @TempDir Path tmp;
  private HikariDataSource pool;
  private Path keyFile;

  @BeforeAll
  static void startServer() throws Exception {
    pg = PostgresServer.start();
  }

  @AfterAll
  static void stopServer() throws Exception {
    pg.close();
  }

  @BeforeEach
  void database() throws Exception {
    String url = pg.newDatabase();
    Flyway.configure()
        .dataSource(url, PostgresServer.USER, PostgresServer.PASSWORD)
        .locations("classpath:db/postgres")
        .load()
        .migrate();
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(url);
    c.setUsername(PostgresServer.USER);
    c.setPassword(PostgresServer.PASSWORD);
    c.setMaximumPoolSize(6);
    pool = new HikariDataSource(c);
    // One key for every instance: verify on any machine checks every chain's checkpoints with it.
    keyFile = tmp.resolve("shared-audit-hmac.key");
  }

  @AfterEach
  void closePool() {
    releaseChains();
    pool.close();
  }

  private final List<PostgresAuditStore> stores = new ArrayList<>();

  private PostgresAuditStore store(String instance) {
    PostgresAuditStore s = new PostgresAuditStore(pool, instance);
    stores.add(s);
    return s;
  }

  /** What a gateway's exit does: its stores let go of their chains. */
  private void releaseChains() {
    stores.forEach(PostgresAuditStore::close);
    stores.clear();
  }

  private AuditWriter open(String instance, int checkpointEvery) throws Exception {
    return AuditWriter.open(
        tmp.resolve(instance), store(instance), keyFile, checkpointEvery, Duration.ofHours(1));
  }

  /** Writes {@link #PER_WRITER} records through two writers at once, gw-a and gw-b. */
  private void writeTwoChains() throws Exception {
    try (AuditWriter a = open("gw-a", 10);
        AuditWriter b = open("gw-b", 10)) {
      ExecutorService threads = Executors.newFixedThreadPool(2);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (AuditWriter w : List.of(a, b)) {
          done.add(
              threads.submit(
                  () -> {
                    List<CompletableFuture<Void>> acks = new ArrayList<>();
                    for (int i = 0; i < PER_WRITER; i++) {
                      acks.add(w.append(AuditWriterTest.record("r" + i)));
                      if (acks.size() == 7) { // in rounds, so that checkpoints fall in between
                        acks.forEach(CompletableFuture::join);
                        acks.clear();
                      }
                    }
                    acks.forEach(CompletableFuture::join);
                  }));
        }
        for (Future<?> f : done) {
          f.get();
        }
      } finally {
        threads.shutdown();
      }
    }
    releaseChains();
  }

  /** Verify as a machine that wrote neither chain: only the checkpoints in the database. */
  private List<Result> verifyElsewhere() throws Exception {
    return AuditVerifier.verifyChains(
        store("gw-elsewhere"), tmp.resolve("no-checkpoints.jsonl"), AuditKey.load(keyFile));
  }

  private Result verifyFrom(String instance) throws Exception {
    return AuditVerifier.verifyStore(
        store(instance),
        tmp.resolve(instance).resolve(AuditWriter.CHECKPOINTS),
        AuditKey.load(keyFile));
  }

  private void sql(String statement, Object... args) throws Exception {
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement(statement)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      ps.executeUpdate();
    }
  }

  private long count(String query, Object... args) throws Exception {
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement(query)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private String line(String instance, long seq) throws Exception {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT line FROM audit_log WHERE instance = ? AND seq = ?")) {
      ps.setString(1, instance);
      ps.setLong(2, seq);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  @Test
  void twoWritersAtOnceKeepTwoChainsThatEachVerifyWithTheirOwnCheckpoints() throws Exception {
    // why: the rule: several writers, each its own chain and checkpoints, and verify run
    // anywhere checks every chain
    writeTwoChains();
    List<Result> chains = verifyElsewhere();
    assertThat(chains).extracting(Result::instance).containsExactly("gw-a", "gw-b");
    for (Result r : chains) {
      assertThat(r.ok()).as(r.describe()).isTrue();
      assertThat(r.records()).isEqualTo(PER_WRITER);
      assertThat(r.lastSeq()).isEqualTo(PER_WRITER);
      // the checkpoints came from the database: this machine has no checkpoint file
      assertThat(r.lastCheckpointSeq()).isEqualTo(PER_WRITER);
      assertThat(r.checkpoints()).isGreaterThan(1);
    }
    assertThat(chains.get(1).describe())
        .startsWith("instance gw-b: OK: " + PER_WRITER + " records (seq 1-" + PER_WRITER + ")");
    // From each writer's machine as well (its file and the database copy of its checkpoints).
    assertThat(verifyFrom("gw-a").ok()).isTrue();
    assertThat(verifyFrom("gw-b").ok()).isTrue();
    // The database keeps exactly the lines of each writer's checkpoint file, each once.
    for (String id : List.of("gw-a", "gw-b")) {
      assertThat(store(id).checkpoints())
          .containsExactlyInAnyOrderElementsOf(
              Files.readAllLines(
                  tmp.resolve(id).resolve(AuditWriter.CHECKPOINTS), StandardCharsets.UTF_8));
    }
    // Queries span both chains; the writing side sees only its own.
    assertThat(
            store("gw-a")
                .queryAudit(new AuditStore.AuditQuery(null, null, null, null, null, null, 1000)))
        .hasSize(2 * PER_WRITER);
    assertThat(store("gw-a").lastAuditSeq()).isEqualTo(PER_WRITER);
    assertThat(store("gw-new").lastAuditSeq()).isZero();
  }

  @Test
  void aRowDeletedFromOneInstanceIsReportedForThatInstanceAndTheOtherStaysClean() throws Exception {
    // why: a missing record must be named with its chain, or one instance's tampering would read
    // as every instance's
    writeTwoChains();
    sql("DELETE FROM audit_log WHERE instance = 'gw-b' AND seq = 37");
    List<Result> chains = verifyElsewhere();
    assertThat(chains.get(0).ok()).as(chains.get(0).describe()).isTrue();
    Result b = chains.get(1);
    assertThat(b.ok()).isFalse();
    assertThat(b.instance()).isEqualTo("gw-b");
    assertThat(b.kind()).isEqualTo(Kind.DELETED);
    assertThat(b.badSeq()).isEqualTo(37);
    assertThat(b.describe()).startsWith("instance gw-b: TAMPERED: record seq 37 was deleted");
    // verifyStore answers with the chain that failed, from either machine
    assertThat(verifyFrom("gw-a").instance()).isEqualTo("gw-b");
    assertThat(verifyFrom("gw-a").badSeq()).isEqualTo(37);
  }

  @Test
  void anAlteredRowIsCaughtWhetherItsLineOrOnlyAnIndexedColumnChanged() throws Exception {
    writeTwoChains();
    String l = line("gw-a", 5);
    sql(
        "UPDATE audit_log SET line = ? WHERE instance = 'gw-a' AND seq = 5",
        l.replace("\"status\":200", "\"status\":403"));
    Result a = verifyElsewhere().get(0);
    assertThat(a.instance()).isEqualTo("gw-a");
    assertThat(a.kind()).isEqualTo(Kind.CHANGED);
    assertThat(a.badSeq()).isEqualTo(5);
    assertThat(verifyElsewhere().get(1).ok()).isTrue();

    sql("UPDATE audit_log SET line = ? WHERE instance = 'gw-a' AND seq = 5", l); // restored
    // why: the queries read the columns, not the line; a changed column must not pass unseen
    sql("UPDATE audit_log SET status = 200, reason = 'ok' WHERE instance = 'gw-b' AND seq = 9");
    sql("UPDATE audit_log SET key_id = 'someone-else' WHERE instance = 'gw-b' AND seq = 11");
    Result b = verifyElsewhere().get(1);
    assertThat(b.ok()).isFalse();
    assertThat(b.describe())
        .startsWith("instance gw-b: TAMPERED: record seq 11 was changed")
        .contains("indexed columns");
  }

  @Test
  void aChainRewrittenWithRecomputedHashesIsCaughtByItsCheckpointsInTheDatabase() throws Exception {
    // why: the hash chain alone is keyless; only the signed checkpoints catch a consistent
    // rewrite, and a machine that did not write the chain has only the database's copy of them
    writeTwoChains();
    String prev = JSON.readTree(line("gw-b", 49)).path("hash").asText();
    for (long seq = 50; seq <= PER_WRITER; seq++) {
      ObjectNode n = (ObjectNode) JSON.readTree(line("gw-b", seq));
      if (seq == 50) {
        n.put("ip", "203.0.113.9");
      }
      n.put("prev", prev);
      n.remove("hash");
      String hash = AuditChain.hash(prev, n);
      n.put("hash", hash);
      prev = hash;
      sql(
          "UPDATE audit_log SET line = ?, ip = ? WHERE instance = 'gw-b' AND seq = ?",
          JSON.writeValueAsString(n),
          n.path("ip").asText(),
          seq);
    }
    Result b = verifyElsewhere().get(1);
    assertThat(b.ok()).isFalse();
    assertThat(b.instance()).isEqualTo("gw-b");
    assertThat(b.describe()).contains("The chain was rewritten");
    assertThat(verifyElsewhere().get(0).ok()).isTrue();
  }

  @Test
  void aChainWhoseRowsAreAllGoneOrWhoseCheckpointIsForgedIsReported() throws Exception {
    writeTwoChains();
    // why: deleting an instance's every row must not make its chain vanish from the report
    sql("DELETE FROM audit_log WHERE instance = 'gw-b'");
    Result b = verifyElsewhere().get(1);
    assertThat(b.instance()).isEqualTo("gw-b");
    assertThat(b.kind()).isEqualTo(Kind.DELETED);
    assertThat(b.describe()).contains("records were cut off the end");
    // A checkpoint whose HMAC does not check (forged, or signed with another key).
    long first = count("SELECT MIN(seq) FROM audit_checkpoints WHERE instance = 'gw-a'");
    sql(
        "UPDATE audit_checkpoints SET line = replace(line, '\"hmac\":\"', '\"hmac\":\"00')"
            + " WHERE instance = 'gw-a' AND seq = ?",
        first);
    Result a = verifyElsewhere().get(0);
    assertThat(a.kind()).isEqualTo(Kind.CHECKPOINT_FORGED);
    assertThat(a.describe()).startsWith("instance gw-a: TAMPERED: record seq " + first + " ");
  }

  @Test
  void aSecondProcessUnderAnInstanceIdInUseIsRefusedItsWritesNotMerged() throws Exception {
    // why: two writers under one name would interleave two chains into one that never verifies;
    // the second must fail loudly (its database copy falls behind and it stops serving)
    PostgresAuditStore first = store("gw-a");
    PostgresAuditStore second = store("gw-a");
    AuditStore.AuditRow row =
        new AuditStore.AuditRow(1, "2026-01-01T00:00:00.000Z", "r", "ip", null, 200, "ok", "{}");
    first.appendAudit(List.of(row));
    assertThatThrownBy(() -> second.appendAudit(List.of(row)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("another process is writing the audit chain of instance gw-a");
    assertThatThrownBy(() -> second.appendCheckpoint(1, false, "{}"))
        .isInstanceOf(StoreException.class);
    assertThat(second.lastAuditSeq()).as("reading needs no lock").isEqualTo(1);
    first.close(); // the first gateway stops: the name is free again
    second.appendAudit(
        List.of(
            new AuditStore.AuditRow(
                2, "2026-01-01T00:00:01.000Z", "r2", "ip", null, 200, "ok", "{}")));
    assertThat(first.lastAuditSeq()).isEqualTo(2);
  }

  @Test
  void checkpointsTheDatabaseLostAreCopiedAgainFromTheFileOnTheNextStart() throws Exception {
    // why: a checkpoint signed while the database was away must still reach it, or verify on
    // another machine would check less than the writer signed
    writeTwoChains();
    sql("DELETE FROM audit_checkpoints WHERE instance = 'gw-a' AND seq > 50");
    try (AuditWriter a = open("gw-a", 10)) {
      a.append(AuditWriterTest.record("after-restart")).join();
    }
    releaseChains();
    assertThat(store("gw-a").checkpoints())
        .containsExactlyInAnyOrderElementsOf(
            Files.readAllLines(
                tmp.resolve("gw-a").resolve(AuditWriter.CHECKPOINTS), StandardCharsets.UTF_8));
    Result a = verifyElsewhere().get(0);
    assertThat(a.ok()).as(a.describe()).isTrue();
    assertThat(a.lastCheckpointSeq()).isEqualTo(PER_WRITER + 1);
  }

  @Test
  void retentionCopiesItsSignedAnchorBeforeDeletingRowsSoVerifyElsewhereAcceptsThePruning()
      throws Exception {
    // why: a chain that starts after seq 1 is tampering unless a signed anchor says it was pruned;
    // a machine that did not write the chain finds that anchor only in the database
    Path dir = tmp.resolve("gw-r");
    try (AuditWriter w =
        AuditWriter.open(
            dir,
            store("gw-r"),
            keyFile,
            5,
            Duration.ofHours(1),
            new AuditRetention(2048, Duration.ZERO, 4096),
            Clock.systemUTC())) {
      for (int i = 0; i < 60; i++) {
        w.append(AuditWriterTest.record("p" + i)).join();
      }
    }
    releaseChains();
    assertThat(count("SELECT COUNT(*) FROM audit_checkpoints WHERE anchor")).isPositive();
    assertThat(count("SELECT MIN(seq) FROM audit_log WHERE instance = 'gw-r'")).isGreaterThan(1);
    Result r = verifyElsewhere().getFirst();
    assertThat(r.instance()).isEqualTo("gw-r");
    assertThat(r.ok()).as(r.describe()).isTrue();
    assertThat(r.prunedThrough()).isPositive();
    assertThat(r.lastSeq()).isEqualTo(60);
  }
}

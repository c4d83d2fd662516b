package dev.gatehouse.store.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.AuditStore.AuditQuery;
import dev.gatehouse.store.AuditStore.AuditRow;
import dev.gatehouse.store.AuditStore.AuditSummary;
import dev.gatehouse.store.AuditStore.KeyAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What every {@link AuditStore} must do, whatever it is backed by: rows come back exactly as
 * appended (the line is what the hash chain covers), in order, filtered and totalled, and are
 * removed only from the oldest end.
 */
public abstract class AuditStoreContract extends StoreContract<AuditStore> {

  private static AuditRow row(
      long seq,
      String time,
      String ip,
      String key,
      int status,
      String reason,
      String model,
      long in,
      long out) {
    String line =
        "{\"seq\":"
            + seq
            + ",\"time\":\""
            + time
            + "\",\"ip\":\""
            + ip
            + "\",\"key\":"
            + (key == null ? "null" : "\"" + key + "\"")
            + ",\"status\":"
            + status
            + ",\"reason\":\""
            + reason
            + "\""
            + (model == null ? "" : ",\"model\":\"" + model + "\"")
            + ",\"tokens_in\":"
            + in
            + ",\"tokens_out\":"
            + out
            + ",\"hash\":\"h"
            + seq
            + "\"}";
    return new AuditRow(seq, time, "req-" + seq, ip, key, status, reason, line);
  }

  private List<AuditRow> sample() {
    return List.of(
        row(1, "2026-01-01T10:00:00.000Z", "10.0.0.1", "k1", 200, "ok", "tiny:latest", 10, 20),
        row(
            2,
            "2026-01-01T11:00:00.000Z",
            "10.0.0.2",
            "k1",
            403,
            "policy.model_denied",
            "big:latest",
            0,
            0),
        row(3, "2026-01-01T12:00:00.000Z", "10.0.0.1", null, 401, "auth.key_invalid", null, 0, 0),
        row(4, "2026-01-02T09:00:00.000Z", "10.0.0.3", "k2", 200, "ok", "tiny:latest", 5, 7));
  }

  @Test
  void rowsComeBackByteForByteInTheOrderAppended() {
    // why: the verifier recomputes the chain from the stored lines; one changed byte breaks it
    store.appendAudit(sample().subList(0, 2));
    store.appendAudit(sample().subList(2, 4));
    List<AuditRow> all = new ArrayList<>();
    store.forEachAuditRow(all::add);
    assertThat(all).containsExactlyElementsOf(sample());
    assertThat(store.lastAuditSeq()).isEqualTo(4);
  }

  @Test
  void oneRecordBySeqAndTheTopKeysAndAddressesSinceATime() {
    // why: the admin API's audit/{seq} and the overview's top lists read these
    store.appendAudit(sample());
    assertThat(store.auditRow(3)).contains(sample().get(2));
    assertThat(store.auditRow(99)).isEmpty();
    assertThat(store.topAddressesSince("2026-01-01", 10))
        .containsExactly(
            new AuditStore.Count("10.0.0.1", 2),
            new AuditStore.Count("10.0.0.2", 1),
            new AuditStore.Count("10.0.0.3", 1));
    // a record without a key is not a key; since is inclusive; the limit holds
    assertThat(store.topKeysSince("2026-01-01T11:00:00.000Z", 10))
        .containsExactly(new AuditStore.Count("k1", 1), new AuditStore.Count("k2", 1));
    assertThat(store.topKeysSince("2026-01-01", 1)).containsExactly(new AuditStore.Count("k1", 2));
  }

  @Test
  void anEmptyStoreHasNothingAndSeqZero() {
    assertThat(store.lastAuditSeq()).isZero();
    assertThat(store.queryAudit(new AuditQuery(null, null, null, null, null, null, 10))).isEmpty();
    assertThat(store.summarizeAudit(null, null)).isEmpty();
    assertThat(store.pruneAudit(100)).isZero();
  }

  @Test
  void queriesFilterOnEveryFieldNewestFirstAndRespectTheLimit() {
    store.appendAudit(sample());
    assertThat(store.queryAudit(new AuditQuery(null, null, null, null, null, null, 10)))
        .extracting(AuditRow::seq)
        .containsExactly(4L, 3L, 2L, 1L);
    assertThat(store.queryAudit(new AuditQuery(null, null, null, null, null, null, 2)))
        .extracting(AuditRow::seq)
        .containsExactly(4L, 3L);
    assertThat(store.queryAudit(new AuditQuery("k1", null, null, null, null, null, 10)))
        .extracting(AuditRow::seq)
        .containsExactly(2L, 1L);
    assertThat(store.queryAudit(new AuditQuery(null, "10.0.0.1", null, null, null, null, 10)))
        .extracting(AuditRow::seq)
        .containsExactly(3L, 1L);
    assertThat(store.queryAudit(new AuditQuery(null, null, 401, null, null, null, 10)))
        .extracting(AuditRow::seq)
        .containsExactly(3L);
    assertThat(
            store.queryAudit(
                new AuditQuery(null, null, null, "policy.model_denied", null, null, 10)))
        .extracting(AuditRow::seq)
        .containsExactly(2L);
    // since inclusive, until exclusive; a date prefix works as a bound
    assertThat(
            store.queryAudit(
                new AuditQuery(
                    null, null, null, null, "2026-01-01T11:00:00.000Z", "2026-01-02", 10)))
        .extracting(AuditRow::seq)
        .containsExactly(3L, 2L);
    assertThat(store.queryAudit(new AuditQuery("k1", "10.0.0.9", null, null, null, null, 10)))
        .isEmpty();
    // served rows and refusals alike, alone and with other filters
    assertThat(store.queryAudit(new AuditQuery(null, null, 200, null, null, null, 10)))
        .extracting(AuditRow::seq)
        .containsExactly(4L, 1L);
    assertThat(store.queryAudit(new AuditQuery(null, null, null, "ok", null, null, 10)))
        .extracting(AuditRow::seq)
        .containsExactly(4L, 1L);
    assertThat(store.queryAudit(new AuditQuery("k1", null, 200, "ok", null, null, 10)))
        .extracting(AuditRow::seq)
        .containsExactly(1L);
    assertThat(
            store.queryAudit(
                new AuditQuery("k1", null, null, "policy.model_denied", null, null, 10)))
        .extracting(AuditRow::seq)
        .containsExactly(2L);
    assertThat(
            store.queryAudit(
                new AuditQuery(null, null, 401, null, "2026-01-01T11:30:00.000Z", null, 10)))
        .extracting(AuditRow::seq)
        .containsExactly(3L);
    assertThat(store.queryAudit(new AuditQuery(null, null, 401, "ok", null, null, 10))).isEmpty();
    assertThat(store.queryAudit(new AuditQuery(null, null, 404, null, null, null, 10))).isEmpty();
  }

  @Test
  void summariesTotalRequestsRefusalsAndTokensPerDayKeyAndModel() {
    store.appendAudit(sample());
    List<AuditSummary> all = store.summarizeAudit(null, null);
    assertThat(all)
        .contains(
            new AuditSummary("2026-01-01", "k1", "tiny:latest", 1, 0, 10, 20),
            new AuditSummary("2026-01-01", "k1", "big:latest", 1, 1, 0, 0),
            new AuditSummary("2026-01-01", "-", "-", 1, 1, 0, 0),
            new AuditSummary("2026-01-02", "k2", "tiny:latest", 1, 0, 5, 7));
    assertThat(all).hasSize(4);
    assertThat(store.summarizeAudit("2026-01-02", null))
        .containsExactly(new AuditSummary("2026-01-02", "k2", "tiny:latest", 1, 0, 5, 7));
  }

  @Test
  void pruningRemovesOnlyTheOldestRows() {
    // why: retention deletes from the old end only; a gap in the middle would read as tampering
    store.appendAudit(sample());
    assertThat(store.pruneAudit(2)).isEqualTo(2);
    List<AuditRow> left = new ArrayList<>();
    store.forEachAuditRow(left::add);
    assertThat(left).extracting(AuditRow::seq).containsExactly(3L, 4L);
    assertThat(store.lastAuditSeq()).isEqualTo(4);
    assertThat(store.pruneAudit(2)).isZero();
  }

  @Test
  void keyAddressesAreDistinctPairsSinceATime() {
    store.appendAudit(sample());
    store.appendAudit(
        List.of(
            row(5, "2026-01-02T10:00:00.000Z", "10.0.0.3", "k2", 200, "ok", "tiny:latest", 1, 1)));
    assertThat(store.keyAddressesSince("2026-01-01"))
        .containsExactlyInAnyOrder(
            new KeyAddress("k1", "10.0.0.1"),
            new KeyAddress("k1", "10.0.0.2"),
            new KeyAddress("k2", "10.0.0.3"));
    assertThat(store.keyAddressesSince("2026-01-02"))
        .containsExactly(new KeyAddress("k2", "10.0.0.3"));
  }
}

package dev.gatehouse.store.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.LocalUsageLedger;
import dev.gatehouse.store.UsageLedger;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The in-memory ledger passes the ledger contract, answers at once, and is seeded at start. */
class LocalUsageLedgerContractTest extends UsageLedgerContract {

  @Override
  protected UsageLedger ledger(Clock clock) {
    return new LocalUsageLedger(clock);
  }

  @Test
  void everyAnswerIsAlreadyComplete() {
    // why: the budget check and the per-chunk charge run on the event loop, which follows a
    // completed future without a callback
    UsageLedger l = ledger(Clock.systemUTC());
    assertThat(l.used("k1").isComplete()).isTrue();
    assertThat(l.charge("k1", 1).isComplete()).isTrue();
    assertThat(l.settle("k1", "m", 1, 1, 1).isComplete()).isTrue();
  }

  @Test
  void todaysTotalsFromTheStoreSurviveARestart() throws Exception {
    // why: a restart must not reset a day budget
    LocalUsageLedger l =
        new LocalUsageLedger(Clock.fixed(Instant.parse("2026-03-01T12:00:00Z"), ZoneOffset.UTC));
    l.seed(Map.of("k1", 40L));
    assertThat(await(l.used("k1"))).isEqualTo(new UsageLedger.Totals(0, 40));
  }
}

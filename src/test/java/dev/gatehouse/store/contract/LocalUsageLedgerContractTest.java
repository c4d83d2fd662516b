package dev.gatehouse.store.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.LocalUsageLedger;
import dev.gatehouse.store.UsageLedger;
import dev.gatehouse.testing.Allocation;
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

  @Test
  void aChargeAllocatesItsAnswerAndNothingElse() throws Exception {
    // why: a stream charges its key on every chunk (500 in a long answer), so a charge reads the
    // clock and the key's windows without building the day's date or text each time (issue 12:
    // per-request work with no allocation beyond what it returns). Its answer, a Totals in a
    // completed future, is about 56 bytes; building the day as a LocalDate and a String, as it
    // did, took about 150 more. Allocation is counted exactly by the thread's counter, not timed.
    UsageLedger l = ledger(Clock.systemUTC());
    long[] sink = {0};
    // 50,000 charges first: the JIT's code, and the key's entry made
    double perCharge =
        Allocation.bytesPer(() -> sink[0] += l.charge("k1", 1).result().day(), 50_000, 20_000);
    System.out.printf("LocalUsageLedger.charge: %.1f bytes per charge%n", perCharge);
    assertThat(sink[0]).isPositive();
    assertThat(perCharge).isLessThanOrEqualTo(64);
  }
}

package dev.gatehouse.store.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.UsageLedger;
import dev.gatehouse.store.UsageLedger.Totals;
import dev.gatehouse.store.UsageStore.UsageRow;
import dev.gatehouse.testing.MutableClock;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What every {@link UsageLedger} must do, whatever it is backed by: the in-memory ledger now, a
 * shared Redis one later. Budgets are decided from what it answers.
 */
public abstract class UsageLedgerContract {

  /** A new, empty ledger whose windows follow {@code clock}. */
  protected abstract UsageLedger ledger(Clock clock);

  private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T23:58:30Z"));

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void chargesAddUpPerKeyAndEachAnswerHasTheKeysTotals() throws Exception {
    UsageLedger l = ledger(clock);
    assertThat(await(l.used("k1"))).isEqualTo(new Totals(0, 0));
    assertThat(await(l.charge("k1", 3))).isEqualTo(new Totals(3, 3));
    assertThat(await(l.charge("k1", 2)))
        .as("a second stream of the same key sees the first's tokens")
        .isEqualTo(new Totals(5, 5));
    assertThat(await(l.used("k1"))).isEqualTo(new Totals(5, 5));
    assertThat(await(l.used("k2"))).as("another key is untouched").isEqualTo(new Totals(0, 0));
  }

  @Test
  void settlingReplacesTheEstimateWithTheRealFiguresAndQueuesThemOnce() throws Exception {
    UsageLedger l = ledger(clock);
    await(l.charge("k1", 4));
    await(l.settle("k1", "tiny:latest", 4, 7, 5));
    assertThat(await(l.used("k1"))).as("4 estimated became 12 real").isEqualTo(new Totals(12, 12));
    assertThat(l.drain()).containsExactly(new UsageRow("k1", "2026-03-01", "tiny:latest", 1, 7, 5));
    assertThat(l.drain()).as("taken once").isEmpty();
  }

  @Test
  void aSettlementBelowTheEstimateNeverGoesNegative() throws Exception {
    UsageLedger l = ledger(clock);
    await(l.settle("k1", "tiny:latest", 10, 1, 1));
    assertThat(await(l.used("k1"))).isEqualTo(new Totals(0, 0));
  }

  @Test
  void rowsPutBackAfterAFailedWriteAreDrainedAgainSummed() throws Exception {
    UsageLedger l = ledger(clock);
    await(l.settle("k1", "tiny:latest", 0, 1, 2));
    List<UsageRow> failed = l.drain();
    await(l.settle("k1", "tiny:latest", 0, 10, 20));
    l.requeue(failed);
    assertThat(l.drain())
        .containsExactly(new UsageRow("k1", "2026-03-01", "tiny:latest", 2, 11, 22));
  }

  @Test
  void theMinuteWindowStartsAfreshAndTheDayWindowAtUtcMidnight() throws Exception {
    UsageLedger l = ledger(clock);
    await(l.charge("k1", 5));
    clock.advance(Duration.ofSeconds(60));
    assertThat(await(l.used("k1"))).as("a new minute, the same day").isEqualTo(new Totals(0, 5));
    await(l.charge("k1", 1));
    clock.advance(Duration.ofSeconds(60)); // 2026-03-02T00:00:30Z
    assertThat(await(l.used("k1"))).as("a new UTC day").isEqualTo(new Totals(0, 0));
  }
}

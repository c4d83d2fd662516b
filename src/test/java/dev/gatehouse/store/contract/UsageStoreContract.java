package dev.gatehouse.store.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.store.UsageStore;
import dev.gatehouse.store.UsageStore.UsageRow;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What every {@link UsageStore} must do, whatever it is backed by. */
public abstract class UsageStoreContract extends StoreContract<UsageStore> {

  @Test
  void incrementsAddUpPerKeyDayAndModel() {
    store.addUsage(List.of(new UsageRow("k1", "2026-01-01", "tiny:latest", 1, 10, 20)));
    store.addUsage(
        List.of(
            new UsageRow("k1", "2026-01-01", "tiny:latest", 2, 5, 5),
            new UsageRow("k1", "2026-01-01", "big:latest", 1, 100, 200),
            new UsageRow("k2", "2026-01-02", "tiny:latest", 1, 1, 1)));
    List<UsageRow> k1 = store.usageSince("2026-01-01", "k1");
    assertThat(k1).hasSize(2);
    UsageRow tiny =
        k1.stream().filter(r -> r.model().equals("tiny:latest")).findFirst().orElseThrow();
    assertThat(tiny.requests()).isEqualTo(3);
    assertThat(tiny.tokensIn()).isEqualTo(15);
    assertThat(tiny.tokensOut()).isEqualTo(25);
    assertThat(store.usageSince("2026-01-02", "k1")).as("before the day asked for").isEmpty();
    assertThat(store.tokensOn("2026-01-01")).containsEntry("k1", 15L + 25 + 100 + 200);
    assertThat(store.tokensOn("2026-01-02")).containsEntry("k2", 2L);
  }

  @Test
  void nothingAddedIsNothingFound() {
    store.addUsage(List.of());
    assertThat(store.usageSince("2026-01-01", "k1")).isEmpty();
    assertThat(store.tokensOn("2026-01-01")).isEmpty();
  }
}

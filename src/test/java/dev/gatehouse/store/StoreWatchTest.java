package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class StoreWatchTest {

  @Test
  void loadsAtStartRefreshesOnAnnouncedChangesAndStopsWhenClosed() {
    AtomicInteger refreshes = new AtomicInteger();
    AtomicReference<Runnable> listener = new AtomicReference<>();
    AtomicBoolean unsubscribed = new AtomicBoolean();
    ChangeSource source = l -> {
      listener.set(l);
      return () -> unsubscribed.set(true);
    };
    StoreWatch w = StoreWatch.start(source, Duration.ofHours(1), List.of(refreshes::incrementAndGet));
    assertThat(refreshes).hasValue(1); // loaded before start returns
    listener.get().run(); // an announced change: refreshed before the writer goes on
    assertThat(refreshes).hasValue(2);
    w.refreshNow();
    assertThat(refreshes).hasValue(3);
    w.close();
    assertThat(unsubscribed).isTrue();
    w.refreshNow(); // after close: nothing left to refresh, and no error
    assertThat(refreshes).hasValue(3);
  }

  @Test
  void theTimerRefreshesWhenNobodyAnnounces() throws Exception {
    AtomicInteger refreshes = new AtomicInteger();
    try (StoreWatch w = StoreWatch.start(l -> () -> {}, Duration.ofMillis(20), List.of(refreshes::incrementAndGet))) {
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (refreshes.get() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(refreshes.get()).isGreaterThanOrEqualTo(3);
      w.refreshNow();
    }
  }
}

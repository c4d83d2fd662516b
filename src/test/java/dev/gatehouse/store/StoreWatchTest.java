package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class StoreWatchTest {

  /** Counts refreshes; released once at the end. */
  static final class Counting implements StoreWatch.Reader {
    final AtomicInteger refreshes = new AtomicInteger();
    final AtomicInteger releases = new AtomicInteger();

    @Override
    public void refresh() {
      refreshes.incrementAndGet();
    }

    @Override
    public void release() {
      releases.incrementAndGet();
    }
  }

  @Test
  void loadsAtStartRefreshesOnAnnouncedChangesAndStopsWhenClosed() {
    Counting reader = new Counting();
    AtomicInteger refreshes = reader.refreshes;
    AtomicReference<Runnable> listener = new AtomicReference<>();
    AtomicBoolean unsubscribed = new AtomicBoolean();
    ChangeSource source =
        l -> {
          listener.set(l);
          return () -> unsubscribed.set(true);
        };
    StoreWatch w = StoreWatch.start(source, Duration.ofHours(1), List.of(reader));
    assertThat(refreshes).hasValue(1); // loaded before start returns
    listener.get().run(); // an announced change: refreshed before the writer goes on
    assertThat(refreshes).hasValue(2);
    w.refreshNow();
    assertThat(refreshes).hasValue(3);
    w.close();
    assertThat(unsubscribed).isTrue();
    assertThat(reader.releases).hasValue(1); // on the watch's thread, after its last refresh
    w.refreshNow(); // after close: nothing left to refresh, and no error
    assertThat(refreshes).hasValue(3);
  }

  @Test
  void theTimerRefreshesWhenNobodyAnnounces() throws Exception {
    Counting reader = new Counting();
    AtomicInteger refreshes = reader.refreshes;
    try (StoreWatch w = StoreWatch.start(l -> () -> {}, Duration.ofMillis(20), List.of(reader))) {
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (refreshes.get() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(refreshes.get()).isGreaterThanOrEqualTo(3);
      w.refreshNow();
    }
  }
}

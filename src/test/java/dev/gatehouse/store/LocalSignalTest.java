package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalSignalTest {

  @TempDir Path dir;

  @Test
  void everyOtherListenerIsSignalledAndAnswersAfterItsWorkIsDone() throws Exception {
    Path run = LocalSignal.runDir(dir);
    AtomicInteger a = new AtomicInteger();
    AtomicInteger b = new AtomicInteger();
    try (LocalSignal first = LocalSignal.listen(run, a::incrementAndGet);
        LocalSignal second = LocalSignal.listen(run, b::incrementAndGet)) {
      assertThat(second.socket()).isNotEqualTo(first.socket());
      assertThat(LocalSignal.signalAll(run, first.socket())).isEqualTo(1);
      assertThat(a).hasValue(0); // its own socket is skipped
      assertThat(b).hasValue(1); // done before the answer came back
      assertThat(LocalSignal.signalAll(run, null)).isEqualTo(2);
      assertThat(a).hasValue(1);
    }
    try (var left = Files.list(run)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void aFailingListenerStillAnswersAndStaleSocketsAreRemoved() throws Exception {
    Path run = LocalSignal.runDir(dir);
    Path stale = run.resolve("gatehouse-1-gone.sock");
    Files.writeString(stale, "");
    try (LocalSignal s =
        LocalSignal.listen(
            run,
            () -> {
              throw new IllegalStateException("reload failed");
            })) {
      assertThat(s.socket()).exists();
      assertThat(LocalSignal.signalAll(run, null)).isEqualTo(1);
    }
    assertThat(stale).doesNotExist();
    assertThat(LocalSignal.signalAll(dir.resolve("none"), null)).isZero();
  }

  @Test
  void aSocketPathThatCannotBeBoundIsReportedNotIgnored() {
    Path deep = dir.resolve("x".repeat(120));
    assertThatThrownBy(() -> LocalSignal.listen(deep, () -> {}))
        .isInstanceOf(java.io.IOException.class);
  }

  @Test
  void anUnknownStoreKindIsRefused() {
    assertThatThrownBy(() -> Stores.open(kind("oracle"), dir))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("store.kind oracle");
    try (Stores s = Stores.open(kind("sqlite"), dir)) {
      assertThat(s.keys()).isSameAs(s.bans()).isSameAs(s.usage()).isSameAs(s.audit());
    }
  }

  private static dev.gatehouse.config.GatehouseConfig.Store kind(String kind) {
    dev.gatehouse.config.GatehouseConfig.Store d =
        dev.gatehouse.config.GatehouseConfig.Store.sqlite();
    return new dev.gatehouse.config.GatehouseConfig.Store(
        kind, d.url(), d.user(), d.passwordFile(), d.poolSize(), d.maxStale());
  }
}

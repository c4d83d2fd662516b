package dev.gatehouse.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite store refuses to run on a Vert.x event loop, which it would block: a regression that
 * puts a store call on the request path fails loudly in the tests, and closed in production.
 */
class SqliteEventLoopGuardTest {

  @TempDir Path dir;
  private SqliteStore store;
  private Vertx vertx;

  @BeforeEach
  void open() {
    store = SqliteStore.open(dir);
    vertx = Vertx.vertx();
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    store.close();
  }

  /** What {@code call} throws (or returns) when run on an event loop. */
  private Object onEventLoop(Supplier<Object> call) throws Exception {
    Promise<Object> p = Promise.promise();
    vertx.runOnContext(
        v -> {
          try {
            p.complete(call.get());
          } catch (RuntimeException e) {
            p.complete(e);
          }
        });
    return p.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void readsWritesAndVersionProbesAreRefusedOnAnEventLoop() throws Exception {
    KeyStore.VersionProbe probe =
        store.openVersionProbe(); // opened off the loop, as the store watch does
    try {
      for (Supplier<Object> call :
          List.<Supplier<Object>>of(
              store::list,
              store::listBans,
              () -> store.tokensOn("2026-01-01"),
              () -> {
                store.addUsage(List.of(new UsageStore.UsageRow("k", "2026-01-01", "m", 1, 1, 1)));
                return null;
              },
              store::lastAuditSeq,
              probe::version,
              store::openBanVersionProbe)) {
        assertThat(onEventLoop(call))
            .isInstanceOf(StoreException.class)
            .extracting(e -> ((StoreException) e).getMessage())
            .asString()
            .contains("event loop");
      }
    } finally {
      probe.close();
    }
    assertThat(store.tokensOn("2026-01-01")).as("the refused write wrote nothing").isEmpty();
  }

  @Test
  void aWorkerThreadMayUseIt() throws Exception {
    Future<List<KeyRecord>> keys = vertx.executeBlocking(store::list);
    assertThat(keys.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)).isEmpty();
  }
}

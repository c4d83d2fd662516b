package dev.gatehouse.upstream;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * One asynchronous fetch at a time: a caller that comes while one runs gets that one's answer
 * rather than starting another, so a burst of requests (or a readiness poller beside the periodic
 * check) costs the upstream one request. Thread-safe.
 *
 * <p>Every caller gets the answer on its own Vert.x context. The fetch completes on the event loop
 * of the caller that started it; a request of another loop must continue there, on the thread that
 * owns its connection, never on the fetching one.
 */
final class OneAtATime<T> {

  private final Supplier<Future<T>> fetch;
  private @Nullable Future<T> running; // guarded by this

  OneAtATime(Supplier<Future<T>> fetch) {
    this.fetch = fetch;
  }

  Future<T> get() {
    Promise<T> p;
    synchronized (this) {
      if (running != null) {
        return onCallersContext(running);
      }
      p = Promise.promise();
      running = p.future();
    }
    Future<T> f;
    try {
      f = fetch.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e); // fail closed: a fetch that throws is a failed fetch
    }
    f.onComplete(
        ar -> {
          synchronized (this) {
            running = null;
          }
          p.handle(ar);
        });
    return p.future();
  }

  @SuppressWarnings("ReferenceEquality") // the same Vert.x context, which has no equals
  private static <T> Future<T> onCallersContext(Future<T> shared) {
    Context caller = Vertx.currentContext();
    if (caller == null) {
      return shared;
    }
    Promise<T> mine = Promise.promise();
    shared.onComplete(
        ar -> {
          if (Vertx.currentContext() == caller) {
            mine.handle(ar);
          } else {
            caller.runOnContext(v -> mine.handle(ar));
          }
        });
    return mine.future();
  }
}

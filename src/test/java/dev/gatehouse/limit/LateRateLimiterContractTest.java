package dev.gatehouse.limit;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The contract for a limiter whose answers arrive later, on a thread of their own, as a remote back
 * end's might (the local buckets behind a 20 ms delay): the gateway waits for each answer without
 * blocking, and continues on its event loop.
 */
class LateRateLimiterContractTest extends RateLimiterContract {

  private static final ScheduledExecutorService LATER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "late-limiter");
            t.setDaemon(true);
            return t;
          });

  private static <T> Future<T> later(Future<T> answer) {
    Promise<T> p = Promise.promise();
    LATER.schedule(() -> answer.onComplete(p), 20, TimeUnit.MILLISECONDS);
    return p.future();
  }

  @Override
  protected RateLimiter limiter() {
    LocalRateLimiter local = new LocalRateLimiter();
    return (subject, perMinute, burst) -> later(local.take(subject, perMinute, burst));
  }

  @Override
  protected RateLimiter failing() {
    return (subject, perMinute, burst) ->
        later(Future.failedFuture(new IllegalStateException("limiter server unreachable")));
  }
}

package dev.gatehouse.limit;

import dev.gatehouse.exchange.Problem;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The in-process {@link ConcurrencyGate}: caps requests in flight, globally and per key, with one
 * bounded FIFO queue in front. A request that finds no free slot waits in the queue (never longer
 * than the queue timeout); a request that finds the queue full is refused at once, so nothing ever
 * hangs: 429 when its own key is at its cap, 503 when the whole gateway is. Shared by all event
 * loops; thread-safe (one lock, held only for counter updates). Waiters are resumed on their own
 * event loop.
 */
public final class LocalConcurrencyGate implements ConcurrencyGate {

  /** A held or awaited slot; {@link #release()} frees it (or leaves the queue) exactly once. */
  private final class LocalSlot implements Slot {
    private final String key;
    private final int keyCap;
    private final Context context;
    private final Promise<Problem> granted = Promise.promise();
    private boolean holding;
    private boolean done;
    private long timer = -1;

    private LocalSlot(String key, int keyCap, Context context) {
      this.key = key;
      this.keyCap = keyCap;
      this.context = context;
    }

    @Override
    public Future<Problem> granted() {
      return granted.future();
    }

    @Override
    public Future<Void> release() {
      LocalConcurrencyGate.this.release(this);
      return Future.succeededFuture();
    }
  }

  private final Vertx vertx;
  private final int global;
  private final int queueMax;
  private final long timeoutMillis;
  private int inFlight;
  private final Map<String, Integer> perKey = new HashMap<>();
  private final ArrayDeque<LocalSlot> queue = new ArrayDeque<>();

  public LocalConcurrencyGate(Vertx vertx, int global, int queueMax, long timeoutMillis) {
    this.vertx = vertx;
    this.global = global;
    this.queueMax = queueMax;
    this.timeoutMillis = timeoutMillis;
  }

  @Override
  public Slot acquire(String key, int keyCap) {
    LocalSlot s = new LocalSlot(key, keyCap, vertx.getOrCreateContext());
    Problem refused = null;
    boolean queued = false;
    synchronized (this) {
      if (fits(s)) {
        take(s);
      } else if (queue.size() < queueMax) {
        queue.addLast(s);
        queued = true;
      } else {
        s.done = true;
        refused = blockedBy(s);
      }
    }
    if (refused != null) {
      s.granted.complete(refused);
    } else if (!queued) {
      s.granted.complete(null);
    } else {
      s.timer = vertx.setTimer(timeoutMillis, id -> timeout(s));
    }
    return s;
  }

  private boolean fits(LocalSlot s) {
    return inFlight < global && perKey.getOrDefault(s.key, 0) < s.keyCap;
  }

  private Problem blockedBy(LocalSlot s) {
    return perKey.getOrDefault(s.key, 0) >= s.keyCap
        ? Problem.KEY_CONCURRENCY
        : Problem.GATEWAY_BUSY;
  }

  private void take(LocalSlot s) {
    inFlight++;
    perKey.merge(s.key, 1, Integer::sum);
    s.holding = true;
  }

  private void timeout(LocalSlot s) {
    Problem p;
    synchronized (this) {
      if (s.done || s.holding || !queue.remove(s)) {
        return;
      }
      s.done = true;
      p = blockedBy(s);
    }
    s.granted.complete(p);
  }

  private void release(LocalSlot s) {
    java.util.List<LocalSlot> wake = new java.util.ArrayList<>(1);
    boolean leftWaiting;
    synchronized (this) {
      if (s.done) {
        return;
      }
      s.done = true;
      leftWaiting = !s.holding;
      if (leftWaiting) {
        queue.remove(s);
      } else {
        inFlight--;
        perKey.computeIfPresent(s.key, (k, n) -> n == 1 ? null : n - 1);
        // Hand freed capacity to the first waiters that now fit, in arrival order.
        for (Iterator<LocalSlot> it = queue.iterator(); it.hasNext() && inFlight < global; ) {
          LocalSlot w = it.next();
          if (fits(w)) {
            it.remove();
            take(w);
            wake.add(w);
          }
        }
      }
    }
    if (leftWaiting) {
      // left while waiting: its timeout would hold the request (and its client's connection)
      // until it fired, concurrency.queue_timeout later
      vertx.cancelTimer(s.timer);
    }
    for (LocalSlot w : wake) {
      vertx.cancelTimer(w.timer);
      w.context.runOnContext(v -> w.granted.complete(null));
    }
  }

  @Override
  public synchronized int inFlight() {
    return inFlight;
  }

  @Override
  public synchronized int waiting() {
    return queue.size();
  }
}

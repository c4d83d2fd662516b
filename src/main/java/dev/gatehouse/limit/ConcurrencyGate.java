package dev.gatehouse.limit;

import dev.gatehouse.exchange.Problem;
import io.vertx.core.Future;

/**
 * Caps requests in flight, globally ({@code concurrency.global}) and per key, with a bounded queue
 * in front ({@code concurrency.queue}, {@code concurrency.queue_timeout}). A request that finds no
 * free slot waits in the queue, never longer than the timeout; one that finds the queue full is
 * refused at once: 429 {@code limit.key_concurrency} when its own key is at its cap, 503 {@code
 * limit.gateway_busy} when the whole gateway is. {@link LocalConcurrencyGate} holds the counts in
 * this process; {@link RedisConcurrencyGate} holds them in Redis for every gateway at once.
 * Thread-safe; called on the request's event loop, never blocking.
 */
public interface ConcurrencyGate {

  /** A held or awaited slot; {@link #release()} frees it (or leaves the queue) exactly once. */
  interface Slot {

    /**
     * Completes with null once the slot is held, or with the problem that refused it ({@code
     * limits.unavailable} when the shared counts cannot be reached: fail closed).
     */
    Future<Problem> granted();

    /**
     * Frees the slot, or leaves the queue; safe to call more than once. The future completes once
     * the slot can no longer stand in the way of a next request: at once for this process's own
     * counts; for shared ones, after one round trip when the slot filled a cap as it was taken, and
     * at once otherwise (see {@link RedisConcurrencyGate}). It fails when the shared counts could
     * not be told; the slot's lease then frees it.
     */
    Future<Void> release();
  }

  /** Asks for a slot for {@code key}, whose own cap is {@code keyCap}. */
  Slot acquire(String key, int keyCap);

  /** Requests holding a slot through this gateway now. */
  int inFlight();

  /** Requests waiting in this gateway's queue now. */
  int waiting();
}

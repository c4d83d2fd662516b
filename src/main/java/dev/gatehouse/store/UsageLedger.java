package dev.gatehouse.store;

import io.vertx.core.Future;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Live token usage per key, for token budgets: what each key spent in the current UTC minute and
 * UTC day, the tokens of streams still running included. A running stream is charged an estimate
 * (one token per chunk) the moment each chunk passes, and its estimate is replaced by the
 * upstream's real figures when it ends, so that several concurrent streams cannot together
 * overshoot a budget. {@link LocalUsageLedger} keeps it in this process; the interface is what lets
 * a Redis ledger share it between gateways.
 *
 * <p><b>Threads.</b> {@link #used}, {@link #charge} and {@link #settle} are called on the request's
 * event loop (the limit stage before the upstream is contacted; the usage meter as the response
 * streams), so they never block: a ledger that asks the network returns a pending future and
 * completes it on the caller's Vert.x context, as Vert.x's own clients do. The local ledger returns
 * completed futures. {@link #drain} and {@link #requeue} are this process's own queue of rows for
 * the {@link UsageStore}, in memory whatever the ledger; the usage flush calls them on a worker
 * thread.
 *
 * <p><b>Failures (fail closed).</b> A failed {@link #used} refuses the request (503 {@code
 * limit.unavailable}). A failed {@link #charge} ends that stream with the same error. The callers
 * ignore what {@link #settle} answers (fire and forget), so a ledger that could not record a charge
 * or a settlement must not answer a later {@link #used} of that key from totals that lack it: it
 * fails {@code used} for the key until it has recorded what it owes (retrying meanwhile). The key's
 * requests are refused for that time, never checked against a total that is too low.
 */
public interface UsageLedger {

  /** Tokens one key used in the current UTC minute and the current UTC day, estimates included. */
  record Totals(long minute, long day) {}

  /** What the key used so far, for the budget check before a request is forwarded. */
  Future<Totals> used(String keyId);

  /**
   * Adds {@code tokens} of a stream still running to the key's totals.
   *
   * @return the key's totals with them, all its streams included, so the stream can be cut the
   *     moment a budget is spent
   */
  Future<Totals> charge(String keyId, long tokens);

  /**
   * Replaces a request's estimate ({@code estimated} tokens charged while it streamed) with its
   * real figures, and queues them for the {@link UsageStore}. Callers may ignore the future.
   */
  Future<Void> settle(
      String keyId, @Nullable String model, long estimated, long tokensIn, long tokensOut);

  /** Takes the rows for the usage store queued since the last call. Local; never blocks. */
  List<UsageStore.UsageRow> drain();

  /** Puts back rows a failed write could not store, so none is lost. Local; never blocks. */
  void requeue(List<UsageStore.UsageRow> rows);
}

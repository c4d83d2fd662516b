package dev.gatehouse.account;

import dev.gatehouse.audit.AuditRecord;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.metrics.GatewayMetrics;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * One event loop's hand-off of audit records to the writer thread. The records of the requests that
 * end in one turn of the loop (one round of ready connections) are queued together when the turn's
 * I/O is done, and their completion comes back to the loop as one task. Queued one by one, each
 * record took the queue's lock, and when the writer was idle woke it (a futex call on each side);
 * each completion was a task posted to the loop from the writer's thread.
 *
 * <p>Nothing waits for the turn to end longer than the turn itself: the hand-off is a task the loop
 * runs right after the I/O it is processing. A turn of more than {@value #MAX_RECORDS} records is
 * handed over in parts. A record appended off an event loop, or when the loop no longer takes tasks
 * (it is shutting down), is queued at once. Used by the event loop of one pipeline only.
 */
public final class AuditTurn {

  /** Records handed over at most in one part. */
  static final int MAX_RECORDS = 256;

  private final AuditWriter writer;
  private final GatewayMetrics metrics;

  /** This turn's records, and what waits for each (its future and when it was queued). */
  private List<AuditRecord> records = new ArrayList<>();

  private List<Waiting> waiting = new ArrayList<>();

  /** Whether a hand-off task is queued on the loop. */
  private boolean scheduled;

  private record Waiting(CompletableFuture<Void> done, long queuedNanos) {}

  AuditTurn(AuditWriter writer, GatewayMetrics metrics) {
    this.writer = writer;
    this.metrics = metrics;
  }

  /**
   * Queues a record; the future completes on this event loop once the writer has it in the file (as
   * {@link AuditWriter#append} says), or fails if it could not be written.
   */
  CompletableFuture<Void> append(AuditRecord r) {
    long queued = System.nanoTime();
    Context ctx = Vertx.currentContext();
    if (ctx == null || !Context.isOnEventLoopThread()) {
      CompletableFuture<Void> written = writer.append(r);
      written.whenComplete(
          (v, err) -> metrics.auditWritten(System.nanoTime() - queued, err != null));
      return written;
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    records.add(r);
    waiting.add(new Waiting(done, queued));
    if (records.size() >= MAX_RECORDS) {
      handOver(ctx);
    } else if (!scheduled) {
      scheduled = true;
      try {
        ctx.runOnContext(v -> handOver(ctx));
      } catch (RejectedExecutionException e) {
        handOver(ctx); // the loop is shutting down: no later turn would hand this over
      }
    }
    return done;
  }

  /** Hands this turn's records to the writer. */
  private void handOver(Context ctx) {
    scheduled = false;
    if (records.isEmpty()) {
      return;
    }
    List<AuditRecord> rs = records;
    List<Waiting> ws = waiting;
    records = new ArrayList<>();
    waiting = new ArrayList<>();
    writer
        .appendAll(rs)
        .whenComplete(
            (v, err) -> {
              long now = System.nanoTime();
              for (Waiting w : ws) {
                metrics.auditWritten(now - w.queuedNanos(), err != null);
              }
              try {
                ctx.runOnContext(h -> complete(ws, err));
              } catch (RejectedExecutionException e) {
                complete(ws, err); // the loop is gone: complete here, nobody waits on it
              }
            });
  }

  private static void complete(List<Waiting> ws, @Nullable Throwable err) {
    for (Waiting w : ws) {
      if (err == null) {
        w.done().complete(null);
      } else {
        w.done().completeExceptionally(err);
      }
    }
  }
}

package dev.gatehouse.store;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * Keeps the in-memory readers of a store (the key ring, the ban list) current, so that no request
 * asks the store anything: they are refreshed when the store announces a change ({@link
 * ChangeSource}), and on a timer for changes nobody announced (a database edited by hand) and for
 * noticing a store that stopped answering.
 *
 * <p>Every refresh runs on one thread, {@code gatehouse-store-watch}, so a reader's version probe
 * is only ever used by it. A writer that announces a change waits until the refresh is done.
 */
public final class StoreWatch implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse.store");
  private static final long WAIT_SECONDS = 5;

  /** Something that reloads itself from the store when its version moved. Never throws. */
  public interface Reader {
    void refresh();

    /** Closes what {@link #refresh} opened (its version probe); the watch's last call. */
    void release();

    /**
     * Whether the last refresh reached the store and the reader may decide from memory; read by
     * {@link StoreHealth} for {@code /readyz}, the metric and the alert. Never blocks.
     */
    default boolean healthy() {
      return true;
    }

    /** Why the reader is not {@link #healthy}; empty when it is. */
    default String problem() {
      return "";
    }
  }

  private final List<Reader> readers;
  private final ScheduledThreadPoolExecutor thread;
  private final ChangeSource.Subscription subscription;

  private StoreWatch(ChangeSource source, Duration period, List<Reader> readers) {
    this.readers = List.copyOf(readers);
    this.thread =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "gatehouse-store-watch");
              t.setDaemon(true);
              return t;
            });
    thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    await(thread.submit(this::refreshAll));
    long ms = Math.max(1, period.toMillis());
    thread.scheduleWithFixedDelay(this::refreshAll, ms, ms, TimeUnit.MILLISECONDS);
    this.subscription = source.onChange(this::refreshNow);
  }

  /**
   * Loads every reader once (before returning), then keeps them current: at once on an announced
   * change, and every {@code period} otherwise.
   */
  public static StoreWatch start(ChangeSource source, Duration period, List<Reader> readers) {
    return new StoreWatch(source, period, readers);
  }

  /** Refreshes every reader now, and returns when that is done (or after a few seconds). */
  public void refreshNow() {
    try {
      await(thread.submit(this::refreshAll));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed: nobody is left to refresh
    }
  }

  private void refreshAll() {
    for (Reader r : readers) {
      r.refresh();
    }
  }

  private static void await(Future<?> f) {
    try {
      f.get(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.warning("store refresh did not finish: " + e);
    }
  }

  @Override
  public void close() {
    subscription.close();
    try {
      thread.execute(() -> readers.forEach(Reader::release));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return; // closed already
    }
    thread.shutdown();
    try {
      thread.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

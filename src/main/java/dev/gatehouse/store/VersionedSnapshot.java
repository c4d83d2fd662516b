package dev.gatehouse.store;

import java.util.function.Supplier;

/**
 * Data read from a store and kept in memory, reloaded whenever the store's version changes. The
 * request path asks for the snapshot of the version it just read from a cheap per-thread probe,
 * so a change made by another process (the CLI) is seen on the very next request.
 *
 * <p>The data is read after the version, so it is never older than its label: at worst newer,
 * which only makes the next version check reload once more. Thread-safe: snapshots are immutable
 * and swapped whole; one reload at a time.
 *
 * @param <T> the immutable snapshot
 */
public final class VersionedSnapshot<T> {

  private record Held<T>(long version, T value) {}

  private final Supplier<T> load;
  private volatile Held<T> held;

  /** Starts with {@code initial}, which every real version replaces. */
  public VersionedSnapshot(T initial, Supplier<T> load) {
    this.load = load;
    this.held = new Held<>(Long.MIN_VALUE, initial);
  }

  /** The snapshot for this store version, reloading when it changed. */
  public T at(long version) {
    Held<T> h = held;
    if (h.version() == version) {
      return h.value();
    }
    synchronized (this) {
      h = held;
      if (h.version() != version) {
        h = new Held<>(version, load.get());
        held = h;
      }
      return h.value();
    }
  }

  /** The latest snapshot loaded, without asking the store. */
  public T current() {
    return held.value();
  }
}

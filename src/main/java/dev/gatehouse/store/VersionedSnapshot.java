package dev.gatehouse.store;

import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Data read from a store and kept in memory, so that the request path reads it without asking the
 * store. Whoever hears of a change ({@link ChangeSource}, or a timer) calls {@link #refresh}, which
 * reloads only when the store's version moved.
 *
 * <p>The data is read after the version, so it is never older than its label: at worst newer, which
 * only makes the next refresh reload once more. When the store cannot answer a refresh, the
 * snapshot is marked failed and {@link #current} throws until a refresh succeeds: a reader that
 * cannot learn of a revocation refuses rather than trusting old data (fail closed).
 *
 * <p>A store over the network ({@link ChangeSource#maxStale}, PostgreSQL's {@code store.max_stale})
 * may instead let the snapshot serve for a bounded window: {@link #current} answers while the last
 * refresh that reached the store is at most {@code maxStale} old, whether later ones failed or have
 * not finished (a server gone silent), and throws once it is older. Within the window the answer is
 * the one that refresh gave, as if the outage had begun then. The age is measured on the monotonic
 * clock, never a clock a test or an operator moves.
 *
 * <p>The version is read through a probe opened on the first refresh and reopened after a failure.
 * Refreshes and {@link #release} run on one thread (the store watch's), so the probe is only ever
 * used by it. Reads are thread-safe: snapshots are immutable and swapped whole.
 *
 * @param <T> the immutable snapshot
 */
public final class VersionedSnapshot<T> {

  /**
   * One refresh's outcome: the data, and {@code freshNanos}, when the last refresh that reached the
   * store began ({@link System#nanoTime}; {@link Long#MIN_VALUE} before the first).
   */
  private record Held<T>(
      long version, T value, @Nullable StoreException failure, long freshNanos, boolean loaded) {}

  private final Supplier<KeyStore.VersionProbe> openProbe;
  private final Supplier<T> load;
  private final long maxStaleNanos;
  private final java.util.function.LongSupplier nanoTime;
  private volatile Held<T> held;
  private KeyStore.@Nullable VersionProbe probe;

  /** Starts with {@code initial}, which the first refresh replaces; refuses on a failed refresh. */
  public VersionedSnapshot(T initial, Supplier<KeyStore.VersionProbe> openProbe, Supplier<T> load) {
    this(initial, openProbe, load, java.time.Duration.ZERO, System::nanoTime);
  }

  /**
   * As {@link #VersionedSnapshot(Object, Supplier, Supplier)}, serving for {@code maxStale} after
   * the last refresh that reached the store (zero: refuses at once on a failed refresh).
   */
  public VersionedSnapshot(
      T initial,
      Supplier<KeyStore.VersionProbe> openProbe,
      Supplier<T> load,
      java.time.Duration maxStale,
      java.util.function.LongSupplier nanoTime) {
    this.openProbe = openProbe;
    this.load = load;
    this.maxStaleNanos = maxStale.toNanos();
    this.nanoTime = nanoTime;
    this.held = new Held<>(Long.MIN_VALUE, initial, null, Long.MIN_VALUE, false);
  }

  /**
   * Reads the version and reloads when it changed (or the last refresh failed). Never throws: a
   * failure is kept, and {@link #current} reports it.
   *
   * @return true when the data was reloaded
   */
  public boolean refresh() {
    Held<T> h = held;
    long began = nanoTime.getAsLong(); // the data read below is at least this fresh
    try {
      long v = version();
      if (v == h.version() && h.failure() == null) {
        held = new Held<>(v, h.value(), null, began, true);
        return false;
      }
      held = new Held<>(v, load.get(), null, began, true);
      return true;
    } catch (StoreException e) {
      held = new Held<>(h.version(), h.value(), e, h.freshNanos(), h.loaded());
      return false;
    }
  }

  private long version() {
    if (probe == null) {
      probe = openProbe.get();
    }
    try {
      return probe.version();
    } catch (StoreException e) {
      release(); // reopened on the next refresh
      throw e;
    }
  }

  /** Closes the probe; a later refresh opens a new one. */
  public void release() {
    if (probe != null) {
      probe.close();
      probe = null;
    }
  }

  /**
   * The snapshot as of the last refresh.
   *
   * @throws StoreException when the last refresh failed: the caller must refuse
   */
  public T current() {
    Held<T> h = held;
    if (maxStaleNanos <= 0) {
      if (h.failure() != null) {
        throw h.failure();
      }
      return h.value();
    }
    if (!h.loaded()) {
      throw h.failure() != null
          ? h.failure()
          : new StoreException("the store has not been read yet", null);
    }
    long age = nanoTime.getAsLong() - h.freshNanos();
    if (age > maxStaleNanos) {
      // Past the window nobody is let in on old data: the store may hold a revocation or a ban
      // this snapshot does not.
      String why = h.failure() != null ? h.failure().getMessage() : "no answer";
      throw new StoreException(
          "the store has not answered for "
              + age / 1_000_000
              + " ms (store.max_stale "
              + maxStaleNanos / 1_000_000
              + " ms): "
              + why,
          h.failure());
    }
    return h.value();
  }

  /**
   * Whether the last refresh reached the store and {@link #current} answers; false while the store
   * fails (even inside the {@code maxStale} window) or before the first refresh. Never throws.
   */
  public boolean healthy() {
    Held<T> h = held;
    if (!h.loaded() || h.failure() != null) {
      return false;
    }
    try {
      current();
      return true;
    } catch (StoreException e) {
      return false;
    }
  }

  /** Why the store is not {@link #healthy}, for logs and alerts; empty when it is. */
  public String problem() {
    Held<T> h = held;
    if (h.failure() != null) {
      return String.valueOf(h.failure().getMessage());
    }
    try {
      current();
      return "";
    } catch (StoreException e) {
      return String.valueOf(e.getMessage());
    }
  }

  /** The last snapshot loaded, even after a failed refresh (for counts, never for decisions). */
  public T last() {
    return held.value();
  }
}

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
 * <p>The version is read through a probe opened on the first refresh and reopened after a failure.
 * Refreshes and {@link #release} run on one thread (the store watch's), so the probe is only ever
 * used by it. Reads are thread-safe: snapshots are immutable and swapped whole.
 *
 * @param <T> the immutable snapshot
 */
public final class VersionedSnapshot<T> {

  private record Held<T>(long version, T value, @Nullable StoreException failure) {}

  private final Supplier<KeyStore.VersionProbe> openProbe;
  private final Supplier<T> load;
  private volatile Held<T> held;
  private KeyStore.@Nullable VersionProbe probe;

  /** Starts with {@code initial}, which the first refresh replaces. */
  public VersionedSnapshot(T initial, Supplier<KeyStore.VersionProbe> openProbe, Supplier<T> load) {
    this.openProbe = openProbe;
    this.load = load;
    this.held = new Held<>(Long.MIN_VALUE, initial, null);
  }

  /**
   * Reads the version and reloads when it changed (or the last refresh failed). Never throws: a
   * failure is kept, and {@link #current} reports it.
   *
   * @return true when the data was reloaded
   */
  public boolean refresh() {
    Held<T> h = held;
    try {
      long v = version();
      if (v == h.version() && h.failure() == null) {
        return false;
      }
      held = new Held<>(v, load.get(), null);
      return true;
    } catch (StoreException e) {
      held = new Held<>(h.version(), h.value(), e);
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
    if (h.failure() != null) {
      throw h.failure();
    }
    return h.value();
  }

  /** The last snapshot loaded, even after a failed refresh (for counts, never for decisions). */
  public T last() {
    return held.value();
  }
}

package dev.gatehouse.store;

/**
 * A store that tells its readers when keys or bans change, by this process or another, so that the
 * request path reads them from memory and never asks the store per request. SQLite signals the
 * other processes on its data directory ({@link LocalSignal}); a PostgreSQL store would use {@code
 * LISTEN/NOTIFY}, a Redis one pub/sub.
 *
 * <p><b>Threads.</b> Listeners run on the thread that made the change (a CLI command, the ban
 * writer) or on the thread that heard another process's signal, never on an event loop; the store
 * watch hands the reload to its own thread and waits for it there.
 */
public interface ChangeSource {

  /**
   * Calls {@code onChange} after every committed change to keys or bans. A write made through a
   * store returns only after the listeners it could reach have returned, so a change that has been
   * made is a change that is seen. Listeners must not write to the store.
   *
   * @return a handle whose {@code close} stops the calls
   */
  Subscription onChange(Runnable onChange);

  /**
   * How long readers may keep deciding from what they loaded once this store stops answering,
   * counted from their last refresh that reached it ({@link VersionedSnapshot}). Zero, the default
   * and SQLite's: a failed refresh refuses at once. A shared store over the network gives a window
   * ({@code store.max_stale}) so that a blip does not refuse every request (docs/store-postgres.md
   * says why that is safe).
   */
  default java.time.Duration maxStale() {
    return java.time.Duration.ZERO;
  }

  /** Stops the calls; never throws. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }
}

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

  /** Stops the calls; never throws. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }
}

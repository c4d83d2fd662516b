package dev.gatehouse.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where API keys live. The SQLite implementation is the default; the interface is what lets a
 * shared PostgreSQL or Redis store replace it when several gateways run side by side.
 *
 * <p>Every method either succeeds or throws {@link StoreException}; callers on the request path
 * treat an exception as "deny".
 *
 * <p><b>Threads.</b> Never called on an event loop, so an implementation may block or ask the
 * network. The gateway reads it only on the store watch's thread ({@link StoreWatch}: {@link #list}
 * and the version probe), to refresh the key ring that the request path reads from memory; the CLI
 * reads and writes it on its own thread. The SQLite store refuses an event-loop caller.
 */
public interface KeyStore extends ChangeSource {

  /** All keys, newest first. */
  List<KeyRecord> list();

  Optional<KeyRecord> find(String id);

  void insert(KeyRecord key);

  /** Marks a key revoked; returns false when there is no such key or it already was revoked. */
  boolean revoke(String id, Instant at);

  /**
   * Atomically stores {@code replacement} and makes {@code oldId} stop working at {@code
   * oldExpiresAt} (now, for no grace period).
   */
  void rotate(String oldId, KeyRecord replacement, Instant oldExpiresAt);

  /**
   * Opens a probe that answers "which version of the key set is current?", so that a reader told of
   * a change ({@link ChangeSource#onChange}) reloads only what changed. Not for the request path:
   * readers keep a snapshot in memory. One probe per thread; a probe is not thread-safe.
   */
  VersionProbe openVersionProbe();

  /** A cheap, per-thread reader of the key-set version. */
  interface VersionProbe extends AutoCloseable {
    long version();

    @Override
    void close();
  }
}

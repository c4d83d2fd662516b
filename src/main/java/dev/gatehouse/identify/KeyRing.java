package dev.gatehouse.identify;

import dev.gatehouse.config.AddressSet;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.store.KeyRecord;
import dev.gatehouse.store.KeyStore;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * An in-memory snapshot of all keys, reloaded from the {@link KeyStore} whenever the store's
 * version changes. Thread-safe: snapshots are immutable and swapped whole.
 */
public final class KeyRing {

  /** One key as the request path needs it: the stored record and its prepared principal. */
  record Entry(KeyRecord record, Principal principal) {}

  record Snapshot(long version, Map<String, Entry> byId) {}

  private final KeyStore store;
  private volatile Snapshot snapshot = new Snapshot(Long.MIN_VALUE, Map.of());

  public KeyRing(KeyStore store) {
    this.store = store;
  }

  /**
   * The snapshot for this store version, reloading when it changed. The list read after the
   * version is never older than it, so a snapshot can only be newer than its label, and a newer
   * label simply triggers another reload.
   */
  Snapshot at(long version) {
    Snapshot s = snapshot;
    if (s.version() == version) {
      return s;
    }
    synchronized (this) {
      s = snapshot;
      if (s.version() != version) {
        Map<String, Entry> byId = new HashMap<>();
        for (KeyRecord k : store.list()) {
          byId.put(
              k.id(),
              new Entry(
                  k,
                  new Principal(
                      k.id(),
                      k.name(),
                      java.util.Collections.unmodifiableSet(new LinkedHashSet<>(k.scopes())),
                      new ModelGlobs(k.models()),
                      k.expiresAt(),
                      k.limits() == null ? KeyLimits.NONE : k.limits(),
                      k.networks().isEmpty() ? null : AddressSet.parse(k.networks()))));
        }
        s = new Snapshot(version, Map.copyOf(byId));
        snapshot = s;
      }
      return s;
    }
  }
}

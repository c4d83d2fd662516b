package dev.gatehouse.identify;

import dev.gatehouse.config.AddressSet;
import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.store.KeyRecord;
import dev.gatehouse.store.KeyStore;
import dev.gatehouse.store.StoreException;
import dev.gatehouse.store.StoreWatch;
import dev.gatehouse.store.VersionedSnapshot;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * An in-memory snapshot of all keys, reloaded from the {@link KeyStore} when the store's version
 * moved ({@link #refresh}, called by the store watch). The request path only reads it. Thread-safe:
 * snapshots are immutable and swapped whole.
 */
public final class KeyRing implements StoreWatch.Reader {

  /** One key as the request path needs it: the stored record and its prepared principal. */
  record Entry(KeyRecord record, Principal principal) {}

  private final KeyStore store;
  private final VersionedSnapshot<Map<String, Entry>> byId;

  public KeyRing(KeyStore store) {
    this.store = store;
    // Keys keep serving from memory for store.max_stale once a shared store stops answering
    // (zero for SQLite: at once refused); after that nobody is authenticated (fail closed).
    this.byId =
        new VersionedSnapshot<>(
            Map.of(), store::openVersionProbe, this::load, store.maxStale(), System::nanoTime);
  }

  /**
   * The keys by id, as of the last refresh.
   *
   * @throws StoreException when the last refresh failed: nobody is authenticated (fail closed)
   */
  Map<String, Entry> current() {
    return byId.current();
  }

  /**
   * Throws unless the last refresh succeeded: a gateway whose store cannot answer at start does not
   * start.
   */
  public void requireLoaded() {
    byId.current();
  }

  @Override
  public void refresh() {
    byId.refresh();
  }

  @Override
  public void release() {
    byId.release();
  }

  @Override
  public boolean healthy() {
    return byId.healthy();
  }

  @Override
  public String problem() {
    String p = byId.problem();
    return p.isEmpty() ? p : "keys: " + p;
  }

  private Map<String, Entry> load() {
    Map<String, Entry> out = new HashMap<>();
    for (KeyRecord k : store.list()) {
      out.put(
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
                  k.networks().isEmpty() ? null : AddressSet.parse(k.networks()),
                  k.guard())));
    }
    return Map.copyOf(out);
  }
}

package dev.gatehouse.identify;

import dev.gatehouse.config.AddressSet;
import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.store.KeyRecord;
import dev.gatehouse.store.KeyStore;
import dev.gatehouse.store.VersionedSnapshot;
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

  private final KeyStore store;
  private final VersionedSnapshot<Map<String, Entry>> byId = new VersionedSnapshot<>(Map.of(), this::load);

  public KeyRing(KeyStore store) {
    this.store = store;
  }

  /** The keys by id, as of this store version (reloaded when it changed). */
  Map<String, Entry> at(long version) {
    return byId.at(version);
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

package dev.gatehouse.abuse;

import dev.gatehouse.config.IpAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Per-client state with a bound on memory: at most {@code max} addresses, and entries idle for
 * longer than {@code ttlMillis} are dropped when room is needed (at most once a second, so that a
 * flood of new addresses cannot make every request sweep the table). When the table is full of live
 * entries, new addresses go untracked: the detectors are evidence gatherers, and losing some under
 * a flood of many addresses is better than running out of memory. Thread-safe; callers synchronize
 * on the state object itself.
 */
final class ClientTable<S extends ClientTable.Entry> {

  /** State that knows when it was last touched. */
  interface Entry {
    long lastMillis();
  }

  private final ConcurrentHashMap<IpAddress, S> map = new ConcurrentHashMap<>();
  private final int max;
  private final long ttlMillis;
  private final Supplier<S> create;
  private final AtomicLong lastSweep = new AtomicLong();

  ClientTable(int max, long ttlMillis, Supplier<S> create) {
    this.max = max;
    this.ttlMillis = ttlMillis;
    this.create = create;
  }

  /** The state for {@code a}, created if there is room; null when there is none. */
  @Nullable S get(IpAddress a, long now) {
    S s = map.get(a);
    if (s != null) {
      return s;
    }
    if (map.size() >= max) {
      long last = lastSweep.get();
      if (now - last >= 1000 && lastSweep.compareAndSet(last, now)) {
        map.values().removeIf(e -> now - e.lastMillis() > ttlMillis);
      }
      if (map.size() >= max) {
        return null;
      }
    }
    return map.computeIfAbsent(a, k -> create.get());
  }

  void remove(IpAddress a) {
    map.remove(a);
  }

  int size() {
    return map.size();
  }
}

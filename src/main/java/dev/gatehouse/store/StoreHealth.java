package dev.gatehouse.store;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Whether the store behind the in-memory readers (the key ring, the ban list) answers: for {@code
 * /readyz} (the part named {@code store}), the gauge {@code gatehouse_store_up} and the {@code
 * dependency_down}/{@code dependency_up} alert. Reads only what the readers hold, so it never
 * blocks and may be asked on an event loop. Thread-safe.
 */
public final class StoreHealth {

  /** Told of each change between up and down, with what failed (or recovered). */
  public interface Transitions {
    void changed(boolean up, String detail);
  }

  private final List<StoreWatch.Reader> readers;
  private final Transitions transitions;

  /** The state last reported: 1 up, 0 down, -1 before the first {@link #check}. */
  private final AtomicInteger reported = new AtomicInteger(-1);

  public StoreHealth(List<StoreWatch.Reader> readers, Transitions transitions) {
    this.readers = List.copyOf(readers);
    this.transitions = transitions;
  }

  /** True when every reader's last refresh reached the store and none is past its window. */
  public boolean up() {
    for (StoreWatch.Reader r : readers) {
      if (!r.healthy()) {
        return false;
      }
    }
    return true;
  }

  /** What is wrong, reader by reader; empty when up. */
  public String detail() {
    StringBuilder b = new StringBuilder();
    for (StoreWatch.Reader r : readers) {
      String p = r.problem();
      if (!p.isEmpty()) {
        b.append(b.isEmpty() ? "" : "; ").append(p);
      }
    }
    return b.toString();
  }

  /**
   * Compares the state with the last one reported and tells {@link Transitions} when it changed.
   * The first check reports only a store that is down (a start with a healthy store is no news).
   */
  public void check() {
    boolean up = up();
    int now = up ? 1 : 0;
    int before = reported.getAndSet(now);
    if (before == now || (before == -1 && up)) {
      return;
    }
    transitions.changed(up, up ? "the store answers again" : detail());
  }
}

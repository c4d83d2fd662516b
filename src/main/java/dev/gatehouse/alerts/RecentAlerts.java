package dev.gatehouse.alerts;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The most recent alerts, in memory, for the admin API's {@code /api/v1/alerts}: a ring of at most
 * {@code capacity}, so a storm of alerts costs bounded memory. Adding is one short lock and never
 * blocks on I/O, so it may run where alerts fire (on an event loop). Thread-safe.
 */
public final class RecentAlerts {

  /** How many alerts the engine keeps. */
  public static final int CAPACITY = 200;

  private final int capacity;
  private final ArrayDeque<Alert> ring;

  public RecentAlerts(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
    }
    this.capacity = capacity;
    this.ring = new ArrayDeque<>(capacity);
  }

  /** Keeps {@code a}, dropping the oldest when full. */
  public synchronized void add(Alert a) {
    if (ring.size() == capacity) {
      ring.removeFirst();
    }
    ring.addLast(a);
  }

  /** A copy of what is kept, most recent first. */
  public synchronized List<Alert> newestFirst() {
    List<Alert> out = new ArrayList<>(ring.size());
    for (Iterator<Alert> it = ring.descendingIterator(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }
}

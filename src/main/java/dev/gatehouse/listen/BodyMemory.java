package dev.gatehouse.listen;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of request bodies held in memory at once, across every event loop ({@code
 * limits.body_memory}). JSON and multipart bodies are read whole before any policy decision, and
 * before the concurrency slot: without a bound, enough clients uploading at once would exhaust the
 * heap and take the gateway down for everyone. A body takes its declared length before a byte of it
 * is read (a chunked one takes each piece as it comes) and gives it back when its exchange ends;
 * one that would pass the bound is refused. One per gateway; thread-safe, lock-free.
 */
public final class BodyMemory {

  private final long limit;
  private final AtomicLong held = new AtomicLong();

  public BodyMemory(long limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("body memory must be positive: " + limit);
    }
    this.limit = limit;
  }

  /** The bound, in bytes. */
  public long limit() {
    return limit;
  }

  /** The bytes held now. */
  public long held() {
    return held.get();
  }

  /**
   * Takes {@code bytes} if the bound allows; the caller gives them back with {@link #give} once.
   */
  public boolean take(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("negative size: " + bytes);
    }
    long now;
    do {
      now = held.get();
      if (now + bytes > limit || now + bytes < 0) {
        return false;
      }
    } while (!held.compareAndSet(now, now + bytes));
    return true;
  }

  /** Gives back bytes taken. */
  public void give(long bytes) {
    held.addAndGet(-bytes);
  }
}

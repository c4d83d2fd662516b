package dev.gatehouse.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Collects the gateway's access-log records (all levels) while open, or another logger's. */
public final class AccessLogCapture extends Handler implements AutoCloseable {

  private final Logger logger;
  private final Level previous;
  private final List<String> lines = new ArrayList<>();

  public AccessLogCapture() {
    this("gatehouse.access");
  }

  /** Captures the named logger instead, such as {@code gatehouse.abuse}. */
  public AccessLogCapture(String loggerName) {
    logger = Logger.getLogger(loggerName);
    previous = logger.getLevel();
    logger.setLevel(Level.FINE);
    setLevel(Level.ALL);
    logger.addHandler(this);
  }

  @Override
  public synchronized void publish(LogRecord r) {
    lines.add(r.getMessage());
  }

  /** Every record so far. */
  public synchronized List<String> lines() {
    return List.copyOf(lines);
  }

  /** Waits up to two seconds for a record containing every fragment; returns it or null. */
  public String await(String... fragments) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      for (String l : lines()) {
        boolean all = true;
        for (String f : fragments) {
          all &= l.contains(f);
        }
        if (all) {
          return l;
        }
      }
      Thread.sleep(20);
    }
    return null;
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    logger.removeHandler(this);
    logger.setLevel(previous);
  }
}

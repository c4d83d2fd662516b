package dev.gatehouse.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * "Keys or bans just changed" between the gateways and CLI commands that share one PostgreSQL
 * database, by {@code LISTEN/NOTIFY}: what {@link LocalSignal} is for processes on one SQLite data
 * directory.
 *
 * <p>A write that changes keys or bans sends {@code NOTIFY gatehouse_changes} in its own
 * transaction, so the notification is delivered exactly when the change is committed (and never for
 * a change rolled back). Its payload names the writing store instance and the change. Each
 * subscribed store holds one dedicated listening connection on a daemon thread ({@code
 * gatehouse-store-listen}); on a notification from another instance it runs the listeners (the
 * store watch's reload, which returns when the reload is done), then answers {@code NOTIFY
 * gatehouse_acks} with the change's id. The writer waits (at most {@link #ANSWER_MILLIS}) for the
 * answers of the listeners it counted before committing, so when {@code gatehouse keys revoke}
 * returns, every running gateway already refuses the key, as with SQLite.
 *
 * <p>After the listening connection drops (PostgreSQL restarted, the session ended, the network
 * gone), the thread reconnects with a backoff, and then runs the listeners once: notifications sent
 * while it was away are lost. The store watch's once-a-second version check is the safety net in
 * between.
 */
final class PostgresChanges implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse.store");

  /** The channel a committed change notifies. */
  static final String CHANNEL = "gatehouse_changes";

  /** The channel listeners answer on, once they have reloaded. */
  static final String ACKS = "gatehouse_acks";

  /** The application name of listening connections, by which a writer counts them. */
  static final String LISTENER_NAME = "gatehouse-listen";

  /** How long a writer waits for the listeners' answers before going on without them. */
  static final long ANSWER_MILLIS = 5_000;

  /** How long the listener waits for a notification before checking its connection is alive. */
  private static final int POLL_MILLIS = 500;

  private static final long IDLE_CHECK_MILLIS = 5_000;
  private static final long MAX_BACKOFF_MILLIS = 5_000;

  /** Opens a dedicated connection (not from the pool) named {@link #LISTENER_NAME}. */
  interface Connector {
    Connection open() throws SQLException;
  }

  private final Connector connector;
  private final String instance;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  /** The listening thread; null until the first subscription. Guarded by this. */
  private @Nullable Thread thread;

  private volatile boolean closed;

  /** The backend pid of the listening connection now, or -1 when there is none. */
  private volatile int listenerPid = -1;

  /** The connection being listened on, closed by {@link #close} to end the wait. */
  private volatile @Nullable Connection listening;

  PostgresChanges(Connector connector, String instance) {
    this.connector = connector;
    this.instance = instance;
  }

  /** Adds a listener and starts listening (once). */
  ChangeSource.Subscription subscribe(Runnable onChange) {
    listeners.add(onChange);
    synchronized (this) {
      if (thread == null && !closed) {
        Thread t = new Thread(this::listen, "gatehouse-store-listen");
        t.setDaemon(true);
        thread = t;
        t.start();
      }
    }
    return () -> listeners.remove(onChange);
  }

  /** This instance's own listening connection, which a writer of this instance does not count. */
  int listenerPid() {
    return listenerPid;
  }

  /** Runs this process's listeners now (after a write through this instance). */
  void fireLocal() {
    for (Runnable l : listeners) {
      try {
        l.run();
      } catch (RuntimeException e) {
        LOG.warning("store change listener failed: " + e.getMessage());
      }
    }
  }

  /** The payload of a change's notification: who wrote it, and which change it is. */
  String payload(String changeId) {
    return instance + ":" + changeId;
  }

  /**
   * Counts the other listening connections on this database now, in the writer's transaction
   * (before it commits, so every listener counted receives the notification).
   */
  int countListeners(Connection c) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND application_name = ? AND pid <> ?")) {
      ps.setString(1, LISTENER_NAME);
      ps.setInt(2, listenerPid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      }
    }
  }

  /**
   * Waits on the writer's connection (which listens on {@link #ACKS} since before its transaction)
   * until {@code expected} listeners have answered {@code changeId}, at most {@link
   * #ANSWER_MILLIS}. Never throws: the change is committed already, and a gateway that did not
   * answer still sees it on its next check.
   */
  static void awaitAnswers(Connection c, String changeId, int expected) {
    if (expected <= 0) {
      return;
    }
    long deadline = System.nanoTime() + ANSWER_MILLIS * 1_000_000;
    int answered = 0;
    try {
      PGConnection pg = c.unwrap(PGConnection.class);
      while (answered < expected) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          LOG.warning(
              answered
                  + " of "
                  + expected
                  + " gateways confirmed a store change within "
                  + ANSWER_MILLIS
                  + " ms; the others see it on their next check");
          return;
        }
        PGNotification[] got = pg.getNotifications((int) Math.max(1, left));
        if (got == null) {
          continue;
        }
        for (PGNotification n : got) {
          if (ACKS.equals(n.getName()) && changeId.equals(n.getParameter())) {
            answered++;
          }
        }
      }
    } catch (SQLException e) {
      LOG.fine("waiting for answers to a store change: " + e.getMessage());
    }
  }

  private void listen() {
    long backoff = 250;
    boolean missed = false;
    while (!closed) {
      try (Connection c = connector.open()) {
        listening = c;
        try (Statement st = c.createStatement()) {
          st.execute("LISTEN " + CHANNEL);
        }
        PGConnection pg = c.unwrap(PGConnection.class);
        listenerPid = pg.getBackendPID();
        backoff = 250;
        if (missed) {
          // Changes made while this connection was away were not heard: reload once.
          LOG.info("listening for store changes again");
          fireLocal();
          missed = false;
        }
        serve(c, pg);
      } catch (SQLException | RuntimeException e) {
        listenerPid = -1;
        listening = null;
        if (closed) {
          return;
        }
        if (!missed) {
          LOG.warning(
              "store change listener lost its connection (reconnecting; the once-a-second"
                  + " check covers the gap): "
                  + e.getMessage());
        }
        missed = true;
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException ie) {
          return;
        }
        backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
      }
    }
  }

  /** Waits for notifications on one connection until it fails (throws) or the store closes. */
  private void serve(Connection c, PGConnection pg) throws SQLException {
    long quietSince = System.nanoTime();
    while (!closed) {
      PGNotification[] got = pg.getNotifications(POLL_MILLIS);
      if (got == null || got.length == 0) {
        if (System.nanoTime() - quietSince > IDLE_CHECK_MILLIS * 1_000_000) {
          // A connection cut without a word (a lost network) reports nothing: ask it something.
          try (Statement st = c.createStatement()) {
            st.execute("SELECT 1");
          }
          quietSince = System.nanoTime();
        }
        continue;
      }
      quietSince = System.nanoTime();
      List<String> answers = new ArrayList<>();
      for (PGNotification n : got) {
        String p = n.getParameter();
        int colon = p == null ? -1 : p.lastIndexOf(':');
        if (!CHANNEL.equals(n.getName()) || colon < 0) {
          continue;
        }
        if (!p.substring(0, colon).equals(instance)) {
          answers.add(p.substring(colon + 1)); // this instance's own writes fired already
        }
      }
      if (answers.isEmpty()) {
        continue;
      }
      fireLocal();
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
        for (String id : answers) {
          ps.setString(1, ACKS);
          ps.setString(2, id);
          ps.execute();
        }
      }
    }
  }

  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      closed = true;
      t = thread;
    }
    Connection c = listening;
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        // closing a listener cannot lose data
      }
    }
    if (t != null) {
      t.interrupt();
      try {
        t.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}

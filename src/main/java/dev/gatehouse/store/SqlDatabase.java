package dev.gatehouse.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * A JDBC store's pooled connections (SQLite or PostgreSQL; each refuses an event-loop caller), and
 * the one way a multi-statement write runs on them: {@link #inTransaction}. Both stores and {@link
 * JdbcAdminStore} use it.
 */
@FunctionalInterface
interface SqlDatabase {

  /** Work on one connection that answers a value. */
  interface SqlCall<T> {
    T run(Connection c) throws SQLException;
  }

  /** A pooled connection; refuses an event-loop caller. */
  Connection connection() throws SQLException;

  /**
   * Runs {@code call} in one transaction on a pooled connection and answers its value; a failure is
   * rolled back and thrown as a {@link StoreException} whose message starts with {@code failure}.
   * (SQLite's transactions are IMMEDIATE, the pool's pragma, so the write lock is held from the
   * first read.)
   */
  default <T> T inTransaction(String failure, SqlCall<T> call) {
    try (Connection c = connection()) {
      c.setAutoCommit(false);
      try {
        T result = call.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new StoreException(failure + ": " + e.getMessage(), e);
    }
  }

  /** Sets {@code args} as the statement's parameters, in order (a query built with its args). */
  static void bind(PreparedStatement ps, List<Object> args) throws SQLException {
    for (int i = 0; i < args.size(); i++) {
      ps.setObject(i + 1, args.get(i));
    }
  }
}

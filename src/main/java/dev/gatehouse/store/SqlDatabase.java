package dev.gatehouse.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * What the two JDBC stores (SQLite and PostgreSQL) offer the tables they share a database with: a
 * pooled connection, which refuses an event-loop caller, and one transaction that answers a value.
 * {@link JdbcAdminStore} is written once against it (the stores keep these methods package-private
 * and hand them over in its factories).
 */
interface SqlDatabase {

  /** Work on one connection that answers a value. */
  interface SqlCall<T> {
    T run(Connection c) throws SQLException;
  }

  /** A pooled connection; refuses an event-loop caller. */
  Connection connection() throws SQLException;

  /**
   * Runs {@code call} in one transaction and answers its value; a failure is rolled back and thrown
   * as a {@link StoreException} whose message starts with {@code failure}.
   */
  <T> T inTransaction(String failure, SqlCall<T> call);
}

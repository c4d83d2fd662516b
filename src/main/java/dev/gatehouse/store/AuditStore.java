package dev.gatehouse.store;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Where audit records are kept for querying: each row carries the record's indexed fields and the
 * exact JSON line (hash included) that the chain covers. Rows are appended, by one writer, and
 * removed only from the oldest end, by retention. Implementations are thread-safe.
 *
 * <p><b>Threads.</b> Never called on an event loop, so an implementation may block or ask the
 * network. The request path queues its audit record with the audit writer, whose own thread ({@code
 * gatehouse-audit}) appends, prunes and catches up here, in batches; {@link #keyAddressesSince} is
 * read once at start (alerting); the queries are the CLI's and the admin API's (on a worker). The
 * SQLite store refuses an event-loop caller.
 */
public interface AuditStore {

  /** Keeps nothing: for a gateway whose store has no audit table (the JSONL file still has all). */
  AuditStore NONE =
      new AuditStore() {
        @Override
        public void appendAudit(List<AuditRow> rows) {}

        @Override
        public long pruneAudit(long throughSeq) {
          return 0;
        }

        @Override
        public long lastAuditSeq() {
          return 0;
        }

        @Override
        public void forEachAuditRow(Consumer<AuditRow> each) {}

        @Override
        public List<AuditRow> queryAudit(AuditQuery q) {
          return List.of();
        }

        @Override
        public List<AuditSummary> summarizeAudit(@Nullable String since, @Nullable String until) {
          return List.of();
        }
      };

  /**
   * Which rows to return; null fields match everything. {@code since} and {@code until} are times
   * in the log's format (or a prefix of one: a date), inclusive and exclusive.
   */
  record AuditQuery(
      @Nullable String keyId,
      @Nullable String ip,
      @Nullable Integer status,
      @Nullable String reason,
      @Nullable String since,
      @Nullable String until,
      int limit) {}

  /** Requests, refusals and tokens of one key and model on one UTC day. */
  record AuditSummary(
      String day,
      String keyId,
      String model,
      long requests,
      long refused,
      long tokensIn,
      long tokensOut) {}

  /** One key and one address it was used from. */
  record KeyAddress(String keyId, String ip) {}

  /**
   * The distinct key and address pairs of records since {@code since} (a time in the log's format),
   * for remembering which networks each key is used from. None by default.
   */
  default List<KeyAddress> keyAddressesSince(String since) {
    return List.of();
  }

  /** How many records one key id or one client address has. */
  record Count(String value, long requests) {}

  /**
   * The key ids with the most records since {@code since} (a time in the log's format), most first,
   * at most {@code limit}: the admin overview's top keys. None by default.
   */
  default List<Count> topKeysSince(String since, int limit) {
    return List.of();
  }

  /** As {@link #topKeysSince}, for client addresses. None by default. */
  default List<Count> topAddressesSince(String since, int limit) {
    return List.of();
  }

  /** The record with this sequence number, if it is stored. None by default. */
  default Optional<AuditRow> auditRow(long seq) {
    return Optional.empty();
  }

  /**
   * One audit record: the columns that are indexed, and the whole record as written ({@code keyId}
   * null when no valid key was given).
   */
  record AuditRow(
      long seq,
      String time,
      String requestId,
      String ip,
      @Nullable String keyId,
      int status,
      String reason,
      String line) {}

  /** Appends rows in one transaction. */
  void appendAudit(List<AuditRow> rows);

  /**
   * Deletes the rows with sequence numbers up to {@code throughSeq} (retention: a signed anchor
   * already records that they were pruned). Returns how many were deleted.
   */
  long pruneAudit(long throughSeq);

  /** The highest sequence number stored, or 0 for none. */
  long lastAuditSeq();

  /** Every row, in the order it was inserted. */
  void forEachAuditRow(Consumer<AuditRow> each);

  /** The newest rows that match, newest first, at most {@code q.limit()}. */
  List<AuditRow> queryAudit(AuditQuery q);

  /** Totals per UTC day, key and model over {@code [since, until)} (null: unbounded). */
  List<AuditSummary> summarizeAudit(@Nullable String since, @Nullable String until);
}

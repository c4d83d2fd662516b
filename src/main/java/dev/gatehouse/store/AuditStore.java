package dev.gatehouse.store;

import java.nio.file.Path;
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
 *
 * <p><b>Chains.</b> Each gateway writes its own hash chain, named by its instance id ({@code
 * instance.id}). A store of one writer (SQLite) holds one chain, {@link #LOCAL}, whose checkpoints
 * are in the file beside it. A store that several gateways share (PostgreSQL) holds one chain per
 * instance, and a copy of each one's signed checkpoints, so that {@code audit verify} on any
 * machine can check them all; the writing methods and {@link #lastAuditSeq} act on this store's own
 * chain ({@link #auditInstance}), the queries span every chain.
 */
public interface AuditStore {

  /** The name of the one chain in a store of one writer. */
  String LOCAL = "";

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
      int limit) {

    /**
     * The filters given, as SQL conditions that each begin with {@code " AND "}, their values added
     * to {@code args} in order; a filter not given adds nothing, so that each query can use the
     * index of its column (a condition such as {@code (? IS NULL OR key_id = ?)} cannot).
     */
    String conditions(List<Object> args) {
      StringBuilder sql = new StringBuilder();
      condition(sql, args, "key_id = ?", keyId);
      condition(sql, args, "ip = ?", ip);
      condition(sql, args, "status = ?", status);
      condition(sql, args, "reason = ?", reason);
      timeBounds(sql, args, since, until);
      return sql.toString();
    }

    /**
     * The time bounds given ({@code since} inclusive, {@code until} exclusive), as {@link
     * #conditions} writes them.
     */
    static void timeBounds(
        StringBuilder sql, List<Object> args, @Nullable String since, @Nullable String until) {
      condition(sql, args, "time >= ?", since);
      condition(sql, args, "time < ?", until);
    }

    /** Appends {@code " AND " + condition} and adds {@code value} to {@code args}, unless null. */
    private static void condition(
        StringBuilder sql, List<Object> args, String condition, @Nullable Object value) {
      if (value != null) {
        sql.append(" AND ").append(condition);
        args.add(value);
      }
    }
  }

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

  /**
   * The record with this sequence number, if it is stored (several chains: this store's own, else
   * the first instance's that has one). None by default.
   */
  default Optional<AuditRow> auditRow(long seq) {
    return Optional.empty();
  }

  /**
   * One audit record: the columns that are indexed, and the whole record as written ({@code keyId}
   * null when no valid key was given).
   *
   * <p>{@code lineAt}: where the writer put {@code line} in the file that holds its seq (a byte
   * offset), or -1 when not known. A store that reads lines from the files ({@link
   * #readsLinesFrom}) keeps that offset instead of the line, and gives rows back with their lines
   * read from there. {@code model}, {@code tokensIn} and {@code tokensOut} are the record's (-1:
   * not known), for the summaries of such a store; a row read back need not carry them.
   */
  record AuditRow(
      long seq,
      String time,
      String requestId,
      String ip,
      @Nullable String keyId,
      int status,
      String reason,
      String line,
      long lineAt,
      @Nullable String model,
      long tokensIn,
      long tokensOut) {

    /** A row with its line alone (no offset, nor the summaries' fields). */
    public AuditRow(
        long seq,
        String time,
        String requestId,
        String ip,
        @Nullable String keyId,
        int status,
        String reason,
        String line) {
      this(seq, time, requestId, ip, keyId, status, reason, line, -1, null, -1, -1);
    }
  }

  /**
   * Whether this store gives back the lines of rows written with an offset ({@link
   * AuditRow#lineAt}) by reading them from the audit log's files in {@code dir}, rather than
   * keeping a copy of each. The writer sets offsets only when it writes its files there. No by
   * default: a store other machines read (PostgreSQL) keeps the lines.
   */
  default boolean readsLinesFrom(Path dir) {
    return false;
  }

  /** The instance whose chain this store appends to; {@link #LOCAL} in a store of one writer. */
  default String auditInstance() {
    return LOCAL;
  }

  /**
   * The chains this store holds (every instance with rows or checkpoints in it), sorted. A store of
   * one writer holds one, its own.
   */
  default List<String> auditChains() {
    return List.of(auditInstance());
  }

  /**
   * Reads one chain as it stands at one moment: first its checkpoint and pruning-anchor lines (as
   * the checkpoint file has them), then its rows in seq order. A shared store reads both in one
   * snapshot, so that a checkpoint or a pruning that lands meanwhile is seen whole or not at all.
   * By default: this store's own rows and no checkpoints (they are in the file beside it).
   */
  default void readChain(String instance, Consumer<String> checkpoints, Consumer<AuditRow> rows) {
    if (instance.equals(auditInstance())) {
      forEachAuditRow(rows);
    }
  }

  /**
   * Keeps a copy of one of this chain's signed checkpoint lines ({@code anchor}: a pruning anchor,
   * whose seq is the last pruned record's), once the rows it covers are stored. Keeping it twice is
   * harmless. Nothing by default: a store of one writer is checked against the file beside it.
   */
  default void appendCheckpoint(long seq, boolean anchor, String line) {}

  /** The checkpoint lines kept for this store's own chain, oldest first; none by default. */
  default List<String> checkpoints() {
    return List.of();
  }

  /** Appends rows in one transaction. */
  void appendAudit(List<AuditRow> rows);

  /**
   * Deletes the rows of this store's own chain with sequence numbers up to {@code throughSeq}
   * (retention: a signed anchor already records that they were pruned). Returns how many were
   * deleted.
   */
  long pruneAudit(long throughSeq);

  /** The highest sequence number stored (of this store's own chain), or 0 for none. */
  long lastAuditSeq();

  /** Every row of this store's own chain, in the order it was inserted. */
  void forEachAuditRow(Consumer<AuditRow> each);

  /** The newest rows that match, newest first, at most {@code q.limit()}. */
  List<AuditRow> queryAudit(AuditQuery q);

  /** Totals per UTC day, key and model over {@code [since, until)} (null: unbounded). */
  List<AuditSummary> summarizeAudit(@Nullable String since, @Nullable String until);
}

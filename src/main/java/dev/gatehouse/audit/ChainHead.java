package dev.gatehouse.audit;

import org.jspecify.annotations.Nullable;

/**
 * The head of the audit log's hash chain: the newest record's seq, hash and time. The next record
 * is chained to it. Found on start (see {@link AuditWriter}), then advanced by each written batch.
 * Written only by the writer thread (and by recovery, before it starts); not thread-safe.
 */
final class ChainHead {

  /** The newest record's seq; 0 for an empty log. */
  long seq;

  /** The newest record's hash: the next record's {@code prev}. */
  String hash = AuditChain.GENESIS;

  /** The newest record's time as written, or null when unknown. */
  @Nullable String time;
}

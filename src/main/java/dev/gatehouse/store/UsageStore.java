package dev.gatehouse.store;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Durable token and request usage, aggregated per key, model and UTC day.
 *
 * <p><b>Threads.</b> Never called on an event loop, so an implementation may block or ask the
 * network. Budgets are checked against the {@link UsageLedger}, not this store; {@link #addUsage}
 * is the usage flush, which drains the ledger's queue about once a second on a Vert.x worker thread
 * (and once at shutdown); {@link #tokensOn} is read once at start, to seed day budgets; {@link
 * #usageSince} is the CLI's. The SQLite store refuses an event-loop caller.
 */
public interface UsageStore {

  /** One aggregate row; adding rows sums them into what is stored. */
  record UsageRow(
      String keyId, String day, String model, long requests, long tokensIn, long tokensOut) {}

  /** Adds these increments in one transaction. */
  void addUsage(List<UsageRow> increments);

  /** Tokens (in plus out) per key on one day, for day budgets after a restart. */
  Map<String, Long> tokensOn(String day);

  /** Rows since a day (inclusive), for one key or all (keyId null), oldest first. */
  List<UsageRow> usageSince(String day, @Nullable String keyId);
}

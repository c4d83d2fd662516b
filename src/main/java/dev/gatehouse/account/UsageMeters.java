package dev.gatehouse.account;

import dev.gatehouse.exchange.Budgets;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.ResponseTap;
import dev.gatehouse.store.UsageLedger;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** Makes a {@link UsageMeter} for each request that costs tokens. Thread-safe. */
public final class UsageMeters {

  private final UsageLedger ledger;

  public UsageMeters(UsageLedger ledger) {
    this.ledger = ledger;
  }

  /** The meter for this request, or null for requests that cost no tokens. */
  public @Nullable ResponseTap meter(Exchange x, Budgets budgets) {
    Operation op = Objects.requireNonNull(x.route(), "authorize.route ran").operation();
    if (op != Operation.INFERENCE && op != Operation.EMBEDDINGS) {
      return null;
    }
    return new UsageMeter(
        ledger,
        Objects.requireNonNull(x.principal(), "identify.key ran").keyId(),
        x.modelName() != null ? x.modelName().recorded() : x.model(),
        budgets.perMinute(),
        budgets.perDay(),
        x.stripUsage());
  }
}

package dev.gatehouse.account;

import dev.gatehouse.audit.AuditRecord;
import dev.gatehouse.audit.AuditTimes;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.config.GatehouseConfig.AuditPrompt;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.FramingRefusal;
import dev.gatehouse.metrics.GatewayMetrics;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The account stage's one record per request: built once, then written to the audit log, counted in
 * the metrics and shown to the alert rules. Thread-safe.
 */
public final class Accounting {

  private final AuditWriter audit;
  private final GatewayMetrics metrics;
  private final Consumer<AuditRecord> alerts;
  private final AuditPrompt prompt;
  private final AuditTimes times = new AuditTimes();

  /**
   * @param alerts sees every record; must not block
   */
  public Accounting(
      AuditWriter audit, GatewayMetrics metrics, Consumer<AuditRecord> alerts, AuditPrompt prompt) {
    this.audit = audit;
    this.metrics = metrics;
    this.alerts = alerts;
    this.prompt = prompt;
  }

  /**
   * Records a finished request with the status it was answered with; call on its event loop, with
   * that loop's {@link #newTurn turn}. The future completes on the loop when the audit record is
   * durable.
   */
  public CompletableFuture<Void> record(Exchange x, int status, AuditTurn turn) {
    AuditRecord r = AuditRecord.of(x, status, prompt, times);
    CompletableFuture<Void> written = turn.append(r);
    metrics.record(r);
    alerts.accept(r);
    return written;
  }

  /**
   * Records a request the framing check refused before the pipeline saw it, as {@link #record} does
   * (audit log, metrics, alert rules); {@code ip} is its client's address as text. The record is
   * offered to the writer and nothing waits for it: the refusal serves nothing.
   */
  public CompletableFuture<Void> recordRefused(FramingRefusal refusal, String ip, AuditTurn turn) {
    AuditRecord r = AuditRecord.ofRefused(refusal, ip, times);
    CompletableFuture<Void> written = turn.append(r);
    metrics.record(r);
    alerts.accept(r);
    return written;
  }

  /** Whether the audit record captures the prompt (audit.prompt), so needs the policy fields. */
  public boolean capturesPrompts() {
    return prompt != AuditPrompt.NONE;
  }

  /** A hand-off of audit records for one event loop ({@link AuditTurn}). */
  public AuditTurn newTurn() {
    return new AuditTurn(audit, metrics);
  }

  /**
   * Whether a new request may be served: the audit log can record it (see {@link
   * AuditWriter#healthy()}). Non-blocking; any thread.
   */
  public boolean auditAvailable() {
    return audit.healthy();
  }

  /** Why the audit log cannot record requests now, for the log; null when it can. */
  public @Nullable String auditUnavailableReason() {
    return audit.unhealthyReason();
  }

  /** The metrics, for the stream gauge. */
  public GatewayMetrics metrics() {
    return metrics;
  }
}

package dev.gatehouse.audit;

import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.StoreException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A real audit store whose inserts fail while {@link #down} is set, as a database that cannot be
 * reached or written fails them: the way to a dropped backlog and a catch-up from the files.
 */
final class FlakyAuditStore implements AuditStore {
  final AtomicBoolean down = new AtomicBoolean();
  private final AuditStore real;

  FlakyAuditStore(AuditStore real) {
    this.real = real;
  }

  @Override
  public void appendAudit(List<AuditRow> rows) {
    if (down.get()) {
      throw new StoreException("the database is down (test)", null);
    }
    real.appendAudit(rows);
  }

  @Override
  public long pruneAudit(long throughSeq) {
    return real.pruneAudit(throughSeq);
  }

  @Override
  public long lastAuditSeq() {
    return real.lastAuditSeq();
  }

  @Override
  public void forEachAuditRow(Consumer<AuditRow> each) {
    real.forEachAuditRow(each);
  }

  @Override
  public List<AuditRow> queryAudit(AuditQuery q) {
    return real.queryAudit(q);
  }

  @Override
  public List<AuditSummary> summarizeAudit(@Nullable String since, @Nullable String until) {
    return real.summarizeAudit(since, until);
  }
}

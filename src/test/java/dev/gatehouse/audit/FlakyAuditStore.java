package dev.gatehouse.audit;

import dev.gatehouse.store.AuditStore;
import dev.gatehouse.store.StoreException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A real audit store whose inserts fail while {@link #down} is set, as a database that cannot be
 * reached or written fails them: the way to a dropped backlog and a catch-up from the files. While
 * {@link #hold} is set, an insert waits for it first, as a slow database keeps it waiting: the way
 * to a catch-up that outlasts the writer's wait.
 */
final class FlakyAuditStore implements AuditStore {
  final AtomicBoolean down = new AtomicBoolean();

  /** An insert waits until this is counted down (at most 30 s), and counts down {@link #held}. */
  volatile @Nullable CountDownLatch hold;

  /** Counted down by an insert that waits for {@link #hold}. */
  final CountDownLatch held = new CountDownLatch(1);

  private final AuditStore real;

  FlakyAuditStore(AuditStore real) {
    this.real = real;
  }

  @Override
  public void appendAudit(List<AuditRow> rows) {
    if (down.get()) {
      throw new StoreException("the database is down (test)", null);
    }
    CountDownLatch h = hold;
    if (h != null) {
      held.countDown();
      try {
        if (!h.await(30, TimeUnit.SECONDS)) {
          throw new StoreException("the test never let the insert go on", null);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreException("interrupted (test)", e);
      }
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

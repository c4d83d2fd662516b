package dev.gatehouse.audit;

import dev.gatehouse.config.GatehouseConfig.AuditRetention;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Audit retention ({@link AuditRetention}): deletes the oldest sealed segments when their newest
 * record is older than {@code maxAge} or while the log is over {@code maxBytes}; never the active
 * file. Before anything is deleted, a signed anchor ({@code pruned_through}, the hash of the last
 * pruned record, HMAC) is appended to the checkpoint file and fsynced; then the files go, then the
 * database rows. A crash between those steps is finished on the next start ({@link #finish}). The
 * writer thread's; not thread-safe.
 */
final class AuditPruner {

  private static final Logger LOG = Logger.getLogger("gatehouse.audit");

  private final AuditRetention retention;
  private final Clock clock;
  private final AuditFiles files;
  private final AuditCheckpoints checkpoints;
  private final AuditDbCopy db;
  private long prunedThrough; // the newest anchor's seq: records up to it were pruned

  /**
   * @param prunedThrough the newest signed anchor's seq, found on start (0: none)
   */
  AuditPruner(
      AuditRetention retention,
      Clock clock,
      AuditFiles files,
      AuditCheckpoints checkpoints,
      AuditDbCopy db,
      long prunedThrough) {
    this.retention = retention;
    this.clock = clock;
    this.files = files;
    this.checkpoints = checkpoints;
    this.db = db;
    this.prunedThrough = prunedThrough;
  }

  /**
   * A crash after a pruning anchor was written can leave files or rows it covers: delete them now.
   * (Anchors are written before anything is deleted, so the anchor is never missing.) Run on start,
   * before the database is caught up from the files.
   */
  static void finish(AuditFiles files, AuditDbCopy db, long prunedThrough) throws IOException {
    if (prunedThrough == 0) {
      return;
    }
    files.deleteThrough(prunedThrough);
    db.pruneThrough(prunedThrough);
  }

  /**
   * Deletes the oldest sealed segments whose newest record is older than {@code maxAge}, or while
   * the log is over {@code maxBytes}; never the active file. A signed anchor naming the last pruned
   * record goes to the checkpoint file, fsynced, before anything is deleted.
   */
  void prune() {
    db.pruneThrough(prunedThrough); // retried here if it failed before
    if (files.sealed().isEmpty()) {
      return;
    }
    long total;
    try {
      total = files.activeSize();
    } catch (IOException e) {
      return;
    }
    for (AuditFiles.Segment s : files.sealed()) {
      total += s.size();
    }
    Instant oldest = retention.maxAge().isZero() ? null : clock.instant().minus(retention.maxAge());
    List<AuditFiles.Segment> drop = new ArrayList<>();
    for (AuditFiles.Segment s : files.sealed()) {
      boolean old = oldest != null && s.lastTime() != null && s.lastTime().isBefore(oldest);
      boolean over = retention.maxBytes() > 0 && total > retention.maxBytes();
      if (!old && !over) {
        break;
      }
      drop.add(s);
      total -= s.size();
    }
    if (drop.isEmpty()) {
      return;
    }
    AuditFiles.Segment last = drop.getLast();
    try {
      checkpoints.anchor(last.lastSeq(), last.lastHash());
    } catch (IOException e) {
      LOG.log(Level.SEVERE, "audit pruning anchor failed; nothing pruned", e);
      return;
    }
    prunedThrough = last.lastSeq();
    try {
      files.deleteOldest(drop.size());
    } catch (IOException e) {
      LOG.log(
          Level.WARNING, "deleting pruned audit segments failed; the next start finishes it", e);
    }
    LOG.info(
        "audit retention: pruned "
            + drop.size()
            + " segment(s), records through seq "
            + prunedThrough);
    db.pruneThrough(prunedThrough);
  }
}

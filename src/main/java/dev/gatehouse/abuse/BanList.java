package dev.gatehouse.abuse;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.store.BanRecord;
import dev.gatehouse.store.BanStore;
import dev.gatehouse.store.StoreException;
import dev.gatehouse.store.StoreWatch;
import dev.gatehouse.store.VersionedSnapshot;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The bans in force, as the request path sees them: a snapshot of the {@link BanStore}, reloaded
 * when the store's ban version moved ({@link #refresh}, called by the store watch whenever the
 * store announces a change, so {@code gatehouse bans add} from another process takes effect on the
 * next request; checks read memory only), plus this process's own fresh bans while they are being
 * written, and the in-memory tarpit list of probe detection.
 *
 * <p>Checks never write. Bans and the request counts kept for export are written by one background
 * thread, so the event loops never wait for the database; a new ban holds in memory from the moment
 * it is decided. Addresses in {@code bans.never} are never banned or tarpitted.
 *
 * <p>Thread-safe: snapshots are immutable and swapped whole; the rest are concurrent maps.
 */
public final class BanList implements StoreWatch.Reader, AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse.abuse");

  /** Most addresses whose refused requests are counted between two flushes. */
  private static final int MAX_PENDING_HITS = 10_000;

  /** Most addresses tarpitted at once. */
  private static final int MAX_TARPITS = 100_000;

  private static final long FLUSH_SECONDS = 5;

  /** What the gate should do with a client. */
  public enum Verdict {
    NONE,
    BANNED,
    TARPIT
  }

  /** Requests refused since the last flush, for one address. Guarded by itself. */
  private static final class Hits {
    long count;
    long lastMillis;
    final List<String> paths = new ArrayList<>(4);
  }

  private final BanStore store;

  /**
   * The ban policy in force (lengths, escalation, exemptions); a config reload replaces it ({@link
   * #policy}), and the next check or ban reads the new one.
   */
  private volatile GatehouseConfig.Bans config;

  private final Clock clock;
  private final ScheduledExecutorService writer;
  private final VersionedSnapshot<Map<String, BanRecord>> byIp;

  /** This process's bans not yet in the store: address to end (epoch ms; Long.MAX_VALUE: none). */
  private final Map<String, Long> pending = new ConcurrentHashMap<>();

  /** Tarpitted addresses: address to end, epoch ms. */
  private final Map<String, Long> tarpits = new ConcurrentHashMap<>();

  private final Map<String, Hits> hits = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.LongAdder bansIssued =
      new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder tarpitsIssued =
      new java.util.concurrent.atomic.LongAdder();

  public BanList(BanStore store, GatehouseConfig.Bans config, Clock clock) {
    this.store = store;
    // Bans keep deciding from memory for store.max_stale once a shared store stops answering
    // (zero for SQLite: at once refused); after that every check refuses (fail closed).
    this.byIp =
        new VersionedSnapshot<>(
            Map.of(), store::openBanVersionProbe, this::load, store.maxStale(), System::nanoTime);
    this.config = config;
    this.clock = clock;
    ScheduledThreadPoolExecutor w =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "gatehouse-bans");
              t.setDaemon(true);
              return t;
            });
    w.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.writer = w;
    writer.scheduleWithFixedDelay(this::flushHits, FLUSH_SECONDS, FLUSH_SECONDS, TimeUnit.SECONDS);
  }

  /** Told after each ban this process issued is stored; nothing by default. */
  private volatile Runnable announce = () -> {};

  /**
   * Runs {@code r} after each ban this process issues is stored, on the writer thread: the shared
   * limits publish it, so every other gateway refreshes its list at once rather than at its next
   * store poll. The store stays the record.
   */
  public void announceWith(Runnable r) {
    this.announce = r;
  }

  /** Puts a reloaded ban policy in force for the checks and bans that follow. */
  public void policy(GatehouseConfig.Bans next) {
    this.config = next;
  }

  /**
   * Throws unless the last refresh succeeded: a gateway whose store cannot answer at start does not
   * start.
   */
  public void requireLoaded() {
    byIp.current();
  }

  @Override
  public void refresh() {
    byIp.refresh();
    forgetStoredPending();
  }

  /**
   * Drops each pending ban that the snapshot now in force already holds (a stored ban lasting at
   * least as long), so that from then on the store alone decides: an operator who removes that ban
   * a moment later is obeyed at once, not after this process's writer has caught up. Runs after the
   * snapshot is installed, so the address is banned by one or the other throughout.
   */
  private void forgetStoredPending() {
    if (pending.isEmpty()) {
      return;
    }
    Map<String, BanRecord> stored;
    try {
      stored = byIp.current();
    } catch (StoreException e) {
      return; // the refresh failed: keep every pending ban
    }
    // removes an entry only while it still maps to the value tested (ConcurrentHashMap)
    pending
        .entrySet()
        .removeIf(
            p -> {
              BanRecord r = stored.get(p.getKey());
              return r != null
                  && (r.bannedUntil() == null || r.bannedUntil().toEpochMilli() >= p.getValue());
            });
  }

  @Override
  public void release() {
    byIp.release();
  }

  @Override
  public boolean healthy() {
    return byIp.healthy();
  }

  @Override
  public String problem() {
    String p = byIp.problem();
    return p.isEmpty() ? p : "bans: " + p;
  }

  /** True when the address may never be banned or tarpitted. */
  public boolean exempt(IpAddress a) {
    return config.never().contains(a);
  }

  /**
   * Is this client banned or tarpitted? Reads memory only.
   *
   * @throws StoreException when the last refresh failed; the caller must refuse (fail closed)
   */
  public Verdict check(IpAddress a) {
    if (exempt(a)) {
      return Verdict.NONE; // cannot be banned: the answer needs no store
    }
    Map<String, BanRecord> current = byIp.current();
    long now = clock.millis();
    String ip = a.text();
    BanRecord r = current.get(ip);
    if (r != null && r.activeAt(Instant.ofEpochMilli(now))) {
      return Verdict.BANNED;
    }
    Long p = pending.get(ip);
    if (p != null && p > now) {
      return Verdict.BANNED;
    }
    Long t = tarpits.get(ip);
    if (t != null) {
      if (t > now) {
        return Verdict.TARPIT;
      }
      tarpits.remove(ip, t);
    }
    return Verdict.NONE;
  }

  private Map<String, BanRecord> load() {
    Map<String, BanRecord> out = new HashMap<>();
    for (BanRecord r : store.listBans()) {
      out.put(r.ip(), r);
    }
    return Map.copyOf(out);
  }

  /**
   * Bans an address automatically, for the escalated length. Holds at once in this process; written
   * to the store in the background. Does nothing for exempt addresses (logged) or for one already
   * being banned.
   */
  public void ban(IpAddress a, String reason, BanPolicy.Evidence evidence) {
    String ip = a.text();
    if (exempt(a)) {
      LOG.info("ban skipped ip=" + ip + " (in bans.never) reason=\"" + reason + "\"");
      return;
    }
    Instant now = clock.instant();
    BanRecord known = byIp.last().get(ip);
    int times = BanPolicy.nextTimes(known, now, config.maxDuration());
    Duration length = BanPolicy.length(times, config.duration(), config.maxDuration());
    if (pending.putIfAbsent(ip, now.plus(length).toEpochMilli()) != null) {
      return; // another event loop decided the same a moment ago
    }
    bansIssued.increment();
    LOG.warning(
        "ban ip=" + ip + " for=" + length + " times=" + times + " reason=\"" + reason + "\"");
    writer.execute(
        () -> {
          try {
            store.updateBan(
                ip,
                old -> {
                  Instant at = clock.instant();
                  int n = BanPolicy.nextTimes(old, at, config.maxDuration());
                  Instant until =
                      at.plus(BanPolicy.length(n, config.duration(), config.maxDuration()));
                  return BanPolicy.apply(old, ip, at, until, n, "auto", reason, evidence);
                });
            pending.remove(ip); // the store has it now, and the version bump reloads every loop
            announce.run(); // the other gateways reload at once (limits.kind redis: pub/sub)
          } catch (RuntimeException e) {
            // Keep the in-memory ban: it still holds in this process until it ends.
            LOG.warning("ban of " + ip + " not stored (it holds until restart): " + e.getMessage());
          }
        });
  }

  /** Bans this process has issued since start. */
  public long bansIssued() {
    return bansIssued.sum();
  }

  /** Tarpits this process has started since start. */
  public long tarpitsIssued() {
    return tarpitsIssued.sum();
  }

  /** Addresses banned now: stored bans in force plus this process's bans not yet stored. */
  public int activeBans() {
    long now = clock.millis();
    Instant at = Instant.ofEpochMilli(now);
    Map<String, BanRecord> stored = byIp.last();
    int n = (int) stored.values().stream().filter(r -> r.activeAt(at)).count();
    for (Map.Entry<String, Long> p : pending.entrySet()) {
      BanRecord r = stored.get(p.getKey());
      if (p.getValue() > now && (r == null || !r.activeAt(at))) {
        n++;
      }
    }
    return n;
  }

  /** Addresses tarpitted now. */
  public int activeTarpits() {
    long now = clock.millis();
    return (int) tarpits.values().stream().filter(end -> end > now).count();
  }

  /** Tarpits an address until {@code until} (in memory only; never for exempt addresses). */
  public void tarpit(IpAddress a, Instant until, String reason) {
    if (exempt(a)) {
      LOG.info("tarpit skipped ip=" + a.text() + " (in bans.never) reason=\"" + reason + "\"");
      return;
    }
    if (tarpits.size() >= MAX_TARPITS) {
      long now = clock.millis();
      tarpits.values().removeIf(end -> end <= now);
      if (tarpits.size() >= MAX_TARPITS) {
        LOG.warning(
            "tarpit skipped ip=" + a.text() + ": " + MAX_TARPITS + " addresses already tarpitted");
        return;
      }
    }
    tarpits.put(a.text(), until.toEpochMilli());
    tarpitsIssued.increment();
    LOG.warning("tarpit ip=" + a.text() + " until=" + until + " reason=\"" + reason + "\"");
  }

  /** Counts a request refused because its client is banned; {@code path} may be null. */
  public void hit(IpAddress a, @Nullable String path) {
    Hits h = hits.get(a.text());
    if (h == null) {
      if (hits.size() >= MAX_PENDING_HITS) {
        return; // counts are evidence, not enforcement: dropping some under a flood is fine
      }
      h = hits.computeIfAbsent(a.text(), k -> new Hits());
    }
    synchronized (h) {
      h.count++;
      h.lastMillis = clock.millis();
      if (path != null && h.paths.size() < BanRecord.MAX_SAMPLES) {
        String p = BanPolicy.samplePath(path);
        if (!h.paths.contains(p)) {
          h.paths.add(p);
        }
      }
    }
  }

  /** Writes the counted hits to the store. Runs on the writer thread. */
  private void flushHits() {
    for (String ip : List.copyOf(hits.keySet())) {
      Hits h = hits.remove(ip);
      if (h == null) {
        continue;
      }
      long count;
      long last;
      List<String> paths;
      synchronized (h) {
        count = h.count;
        last = h.lastMillis;
        paths = List.copyOf(h.paths);
      }
      try {
        store.recordBanHits(ip, count, Instant.ofEpochMilli(last), paths);
      } catch (RuntimeException e) {
        LOG.fine("ban hits for " + ip + " not stored: " + e.getMessage());
      }
    }
  }

  /** Finishes pending writes and flushes hit counts; waits a few seconds at most. */
  @Override
  public void close() {
    try {
      writer.execute(this::flushHits);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return; // already closed
    }
    writer.shutdown();
    try {
      if (!writer.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warning("ban writes still pending at shutdown were dropped");
        writer.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      writer.shutdownNow();
    }
  }
}

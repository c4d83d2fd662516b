package dev.gatehouse.store;

import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Where bans live, so that they survive restarts and reach every gateway process. The SQLite
 * implementation is the default; like {@link KeyStore}, the interface is what a shared store would
 * implement.
 *
 * <p>Every method either succeeds or throws {@link StoreException}; on the request path an
 * exception means "refuse" (fail closed).
 *
 * <p><b>Threads.</b> Never called on an event loop, so an implementation may block or ask the
 * network. The store watch's thread ({@link StoreWatch}) reads it ({@link #listBans} and the
 * version probe) to refresh the ban list, which the request path reads from memory. Automatic bans
 * (auth failures, probes) and the counts of refused requests are decided in memory on the event
 * loop and written by the ban list's own writer thread ({@code gatehouse-bans}); the CLI uses its
 * own thread. The SQLite store refuses an event-loop caller.
 */
public interface BanStore extends ChangeSource {

  /** Every row, active or ended, latest ban first. */
  List<BanRecord> listBans();

  Optional<BanRecord> findBan(String ip);

  /**
   * Atomically replaces the row for {@code ip} with {@code change} applied to it (the argument is
   * null when there is none) and bumps the ban version, so running gateways see it at once.
   *
   * @return the stored record
   */
  BanRecord updateBan(String ip, UnaryOperator<BanRecord> change);

  /** Deletes the row; false when there was none. Bumps the ban version. */
  boolean removeBan(String ip);

  /**
   * Adds requests seen from an address that has a row (refused while banned, say): the count, the
   * latest time, and paths for the samples. Does not bump the version: nothing about the decision
   * changes. A missing row is ignored.
   */
  void recordBanHits(String ip, long requests, java.time.Instant lastSeen, List<String> paths);

  /** Opens a per-thread probe of the ban version (see {@link KeyStore#openVersionProbe()}). */
  KeyStore.VersionProbe openBanVersionProbe();
}

package dev.gatehouse.abuse;

import dev.gatehouse.config.DurationText;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Counts failed authentications per client address and bans one that fails {@code
 * bans.auth_failures} times within {@code bans.auth_window} (a sliding window). Every 401 counts, a
 * missing key included: to a gateway that never answers without one, guessing and scanning look the
 * same. Shared by every event loop; thread-safe.
 */
public final class AuthFailures {

  private static final int MAX_CLIENTS = 50_000;

  private final class State implements ClientTable.Entry {
    /** Times of the latest failures, a ring of bans.auth_failures entries. */
    final long[] times = new long[limit];

    int next;
    int count;
    long first;
    long last;
    final List<String> paths = new ArrayList<>(4);

    @Override
    public long lastMillis() {
      return last;
    }
  }

  private final int limit;
  private final long windowMillis;
  private final BanList bans;
  private final ClientTable<State> table;

  /** The counts across gateways, or null to count in this process only. */
  private final @Nullable SharedCounts shared;

  public AuthFailures(GatehouseConfig.Bans config, BanList bans) {
    this(config, bans, null);
  }

  /** As above; with {@code shared}, failures are counted across gateways too, and ban there. */
  public AuthFailures(GatehouseConfig.Bans config, BanList bans, @Nullable SharedCounts shared) {
    this.shared = shared;
    this.limit = config.authFailures();
    this.windowMillis = config.authWindow().toMillis();
    this.bans = bans;
    this.table = new ClientTable<>(MAX_CLIENTS, windowMillis, State::new);
  }

  /** Notes the identify stage's refusal of {@code x}; only a 401 counts. */
  public void observe(Exchange x, Rejection r) {
    if (limit == 0 || r.problem() != Problem.KEY_INVALID || x.clientAddress() == null) {
      return;
    }
    failed(
        x.clientAddress(),
        x.target() == null ? x.request().path() : x.target().path(),
        System.currentTimeMillis());
  }

  /** Counts one failure; bans the address when the window holds enough. */
  void failed(IpAddress a, String path, long now) {
    State s = table.get(a, now);
    if (s == null) {
      return;
    }
    BanPolicy.Evidence evidence = null;
    synchronized (s) {
      if (s.count == 0 || now - s.last > windowMillis) {
        s.count = 0;
        s.next = 0;
        s.first = now;
        s.paths.clear();
      }
      s.times[s.next] = now;
      s.next = (s.next + 1) % limit;
      s.count++;
      s.last = now;
      String p = BanPolicy.samplePath(path);
      if (s.paths.size() < 10 && !s.paths.contains(p)) {
        s.paths.add(p);
      }
      // With the ring full, the slot to be overwritten next holds the oldest of the last `limit`.
      long oldest = s.times[s.next];
      if (s.count >= limit && now - oldest <= windowMillis) {
        evidence =
            new BanPolicy.Evidence(Instant.ofEpochMilli(s.first), s.count, List.copyOf(s.paths));
        s.count = 0;
      }
    }
    if (shared != null) {
      shared(a, s, evidence);
      return;
    }
    if (evidence != null) {
      ban(a, evidence);
    }
  }

  private void ban(IpAddress a, BanPolicy.Evidence evidence) {
    bans.ban(
        a, "auth failures: " + limit + " within " + DurationText.duration(windowMillis), evidence);
    table.remove(a);
  }

  /**
   * Counts the failure across gateways: the ban follows the shared count, which holds this
   * gateway's failures and the others'. Redis failing, this gateway's own count decides (it bans no
   * sooner than the shared one would have).
   */
  private void shared(IpAddress a, State s, BanPolicy.@Nullable Evidence local) {
    Objects.requireNonNull(shared)
        .authFailure(a, limit, windowMillis)
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result()) {
                BanPolicy.Evidence e;
                synchronized (s) {
                  e =
                      local != null
                          ? local
                          : new BanPolicy.Evidence(
                              Instant.ofEpochMilli(s.first), limit, List.copyOf(s.paths));
                }
                ban(a, e);
              } else if (ar.failed() && local != null) {
                ban(a, local);
              }
            });
  }
}

package dev.gatehouse.upstream;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.UpstreamSettings;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.ModelName;
import dev.gatehouse.exchange.Principal;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The configured upstreams and the policy that picks one per request. Thread-safe; one per gateway.
 *
 * <p>Which upstreams may take a request ({@link #candidates}, then {@link #pick}):
 *
 * <ol>
 *   <li>its model: an upstream whose {@code models} globs allow it, and that lists it (learned from
 *       its model listing, every {@code routing.models_refresh}); when none lists it but some list
 *       is not known yet, those whose list is not known; when every list is known and none has it,
 *       none (the relay answers 404 without contacting any upstream);
 *   <li>its API: a request on Ollama's {@code /api/} goes only to an upstream that speaks it (an
 *       OpenAI-compatible server has no {@code /api/chat}); {@code /v1/} goes to either;
 *   <li>its pin: a pinned model only to an upstream whose copy has the pinned digest;
 *   <li>health: not found down by its health check and not ejected. If that leaves none for a first
 *       attempt, every upstream left by the rules above is used instead: the request is then tried
 *       and fails as it would with one upstream, rather than refused by a guess.
 * </ol>
 *
 * <p>Among those: with {@code routing.affinity: key}, the one that the rendezvous hash of the key
 * id and the upstream's name ranks first (weighted), so a key stays on one upstream, and moves only
 * when that one is out, and then only its own keys move; otherwise the one with the fewest requests
 * in flight, ties to the heavier weight, then in turn.
 *
 * <p>With one upstream nothing is read or decided: it is always picked, and never ejected.
 */
public final class UpstreamPool implements Upstreams, AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse.upstream");

  private final Vertx vertx;
  private final List<Upstream> members;
  private final UpstreamSettings.Routing routing;
  private final AtomicInteger turn = new AtomicInteger();
  private volatile long refreshTimer = -1;

  /**
   * Builds one {@link Upstream} per entry of {@code config.upstreams()}. Off the event loops.
   *
   * @param onChange called with (upstream, up, detail) when an upstream's health changes
   */
  public UpstreamPool(Vertx vertx, GatehouseConfig config, HealthListener onChange) {
    List<UpstreamSettings.Entry> entries = config.upstreams().entries();
    boolean several = entries.size() > 1;
    List<Upstream> built = new ArrayList<>();
    for (UpstreamSettings.Entry e : entries) {
      Upstream[] self = new Upstream[1];
      built.add(
          self[0] =
              new Upstream(
                  vertx,
                  config,
                  e,
                  several,
                  (up, detail) ->
                      onChange.changed(Objects.requireNonNull(self[0], "built"), up, detail)));
    }
    this.vertx = vertx;
    this.members = List.copyOf(built);
    this.routing = config.upstreams().routing();
  }

  /** What hears of an upstream's change of health. */
  @FunctionalInterface
  public interface HealthListener {
    void changed(Upstream upstream, boolean up, String detail);
  }

  /**
   * Starts the health checks (every {@code interval}; zero: none periodic) and, with several
   * upstreams, the model-list reads (now, then every {@code routing.models_refresh}).
   */
  public void start(Duration interval) {
    if (!interval.isZero()) {
      members.forEach(u -> u.health().start(interval));
    }
    if (members.size() > 1) {
      refreshModels();
      refreshTimer = vertx.setPeriodic(routing.modelsRefresh().toMillis(), id -> refreshModels());
    }
  }

  /** Reads every upstream's model list again; completes when all have answered or failed. */
  public Future<Void> refreshModels() {
    List<Future<Set<String>>> reads = new ArrayList<>();
    for (Upstream u : members) {
      reads.add(
          u.catalog()
              .refresh()
              .onFailure(
                  e ->
                      LOG.fine(
                          "event=upstream.models_unread upstream="
                              + u.name()
                              + " reason=\""
                              + e.getMessage()
                              + "\"")));
    }
    return Future.join(reads).<Void>mapEmpty().otherwiseEmpty();
  }

  @Override
  public List<Upstream> members() {
    return members;
  }

  @Override
  public List<Upstream> candidates(Exchange x) {
    if (members.size() == 1) {
      Upstream only = members.get(0);
      ModelName n = x.modelName();
      return n == null || only.allows(n) ? members : List.of();
    }
    ModelName name = x.modelName();
    String written = x.model();
    boolean ollamaApi = ollamaOnly(x);
    List<Upstream> listing = new ArrayList<>();
    List<Upstream> unknown = new ArrayList<>();
    for (Upstream u : members) {
      if (ollamaApi && u.catalog().kind() == UpstreamSettings.Kind.OPENAI) {
        continue; // it has no /api/ routes
      }
      if (name == null && written == null) {
        listing.add(u); // no model named: any upstream of the right API
        continue;
      }
      if (name != null ? !u.allows(name) : !u.entry().models().isEmpty()) {
        continue; // its globs refuse the model (or cannot read a name that does not parse)
      }
      switch (u.catalog().has(name, written)) {
        case YES -> listing.add(u);
        case UNKNOWN -> unknown.add(u);
        case NO -> {}
      }
    }
    return listing.isEmpty() ? unknown : listing;
  }

  /** Ollama's own API: {@code /api/...}, but not LM Studio's OpenAI-shaped {@code /api/v0/}. */
  private static boolean ollamaOnly(Exchange x) {
    var t = x.target();
    String path = t == null ? "" : t.path();
    return path.startsWith("/api/") && !path.startsWith("/api/v0/");
  }

  @Override
  public @Nullable Upstream pick(Exchange x, Set<Upstream> tried) {
    List<Upstream> eligible = new ArrayList<>();
    String pinned = x.pinnedDigest();
    ModelName name = x.modelName();
    for (Upstream u : candidates(x)) {
      if (tried.contains(u)) {
        continue;
      }
      if (pinned != null
          && name != null
          && !pinned.equals(u.cachedDigests().get(name.canonical()))) {
        continue; // its copy of the model is not the pinned one (or was not read)
      }
      eligible.add(u);
    }
    if (eligible.isEmpty()) {
      return null;
    }
    List<Upstream> admitted = new ArrayList<>(eligible.size());
    for (Upstream u : eligible) {
      if (u.admitted()) {
        admitted.add(u);
      }
    }
    if (admitted.isEmpty()) {
      if (!tried.isEmpty()) {
        return null; // a retry goes only to an upstream in rotation
      }
      admitted = eligible; // none in rotation: try one anyway rather than refuse on a guess
    }
    if (admitted.size() == 1) {
      return admitted.get(0);
    }
    Principal p = x.principal();
    if (routing.affinity() == UpstreamSettings.Affinity.KEY && p != null) {
      return rendezvous(p.keyId(), admitted);
    }
    return leastInFlight(admitted);
  }

  private Upstream leastInFlight(List<Upstream> from) {
    int least = Integer.MAX_VALUE;
    int heaviest = 0;
    for (Upstream u : from) {
      int n = u.inFlight();
      if (n < least) {
        least = n;
        heaviest = u.entry().weight();
      } else if (n == least) {
        heaviest = Math.max(heaviest, u.entry().weight());
      }
    }
    List<Upstream> tied = new ArrayList<>(from.size());
    for (Upstream u : from) {
      if (u.inFlight() == least && u.entry().weight() == heaviest) {
        tied.add(u);
      }
    }
    if (tied.isEmpty()) {
      return from.get(0); // the counts moved while read: any of them will do
    }
    return tied.get(Math.floorMod(turn.getAndIncrement(), tied.size()));
  }

  /**
   * Weighted rendezvous (highest random weight) hashing: each upstream scores {@code -weight /
   * ln(h)}, with {@code h} in (0, 1) from a hash of the key id and the upstream's name; the highest
   * wins. Taking an upstream out moves only the keys it had.
   */
  static Upstream rendezvous(String keyId, List<Upstream> from) {
    Upstream best = from.get(0);
    double bestScore = Double.NEGATIVE_INFINITY;
    for (Upstream u : from) {
      long h = mix(keyId, u.name());
      double unit = ((h >>> 11) + 0.5) / (double) (1L << 53); // in (0, 1)
      double score = -u.entry().weight() / Math.log(unit);
      if (score > bestScore) {
        bestScore = score;
        best = u;
      }
    }
    return best;
  }

  /** A 64-bit FNV-1a of both strings, finished with a SplitMix64 step for its low bits. */
  private static long mix(String a, String b) {
    long h = 0xcbf29ce484222325L;
    for (byte c : (a + "\u0000" + b).getBytes(StandardCharsets.UTF_8)) {
      h ^= c & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }

  /** Up when any upstream is: a request for its models can be served. */
  @Override
  public Future<Boolean> ready() {
    if (members.size() == 1) {
      return members.get(0).ready();
    }
    List<Future<Boolean>> answers = members.stream().map(u -> u.ready().otherwise(false)).toList();
    return Future.join(answers)
        .transform(
            ar ->
                Future.succeededFuture(
                    answers.stream().anyMatch(f -> Boolean.TRUE.equals(f.result()))));
  }

  /** Each upstream's state, for the admin API. */
  public Map<String, Upstream> byName() {
    Map<String, Upstream> m = new java.util.LinkedHashMap<>();
    members.forEach(u -> m.put(u.name(), u));
    return m;
  }

  @Override
  public void close() {
    long t = refreshTimer;
    if (t >= 0) {
      vertx.cancelTimer(t);
    }
    members.forEach(Upstream::close);
  }
}

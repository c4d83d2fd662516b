package dev.gatehouse.limit;

import dev.gatehouse.exchange.Problem;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The {@link ConcurrencyGate} shared by every gateway on one Redis. The slots in flight are members
 * of two sorted sets, {@code <prefix>{conc}:global} and {@code <prefix>{conc}:key:<key id>} (one
 * hash tag, so a Cluster keeps them on one node and one script sees both), each scored by when its
 * lease ends. A script takes a slot only while both sets are under their caps, after dropping
 * leases that ended, so the caps hold across gateways; a gateway renews its leases every {@link
 * #RENEW_MILLIS}, and the slots of one that died free themselves when their leases end ({@link
 * #LEASE_MILLIS}).
 *
 * <p>The queue is this gateway's own, with the same size and timeout as the local gate's: a waiter
 * is retried, in arrival order, when any gateway frees a slot (published on {@code
 * <prefix>conc:freed}) and every {@link #RETRY_MILLIS} besides (a message can be lost). A Redis
 * failure refuses with {@code limits.unavailable}, waiters included. Thread-safe: one lock guards
 * the queue and the slots held; promises complete on the waiter's own context.
 */
public final class RedisConcurrencyGate implements ConcurrencyGate {

  static final long LEASE_MILLIS = 15_000;
  static final long RENEW_MILLIS = 5_000;
  static final long RETRY_MILLIS = 200;
  static final String FREED = "conc:freed";

  /**
   * Answers 0 (taken), 3 (taken, and now the key or every gateway together is at its cap), 1 (the
   * key is at its cap) or 2 (every gateway together is at capacity).
   */
  static final RedisLink.Script ACQUIRE =
      RedisLink.Script.of(
          """
          local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
          redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
          if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 1 end
          if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 2 end
          local lease = tonumber(ARGV[4])
          local ends = string.format('%.0f', now + lease)
          redis.call('ZADD', KEYS[1], ends, ARGV[3])
          redis.call('ZADD', KEYS[2], ends, ARGV[3])
          redis.call('PEXPIRE', KEYS[1], lease * 2)
          redis.call('PEXPIRE', KEYS[2], lease * 2)
          if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 3 end
          if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 3 end
          return 0
          """);

  /** Frees a slot and tells every gateway (ARGV[2] is the channel). */
  static final RedisLink.Script RELEASE =
      RedisLink.Script.of(
          """
          local n = redis.call('ZREM', KEYS[1], ARGV[1])
          redis.call('ZREM', KEYS[2], ARGV[1])
          redis.call('PUBLISH', ARGV[2], '')
          return n
          """);

  /**
   * Renews leases: KEYS[1] is the global set, KEYS[i+1] slot i's key set, ARGV[1] the lease,
   * ARGV[i+1] slot i's id. A slot whose lease had ended (Redis restarted, or was unreachable for a
   * whole lease) is added back: its request is still running.
   */
  static final RedisLink.Script RENEW =
      RedisLink.Script.of(
          """
          local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          local lease = tonumber(ARGV[1])
          local ends = string.format('%.0f', now + lease)
          for i = 2, #ARGV do
            redis.call('ZADD', KEYS[1], ends, ARGV[i])
            redis.call('ZADD', KEYS[i], ends, ARGV[i])
            redis.call('PEXPIRE', KEYS[i], lease * 2)
          end
          redis.call('PEXPIRE', KEYS[1], lease * 2)
          return #ARGV - 1
          """);

  private enum State {
    ASKING,
    WAITING,
    HOLDING,
    DONE
  }

  private final class RedisSlot implements Slot {
    final String id = instance + ':' + sequence.incrementAndGet();
    final String key;
    final int keyCap;
    final Context context;
    final Promise<Problem> granted = Promise.promise();
    State state = State.ASKING;
    Problem blockedBy = Problem.GATEWAY_BUSY;
    long timer = -1;

    /**
     * The slot filled its key's cap, or everyone's, when it was taken: its release is awaited (a
     * next request could otherwise be refused because of it), where another's is sent and left.
     */
    boolean full;

    /** The release of a held slot, once asked for: a second release answers with the same. */
    @Nullable Future<Void> freeing;

    RedisSlot(String key, int keyCap, Context context) {
      this.key = key;
      this.keyCap = keyCap;
      this.context = context;
    }

    @Override
    public Future<Problem> granted() {
      return granted.future();
    }

    @Override
    public Future<Void> release() {
      return RedisConcurrencyGate.this.release(this);
    }

    void complete(@Nullable Problem p) {
      context.runOnContext(v -> granted.tryComplete(p));
    }
  }

  private final Vertx vertx;
  private final RedisLink redis;
  private final int global;
  private final int queueMax;
  private final long timeoutMillis;
  private final String instance = UUID.randomUUID().toString();
  private final AtomicLong sequence = new AtomicLong();
  private final ArrayDeque<RedisSlot> queue = new ArrayDeque<>();
  private final Map<String, RedisSlot> held = new LinkedHashMap<>();
  private boolean pumping;

  public RedisConcurrencyGate(
      Vertx vertx, RedisLink redis, int global, int queueMax, long timeoutMillis) {
    this.vertx = vertx;
    this.redis = redis;
    this.global = global;
    this.queueMax = queueMax;
    this.timeoutMillis = timeoutMillis;
    redis.subscribe(FREED, m -> pump());
    redis.onSubscribed(this::pump);
    vertx.setPeriodic(RETRY_MILLIS, id -> pump());
    vertx.setPeriodic(RENEW_MILLIS, id -> renew());
  }

  private String globalKey() {
    return redis.key("{conc}:global");
  }

  private String keyKey(String key) {
    return redis.key("{conc}:key:" + key);
  }

  @Override
  public Slot acquire(String key, int keyCap) {
    RedisSlot s = new RedisSlot(key, keyCap, vertx.getOrCreateContext());
    ask(s)
        .onComplete(
            ar -> {
              Problem refused;
              synchronized (this) {
                if (ar.failed()) {
                  s.state = State.DONE;
                  refused = Problem.LIMITS_UNAVAILABLE;
                } else if (ar.result() == null) {
                  refused = null; // held (or freed again at once when it was released meanwhile)
                } else if (s.state == State.DONE) {
                  return;
                } else if (queue.size() < queueMax) {
                  s.state = State.WAITING;
                  s.blockedBy = ar.result();
                  queue.addLast(s);
                  s.timer = vertx.setTimer(timeoutMillis, id -> timeout(s));
                  return;
                } else {
                  s.state = State.DONE;
                  refused = ar.result();
                }
              }
              s.complete(refused);
            });
    return s;
  }

  /**
   * One try at a slot: null when taken (the slot is then held), else what refused it; fails when
   * Redis cannot answer.
   */
  private Future<Problem> ask(RedisSlot s) {
    return redis
        .eval(
            ACQUIRE,
            List.of(globalKey(), keyKey(s.key)),
            List.of(global, s.keyCap, s.id, LEASE_MILLIS))
        .map(
            r -> {
              long answer = r.toLong();
              if (answer == 1 || answer == 2) {
                return answer == 1 ? Problem.KEY_CONCURRENCY : Problem.GATEWAY_BUSY;
              }
              boolean keep;
              synchronized (this) {
                keep = s.state != State.DONE;
                if (keep) {
                  s.state = State.HOLDING;
                  s.full = answer == 3;
                  held.put(s.id, s);
                }
              }
              if (!keep) {
                free(s); // released while the answer was on its way
              }
              return null;
            });
  }

  /** Retries the waiters in arrival order until one is refused for lack of any slot. */
  private void pump() {
    RedisSlot next;
    synchronized (this) {
      if (pumping || queue.isEmpty()) {
        return;
      }
      pumping = true;
      next = queue.peekFirst();
    }
    pumpFrom(next);
  }

  private void pumpFrom(RedisSlot s) {
    ask(s)
        .onComplete(
            ar -> {
              @Nullable RedisSlot after;
              List<RedisSlot> failed = new ArrayList<>();
              boolean granted = false;
              synchronized (this) {
                if (ar.failed()) {
                  // fail closed and loudly: every waiter is refused rather than left to time out
                  failed.addAll(queue);
                  queue.clear();
                  failed.forEach(w -> w.state = State.DONE);
                  pumping = false;
                  after = null;
                } else {
                  // the next to try, found before s leaves the queue; none when s left it
                  // meanwhile (the retry timer starts over from the first)
                  after = ar.result() == Problem.GATEWAY_BUSY ? null : following(s);
                  if (ar.result() == null) {
                    granted = queue.remove(s);
                  } else {
                    s.blockedBy = ar.result();
                  }
                  if (after == null) {
                    pumping = false;
                  }
                }
              }
              for (RedisSlot w : failed) {
                vertx.cancelTimer(w.timer);
                w.complete(Problem.LIMITS_UNAVAILABLE);
              }
              if (granted) {
                vertx.cancelTimer(s.timer);
                s.complete(null);
              }
              if (after != null) {
                pumpFrom(after);
              }
            });
  }

  /** The waiter after {@code s} in the queue, if any; hold the lock. */
  @SuppressWarnings("ReferenceEquality") // the same waiter
  private @Nullable RedisSlot following(RedisSlot s) {
    boolean seen = false;
    for (RedisSlot w : queue) {
      if (seen) {
        return w;
      }
      seen = w == s;
    }
    return null;
  }

  private void timeout(RedisSlot s) {
    Problem p;
    synchronized (this) {
      if (s.state != State.WAITING || !queue.remove(s)) {
        return;
      }
      s.state = State.DONE;
      p = s.blockedBy;
    }
    s.complete(p);
  }

  /**
   * Completes once Redis no longer counts a slot this request held, when that slot filled a cap as
   * it was taken: then, until Redis has it back, the same client's next request, through any
   * gateway, would be refused or queued because of it. Any other release completes at once, with
   * the slot freed in the background: there is room for that next request anyway, and waiting would
   * add a Redis round trip to every response. At once, too, for a slot never held (a grant still on
   * its way is freed when it comes, by {@link #ask}).
   */
  private Future<Void> release(RedisSlot s) {
    Promise<Void> freed;
    synchronized (this) {
      if (s.state == State.DONE) {
        return s.freeing != null ? s.freeing : Future.succeededFuture();
      }
      boolean wasHolding = s.state == State.HOLDING;
      if (queue.remove(s)) {
        vertx.cancelTimer(s.timer);
      }
      s.state = State.DONE;
      held.remove(s.id);
      if (!wasHolding) {
        return Future.succeededFuture();
      }
      freed = Promise.promise();
      s.freeing = s.full ? freed.future() : Future.succeededFuture();
    }
    free(s).onComplete(freed);
    return s.freeing;
  }

  /**
   * Frees a slot in Redis; when that fails its lease ends it within {@link #LEASE_MILLIS} (it is no
   * longer renewed).
   */
  private Future<Void> free(RedisSlot s) {
    return redis
        .eval(RELEASE, List.of(globalKey(), keyKey(s.key)), List.of(s.id, redis.key(FREED)))
        .onComplete(ar -> pump())
        .mapEmpty();
  }

  /** Renews the leases of every slot this gateway holds, in one script call. */
  private void renew() {
    List<String> keys = new ArrayList<>();
    List<Object> args = new ArrayList<>();
    synchronized (this) {
      if (held.isEmpty()) {
        return;
      }
      keys.add(globalKey());
      args.add(LEASE_MILLIS);
      for (RedisSlot s : held.values()) {
        keys.add(keyKey(s.key));
        args.add(s.id);
      }
    }
    redis.eval(RENEW, keys, args); // a failure is the link's to report; leases are long enough
  }

  @Override
  public synchronized int inFlight() {
    return held.size();
  }

  @Override
  public synchronized int waiting() {
    return queue.size();
  }
}

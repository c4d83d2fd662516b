package dev.gatehouse.limit;

import dev.gatehouse.exchange.LimitsUnavailableException;
import dev.gatehouse.store.PendingUsage;
import dev.gatehouse.store.UsageLedger;
import dev.gatehouse.store.UsageStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The {@link UsageLedger} shared by every gateway on one Redis: each key's tokens in the current
 * UTC minute and UTC day are two counters, {@code <prefix>usage:{<key id>}:m:<minute>} and {@code
 * ...:d:<day>} (one hash tag, so a Cluster keeps both on one node), changed together by one Lua
 * script, so a stream charged on one gateway counts against the budget every other gateway checks,
 * and is cut wherever it runs once the budget is spent. The windows follow this gateway's clock (as
 * the local ledger's do); a minute counter expires after two minutes, a day counter after two days.
 *
 * <p>A charge or settlement that fails is owed: the key's {@link #used} fails ({@code
 * limits.unavailable}) until it has been written, retried every second, so no budget is checked
 * against a total that lacks it. The rows for the usage table stay in this process, as with the
 * local ledger ({@link #drain}, {@link #requeue}). Thread-safe.
 */
public final class RedisUsageLedger implements UsageLedger {

  private static final Logger LOG = Logger.getLogger("gatehouse.limits");

  private static final long MINUTE_TTL_MILLIS = 120_000;
  private static final long DAY_TTL_MILLIS = 2 * 86_400_000L;

  /**
   * Adds ARGV[1] (negative for a settlement below its estimate) to the minute and day counters,
   * never below zero, and answers both totals.
   */
  static final RedisLink.Script ADD =
      RedisLink.Script.of(
          """
          local function add(k, d, ttl)
            local v = tonumber(redis.call('GET', k) or '0') + d
            if v < 0 then v = 0 end
            redis.call('SET', k, string.format('%.0f', v), 'PX', ttl)
            return v
          end
          local d = tonumber(ARGV[1])
          return {add(KEYS[1], d, ARGV[2]), add(KEYS[2], d, ARGV[3])}
          """);

  private final RedisLink redis;
  private final Clock clock;

  /** Tokens charged or settled that Redis has not recorded yet, per key. */
  private final ConcurrentHashMap<String, Long> owed = new ConcurrentHashMap<>();

  private final PendingUsage pending = new PendingUsage();

  public RedisUsageLedger(Vertx vertx, RedisLink redis, Clock clock) {
    this.redis = redis;
    this.clock = clock;
    vertx.setPeriodic(1000, id -> payOwed());
  }

  private String today() {
    return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC).toString();
  }

  private List<String> keys(String keyId) {
    String base = "usage:{" + keyId + "}:";
    return List.of(
        redis.key(base + "m:" + clock.millis() / 60_000), redis.key(base + "d:" + today()));
  }

  /**
   * Seeds today's totals from the usage table where Redis has none (a Redis that lost its data), so
   * a day budget is not reset by it; a key Redis already counts keeps Redis's total.
   */
  public Future<Void> seed(Map<String, Long> today) {
    List<Future<Response>> all = new ArrayList<>();
    today.forEach(
        (key, tokens) ->
            all.add(
                redis.send(
                    Request.cmd(Command.SET)
                        .arg(keys(key).get(1))
                        .arg(tokens)
                        .arg("NX")
                        .arg("PX")
                        .arg(DAY_TTL_MILLIS))));
    return Future.all(all).mapEmpty();
  }

  @Override
  public Future<Totals> used(String keyId) {
    if (owed.containsKey(keyId)) {
      return Future.failedFuture(
          new LimitsUnavailableException("usage not yet recorded in Redis for this key"));
    }
    List<String> k = keys(keyId);
    return redis
        .send(Request.cmd(Command.MGET).arg(k.get(0)).arg(k.get(1)))
        .map(r -> new Totals(number(r.get(0)), number(r.get(1))));
  }

  private static long number(@Nullable Response r) {
    return r == null ? 0 : r.toLong();
  }

  @Override
  public Future<Totals> charge(String keyId, long tokens) {
    return add(keyId, tokens);
  }

  private Future<Totals> add(String keyId, long tokens) {
    return redis
        .eval(ADD, keys(keyId), List.of(tokens, MINUTE_TTL_MILLIS, DAY_TTL_MILLIS))
        .map(r -> new Totals(r.get(0).toLong(), r.get(1).toLong()))
        .recover(
            e -> {
              // May have been applied (a timeout): counting it twice errs toward refusing. Owed
              // before the returned future fails, so whoever sees the failure (on any thread) sees
              // the key's used() fail too; a listener beside it could run before the debt existed.
              owed.merge(keyId, tokens, Long::sum);
              return Future.failedFuture(e);
            });
  }

  @Override
  public Future<Void> settle(
      String keyId, @Nullable String model, long estimated, long tokensIn, long tokensOut) {
    String day = today();
    String m = model == null ? "" : model;
    pending.add(new UsageStore.UsageRow(keyId, day, m, 1, tokensIn, tokensOut));
    long delta = tokensIn + tokensOut - estimated;
    return delta == 0 ? Future.succeededFuture() : add(keyId, delta).mapEmpty();
  }

  /** Writes what failed to be written; a key's {@link #used} answers again once it has. */
  private void payOwed() {
    for (Map.Entry<String, Long> e : List.copyOf(owed.entrySet())) {
      String keyId = e.getKey();
      long tokens = e.getValue();
      redis
          .eval(ADD, keys(keyId), List.of(tokens, MINUTE_TTL_MILLIS, DAY_TTL_MILLIS))
          .onSuccess(
              r -> {
                // removes only what was paid; tokens owed meanwhile stay owed
                if (owed.computeIfPresent(keyId, (k, v) -> v - tokens == 0 ? null : v - tokens)
                    != null) {
                  LOG.fine("usage still owed to Redis for a key");
                }
              });
    }
  }

  @Override
  public List<UsageStore.UsageRow> drain() {
    return pending.drain();
  }

  @Override
  public void requeue(List<UsageStore.UsageRow> rows) {
    pending.addAll(rows);
  }
}

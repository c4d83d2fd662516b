package dev.gatehouse.limit;

import io.vertx.core.Future;
import java.util.List;

/**
 * Token buckets shared by every gateway on one Redis: the generic cell rate algorithm (GCRA, the
 * token bucket kept as one timestamp) in one Lua script, so a take is atomic across gateways and
 * costs one round trip. The bucket of {@code subject} at {@code perMinute} with room for {@code
 * burst} is the key {@code <prefix>rate:<subject>/<perMinute>/<burst>} (a changed limit starts a
 * fresh bucket, as the local ones do), holding its theoretical arrival time in microseconds of
 * Redis's own clock (so the gateways' clocks need not agree), and expiring when the bucket would be
 * full again. Any error or timeout fails the take ({@code limits.unavailable}). Thread-safe.
 */
public final class RedisRateLimiter implements RateLimiter {

  /**
   * GCRA: ARGV[1] is the interval between two requests at the sustained rate, ARGV[2] the burst.
   * Answers 0 when the request may go on, else the microseconds until one would. Numbers are
   * written with %.0f: Lua's own conversion would print 1.7e+15.
   */
  static final RedisLink.Script TAKE =
      RedisLink.Script.of(
          """
          local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
          local interval = tonumber(ARGV[1])
          local burst = tonumber(ARGV[2])
          local tat = tonumber(redis.call('GET', KEYS[1]))
          if tat == nil or tat < now then tat = now end
          local newTat = tat + interval
          local allowAt = newTat - burst * interval
          if allowAt > now then return math.max(1, allowAt - now) end
          local ttl = math.floor((newTat - now) / 1000) + 1
          redis.call('SET', KEYS[1], string.format('%.0f', newTat), 'PX', ttl)
          return 0
          """);

  private final RedisLink redis;

  public RedisRateLimiter(RedisLink redis) {
    this.redis = redis;
  }

  @Override
  public Future<Take> take(String subject, int perMinute, int burst) {
    // rounded up: never a faster rate than configured
    long intervalMicros = Math.max(1, (60_000_000L + perMinute - 1) / perMinute);
    String key = redis.key("rate:" + subject + '/' + perMinute + '/' + burst);
    return redis
        .eval(TAKE, List.of(key), List.of(intervalMicros, burst))
        .map(
            r -> {
              long waitMicros = r.toLong();
              return waitMicros <= 0 ? Take.ALLOWED : Take.retryAfter(waitMicros * 1000);
            });
  }
}

package dev.gatehouse.limit;

import dev.gatehouse.abuse.ProbeDetector;
import dev.gatehouse.abuse.SharedCounts;
import dev.gatehouse.config.IpAddress;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The auth-failure and probe counts in Redis, per client address, for every gateway at once. Auth
 * failures are a sliding window: a sorted set {@code <prefix>auth:<ip>} of failure times, trimmed
 * to the window, deleted when it reaches the limit (so one gateway alone bans). Probe scores are a
 * hash {@code <prefix>probe:<ip>} of points per signal, each capped as {@link ProbeDetector.Signal}
 * caps it, plus the score and a flag set once by the call that reaches the threshold; the hash
 * lives for one window from its first points, as the local scores do. Thread-safe.
 */
public final class RedisAbuseCounts implements SharedCounts {

  /** ARGV: window (ms), limit, a unique member. Answers 1 when this failure reached the limit. */
  static final RedisLink.Script AUTH =
      RedisLink.Script.of(
          """
          local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          local window = tonumber(ARGV[1])
          redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
          redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[3])
          redis.call('PEXPIRE', KEYS[1], window)
          if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
            redis.call('DEL', KEYS[1])
            return 1
          end
          return 0
          """);

  /**
   * ARGV: window (ms), threshold, then (signal, points, cap) triples. Answers the score when this
   * call is the first in the window to reach the threshold, else -1.
   */
  static final RedisLink.Script PROBE =
      RedisLink.Script.of(
          """
          if redis.call('EXISTS', KEYS[1]) == 0 then
            redis.call('HSET', KEYS[1], 'score', 0)
            redis.call('PEXPIRE', KEYS[1], ARGV[1])
          end
          local score = tonumber(redis.call('HGET', KEYS[1], 'score'))
          for i = 3, #ARGV, 3 do
            local have = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
            local add = math.min(tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]) - have)
            if add > 0 then
              redis.call('HINCRBY', KEYS[1], ARGV[i], add)
              score = redis.call('HINCRBY', KEYS[1], 'score', add)
            end
          end
          if score >= tonumber(ARGV[2]) and redis.call('HSETNX', KEYS[1], 'flagged', 1) == 1 then
            return score
          end
          return -1
          """);

  private final RedisLink redis;
  private final String instance = UUID.randomUUID().toString();
  private final AtomicLong sequence = new AtomicLong();

  public RedisAbuseCounts(RedisLink redis) {
    this.redis = redis;
  }

  @Override
  public Future<Boolean> authFailure(IpAddress a, int limit, long windowMillis) {
    return redis
        .eval(
            AUTH,
            List.of(redis.key("auth:" + a.text())),
            List.of(windowMillis, limit, instance + ':' + sequence.incrementAndGet()))
        .map(r -> r.toLong() == 1);
  }

  @Override
  public Future<Long> probePoints(
      IpAddress a, Map<ProbeDetector.Signal, Integer> added, int threshold, long windowMillis) {
    List<Object> args = new ArrayList<>();
    args.add(windowMillis);
    args.add(threshold);
    added.forEach(
        (signal, points) -> {
          args.add(signal.name());
          args.add(points);
          args.add(signal.cap);
        });
    return redis.eval(PROBE, List.of(redis.key("probe:" + a.text())), args).map(r -> r.toLong());
  }
}

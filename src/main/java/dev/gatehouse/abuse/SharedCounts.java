package dev.gatehouse.abuse;

import dev.gatehouse.config.IpAddress;
import io.vertx.core.Future;
import java.util.Map;

/**
 * The abuse counts kept for every gateway at once ({@code limits.kind: redis}), so that failures
 * and probe signals spread over several gateways add up. Each answer says whether this call is the
 * one that crossed the line, exactly once across the gateways, so one gateway alone issues the ban.
 * A failed answer leaves the decision to this gateway's own counts (which only ever see part of the
 * traffic, so they never ban sooner than the shared ones would).
 */
public interface SharedCounts {

  /**
   * Counts one failed authentication from {@code a}; completes true when this one makes {@code
   * limit} within the last {@code windowMillis} (the count then starts over).
   */
  Future<Boolean> authFailure(IpAddress a, int limit, long windowMillis);

  /**
   * Adds the points {@code added} (each signal's own cap in {@code caps}) to {@code a}'s probe
   * score in its window; completes with the score when this call is the first to reach {@code
   * threshold} in the window, else with -1.
   */
  Future<Long> probePoints(
      IpAddress a, Map<ProbeDetector.Signal, Integer> added, int threshold, long windowMillis);
}

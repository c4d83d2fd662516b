package dev.gatehouse.gateway;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.Reloading;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One config reload of a running gateway, all or nothing: the new config is merged with the running
 * values of the settings that need a restart ({@link Reloading#RESTART}), the result is validated
 * as a whole, its parts are built ({@link Rewiring#next}), and only then does each event loop swap
 * its pipeline. Anything that fails before the swap leaves the running config in force.
 */
final class GatewayReload {

  /** How long the event loops have to take the new pipeline. */
  private static final long SWAP_SECONDS = 10;

  private GatewayReload() {}

  /** The config in force after a reload attempt, and what the attempt did. */
  record Result(Gateway.Shared shared, ReloadOutcome outcome) {}

  static Result apply(
      Gateway.Shared running,
      GatehouseConfig loaded,
      Rewiring rewiring,
      List<GatewayVerticle> instances) {
    if (Context.isOnEventLoopThread()) {
      // it reads files and waits for every loop: on a loop it would block that loop, or itself
      throw new IllegalStateException("a reload blocks: call it off the event loops");
    }
    GatehouseConfig was = running.config();
    List<String> changed = loaded.settings().changedFrom(was.settings());
    List<String> live = changed.stream().filter(Reloading::live).toList();
    List<String> restart = changed.stream().filter(p -> !Reloading.live(p)).toList();
    GatehouseConfig next;
    try {
      next =
          ConfigLoader.reloaded(
              was, loaded, p -> !Reloading.live(p), "reloaded config", ConfigChecks.ALL);
    } catch (ConfigException e) {
      return new Result(running, ReloadOutcome.refused(e.problems()));
    }
    // The one bound on all request bodies is sized at start; a body limit above it would refuse
    // every such body, as serve refuses to start with one.
    long memory = running.bodyMemory().limit();
    if (next.limits().maxBody() > memory) {
      return new Result(
          running,
          ReloadOutcome.refused(
              List.of(
                  "limits.max_body: "
                      + next.limits().maxBody()
                      + " bytes (expected: at most the memory for request bodies, "
                      + memory
                      + " bytes, which limits.body_memory and the heap set at start)")));
    }
    Gateway.Shared shared;
    try {
      shared = rewiring.next(running, next);
    } catch (IOException | RuntimeException e) {
      return new Result(
          running,
          ReloadOutcome.refused(List.of("reload: " + e.getMessage() + " (nothing changed)")));
    }
    // Every loop gets the same parts. Should one fail to take them, every loop goes back to the
    // running parts, which are still whole, so the gateway never serves two configs at once.
    try {
      swap(instances, shared);
    } catch (Exception e) {
      try {
        swap(instances, running);
      } catch (Exception again) {
        e.addSuppressed(again);
      }
      throw new IllegalStateException("reload: an event loop did not take the new config", e);
    }
    return new Result(shared, new ReloadOutcome(true, live, restart, List.of()));
  }

  private static void swap(List<GatewayVerticle> instances, Gateway.Shared shared)
      throws Exception {
    // Not Future.await: that refuses a Vert.x worker thread, where the admin API's reload runs
    Future.all(instances.stream().map(v -> v.swap(shared)).toList())
        .toCompletionStage()
        .toCompletableFuture()
        .get(SWAP_SECONDS, TimeUnit.SECONDS);
  }
}

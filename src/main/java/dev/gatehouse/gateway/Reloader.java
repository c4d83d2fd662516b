package dev.gatehouse.gateway;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.GatehouseConfig;
import java.util.concurrent.Callable;
import java.util.logging.Logger;

/**
 * Reloads a running gateway's config from the sources it started with: the one entry that both
 * SIGHUP (in {@code serve}) and the admin API's {@code POST /api/v1/reload} call. It loads and
 * validates everything as serve does; a config that fails changes nothing and the outcome carries
 * its problems. Reloads are serialised: a second waits for the first. Each outcome is logged by
 * setting name and problem line (never a key or a prompt: a config holds neither, only the paths of
 * secret files). Blocks: never call it on an event loop.
 */
public final class Reloader implements Callable<ReloadOutcome> {

  private static final Logger LOG = Logger.getLogger("gatehouse");

  /** Loads the config from serve's sources (file, GATEHOUSE_* environment, flags) again. */
  @FunctionalInterface
  public interface Source {
    GatehouseConfig load() throws ConfigException;
  }

  private final Gateway gateway;
  private final Source source;

  public Reloader(Gateway gateway, Source source) {
    this.gateway = gateway;
    this.source = source;
  }

  /** Reloads now and says what changed; returns when every event loop has the new config. */
  @Override
  public synchronized ReloadOutcome call() {
    ReloadOutcome outcome;
    try {
      outcome = gateway.reload(source.load());
    } catch (ConfigException e) {
      outcome = ReloadOutcome.refused(e.problems());
    }
    log(outcome);
    return outcome;
  }

  /**
   * Reloads on a thread of its own, for a signal handler, which must return at once; the outcome
   * goes to the log.
   */
  public void callInBackground() {
    Thread.ofPlatform()
        .name("gatehouse-reload")
        .daemon()
        .start(
            () -> {
              try {
                call();
              } catch (RuntimeException e) {
                LOG.severe("config reload failed: " + e.getMessage());
              }
            });
  }

  private static void log(ReloadOutcome o) {
    if (!o.applied()) {
      LOG.warning(
          "config reload refused, the running config stays ("
              + o.errors().size()
              + (o.errors().size() == 1 ? " problem" : " problems")
              + "):\n  "
              + String.join("\n  ", o.errors()));
      return;
    }
    LOG.info(
        "config reloaded: "
            + (o.changed().isEmpty() ? "no live setting changed" : "applied " + o.changed())
            + (o.restartRequired().isEmpty()
                ? ""
                : "; changed but kept until a restart: " + o.restartRequired()));
  }
}

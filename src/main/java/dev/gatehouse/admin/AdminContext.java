package dev.gatehouse.admin;

import dev.gatehouse.admin.auth.AdminCredentials;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gateway.Gateway;
import dev.gatehouse.gateway.ReloadOutcome;
import dev.gatehouse.keys.KeyService;
import dev.gatehouse.store.Stores;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What the admin listener and its routes work with: the running gateway, its stores and services,
 * and how to reload. Built once by {@code gatehouse serve}.
 *
 * @param config the configuration in force; it changes on reload, so read it per request
 * @param reload re-reads and applies the configuration (blocking: call it off the event loop)
 * @param env the environment serve was started with (for reload and doctor)
 * @param configFile the configuration file, or null when there is none
 */
public record AdminContext(
    Vertx vertx,
    Supplier<GatehouseConfig> config,
    Stores stores,
    KeyService keys,
    Gateway gateway,
    AdminCredentials admins,
    Callable<ReloadOutcome> reload,
    Map<String, String> env,
    @Nullable Path configFile) {

  public AdminContext {
    env = Map.copyOf(env);
  }
}

package dev.gatehouse.admin;

import dev.gatehouse.admin.auth.AdminCredentials;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gateway.Gateway;
import dev.gatehouse.keys.KeyService;
import dev.gatehouse.store.Stores;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** PLACEHOLDER for H1's AdminContext (the lead drops this commit): what the admin routes use. */
public record AdminContext(
    Vertx vertx,
    Supplier<GatehouseConfig> config,
    Stores stores,
    KeyService keys,
    Gateway gateway,
    AdminCredentials admins,
    Callable<ReloadOutcome> reload,
    Map<String, String> env,
    @Nullable Path configFile) {}

package dev.gatehouse.cli;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.identify.ApiKeys;
import dev.gatehouse.identify.ServerSecret;
import dev.gatehouse.keys.KeyService;
import dev.gatehouse.store.SqliteStore;
import java.io.IOException;
import java.time.Clock;

/** The configuration, store and key service a command works with; close it when done. */
final class Context implements AutoCloseable {

  final GatehouseConfig config;
  final SqliteStore store;
  final ApiKeys apiKeys;
  final KeyService keys;

  Context(GatehouseConfig config) throws IOException {
    this.config = config;
    this.apiKeys = new ApiKeys(ServerSecret.loadOrCreate(config.dataDir()));
    this.store = SqliteStore.open(config.dataDir());
    this.keys = new KeyService(store, apiKeys, Clock.systemUTC());
  }

  @Override
  public void close() {
    store.close();
  }
}

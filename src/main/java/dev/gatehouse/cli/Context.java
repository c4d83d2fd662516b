package dev.gatehouse.cli;

import dev.gatehouse.admin.auth.AdminCredentials;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.identify.ApiKeys;
import dev.gatehouse.identify.ServerSecret;
import dev.gatehouse.keys.KeyService;
import dev.gatehouse.store.Stores;
import java.io.IOException;
import java.time.Clock;

/**
 * The configuration, store, key service and admin credentials a command works with; close it when
 * done.
 */
final class Context implements AutoCloseable {

  final GatehouseConfig config;
  final Stores stores;
  final ApiKeys apiKeys;
  final KeyService keys;
  final AdminCredentials admins;

  Context(GatehouseConfig config) throws IOException {
    this.config = config;
    byte[] secret = ServerSecret.loadOrCreate(config.dataDir());
    this.apiKeys = new ApiKeys(secret);
    this.stores = Stores.open(config.store(), config.instance().id(), config.dataDir());
    this.keys = new KeyService(stores.keys(), apiKeys, Clock.systemUTC());
    this.admins = new AdminCredentials(stores.admins(), secret, Clock.systemUTC());
  }

  @Override
  public void close() {
    stores.close();
  }
}

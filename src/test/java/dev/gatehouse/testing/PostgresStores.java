package dev.gatehouse.testing;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.store.PostgresStore;
import java.io.IOException;
import java.time.Duration;

/** The {@code store.*} settings of a PostgreSQL store on a {@link PostgresServer}'s database. */
public final class PostgresStores {

  private PostgresStores() {}

  /** {@code store.kind: postgres} on {@code url}, as {@link PostgresServer#USER}. */
  public static GatehouseConfig.Store config(String url, Duration maxStale) throws IOException {
    return new GatehouseConfig.Store(
        "postgres", url, PostgresServer.USER, passwordFile(), 4, maxStale);
  }

  /** A store on {@code url} with the default window of 30 s. */
  public static PostgresStore open(String url) throws IOException {
    return PostgresStore.open(config(url, Duration.ofSeconds(30)));
  }

  private static java.nio.file.Path passwordFile() throws IOException {
    java.nio.file.Path f = java.nio.file.Files.createTempFile("gh-pg-password", ".txt");
    java.nio.file.Files.writeString(f, PostgresServer.PASSWORD + "\n");
    f.toFile().deleteOnExit();
    return f;
  }
}

package dev.gatehouse.store.contract;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A contract suite's fixture: a new, empty store per test in a temporary directory, closed after.
 */
public abstract class StoreContract<S> {

  @TempDir Path dir;
  protected S store;

  /** A new, empty store in {@code dir}. */
  protected abstract S open(Path dir) throws Exception;

  @BeforeEach
  void start() throws Exception {
    store = open(dir);
  }

  @AfterEach
  void stop() throws Exception {
    if (store instanceof AutoCloseable c) {
      c.close();
    }
  }
}

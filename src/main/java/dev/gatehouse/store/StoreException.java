package dev.gatehouse.store;

import org.jspecify.annotations.Nullable;

/** A storage failure. On the request path it always means "deny" (fail closed). */
public final class StoreException extends RuntimeException {
  public StoreException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}

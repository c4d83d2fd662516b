package dev.gatehouse.store;

/** A storage failure. On the request path it always means "deny" (fail closed). */
public final class StoreException extends RuntimeException {
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}

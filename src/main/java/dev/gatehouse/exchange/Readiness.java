package dev.gatehouse.exchange;

import io.vertx.core.Future;

/**
 * One part of what {@code /readyz} answers for: the upstreams, the shared store, the shared limits.
 * The gateway is ready only when every part is; the first part that is not names the answer ({@code
 * {"status":"<name>_unavailable"}}). The public answer names no address or upstream: the per-part
 * detail is the admin API's.
 */
public interface Readiness {

  /** The part's short name, as {@code /readyz} reports it: {@code upstream}, {@code store}. */
  String name();

  /** Whether the part can serve now; a failed future counts as not ready. Never blocks. */
  Future<Boolean> ready();

  /**
   * The public {@code /readyz} status while this part is not ready: {@code <name>_unavailable},
   * unless the part says more plainly why ({@code draining}).
   */
  default String notReadyStatus() {
    return name() + "_unavailable";
  }

  /** A part with this name whose readiness {@code check} answers. */
  static Readiness of(String name, java.util.function.Supplier<Future<Boolean>> check) {
    return new Readiness() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Future<Boolean> ready() {
        return check.get();
      }
    };
  }
}

package dev.gatehouse.cli;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.logging.Logger;

/**
 * SIGHUP for {@code serve}: runs an action each time the process receives it (the config reload);
 * {@link #handle} installs the same kind of handler for SIGTERM and SIGINT ({@link Termination}).
 * Through {@code sun.misc.Signal}, which the JDK exports for this use from {@code jdk.unsupported};
 * reached by reflection because javac warns about any {@code sun.*} type at compile time, and the
 * build turns every warning into an error.
 */
final class Hangup {

  private static final Logger LOG = Logger.getLogger("gatehouse");

  private Hangup() {}

  /**
   * Installs {@code action} as the SIGHUP handler, replacing the JVM's (which would exit). Returns
   * false, with a warning in the log, where signals are not available (another platform, {@code
   * -Xrs}) or SIGHUP is ignored (under {@code nohup}): the admin API's reload still works.
   */
  static boolean onSignal(Runnable action) {
    try {
      if (!handle("HUP", action)) {
        LOG.warning(
            "SIGHUP is ignored in this process (started under nohup?), so it cannot reload the"
                + " config; use POST /api/v1/reload, or start serve without nohup");
        return false;
      }
      return true;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.warning("SIGHUP cannot reload the config here (" + e + "); use POST /api/v1/reload");
      return false;
    }
  }

  /**
   * Installs {@code action} as the handler of the signal named {@code name} ({@code HUP}, {@code
   * TERM}, {@code INT}), replacing the JVM's. Returns false when the process inherited the signal
   * as ignored ({@code nohup} does that to SIGHUP): the JVM then keeps ignoring it and installs
   * nothing. Throws where signals are not available.
   */
  static boolean handle(String name, Runnable action) throws ReflectiveOperationException {
    Class<?> signal = Class.forName("sun.misc.Signal");
    Class<?> handler = Class.forName("sun.misc.SignalHandler");
    Object sig = signal.getConstructor(String.class).newInstance(name);
    Object proxy =
        Proxy.newProxyInstance(
            Hangup.class.getClassLoader(),
            new Class<?>[] {handler},
            (self, method, args) -> answer(self, method, args, action));
    Object previous = signal.getMethod("handle", signal, handler).invoke(null, sig, proxy);
    return !handler.getField("SIG_IGN").get(null).equals(previous);
  }

  // why: equals on a proxy is identity, as for any handler object
  @SuppressWarnings("ReferenceEquality")
  private static Object answer(Object self, Method method, Object[] args, Runnable action) {
    return switch (method.getName()) {
      case "handle" -> {
        action.run();
        yield "handled"; // ignored: handle returns void
      }
      case "equals" -> self == args[0];
      case "hashCode" -> System.identityHashCode(self);
      default -> "gatehouse SIGHUP handler";
    };
  }
}

package dev.gatehouse.authorize;

import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.ModelName;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.pins.ModelPins;
import dev.gatehouse.upstream.ModelDigests;
import dev.gatehouse.upstream.Upstream;
import io.vertx.core.Future;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Enforces a model lock file: inference or embedding on a pinned model is allowed only while the
 * upstream lists that model with the pinned manifest digest (Ollama's {@code /api/tags}). A
 * re-pulled, replaced or poisoned model has another digest and is refused, and the drift is logged
 * as {@code models.digest_drift}. When the digests cannot be read the request is refused (fail
 * closed). Models not in the lock file are not affected.
 *
 * <p>The digests come from {@link Upstream#modelDigests}, which caches them for {@code
 * models.pin_refresh}. Thread-safe.
 */
public final class PinnedModels {

  private static final Logger LOG = Logger.getLogger("gatehouse.models");

  private final ModelPins pins;
  private final Upstream upstream;
  private final Set<String> driftLogged = ConcurrentHashMap.newKeySet();

  public PinnedModels(ModelPins pins, Upstream upstream) {
    this.pins = pins;
    this.upstream = upstream;
  }

  /** Completes with null when the request's model may be used, else with the refusal. */
  public Future<Rejection> check(Exchange x) {
    Operation op = Objects.requireNonNull(x.route(), "authorize.route ran").operation();
    ModelName name = x.modelName(); // parsed by the authorize stage, the one model-name parser
    if (name == null || (op != Operation.INFERENCE && op != Operation.EMBEDDINGS)) {
      return Future.succeededFuture(null);
    }
    String pinned = pins.digestFor(name);
    if (pinned == null) {
      return Future.succeededFuture(null);
    }
    String shown = x.model() != null ? x.model() : name.recorded();
    return upstream
        .modelDigests()
        .map(digests -> verdict(shown, name, ModelDigests.bare(pinned), digests))
        .otherwise(
            err ->
                Rejection.logged(
                    Problem.PIN_CHECK_UNAVAILABLE,
                    "cannot read upstream digests: " + err.getMessage()));
  }

  private @Nullable Rejection verdict(
      String model, ModelName name, String pinned, Map<String, String> digests) {
    String actual = digests.get(name.canonical());
    if (actual == null) {
      return Rejection.of(
          Problem.MODEL_PIN_UNVERIFIED,
          "model " + model + " is pinned but the model server does not list it");
    }
    if (!actual.equals(pinned)) {
      if (driftLogged.add(model + "@" + actual)) {
        LOG.warning(
            "event=models.digest_drift model="
                + model
                + " pinned=sha256:"
                + pinned
                + " upstream=sha256:"
                + actual);
      }
      return Rejection.of(
          Problem.MODEL_PIN_MISMATCH,
          "model " + model + " does not have its pinned digest; refusing to run it");
    }
    return null;
  }
}

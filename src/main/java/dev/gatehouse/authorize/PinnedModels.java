package dev.gatehouse.authorize;

import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.ModelName;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.pins.ModelPins;
import dev.gatehouse.upstream.ModelDigests;
import dev.gatehouse.upstream.Upstream;
import dev.gatehouse.upstream.Upstreams;
import io.vertx.core.Future;
import java.util.List;
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
 * <p>With several upstreams the pin holds per upstream: the digests of every upstream that could
 * serve the model ({@link Upstreams#candidates}) are read, one whose copy differs (or that does not
 * list it, or cannot be read) may not serve it, and the request is refused only when none has the
 * pinned copy. The pinned digest is then kept on the exchange ({@link Exchange#pinned}), and the
 * relay's pick sends the request only to an upstream whose copy has it.
 *
 * <p>The digests come from {@link Upstream#modelDigests}, which caches them for {@code
 * models.pin_refresh}. Thread-safe.
 */
public final class PinnedModels {

  private static final Logger LOG = Logger.getLogger("gatehouse.models");

  private final ModelPins pins;
  private final Upstreams upstreams;
  private final Set<String> driftLogged = ConcurrentHashMap.newKeySet();

  public PinnedModels(ModelPins pins, Upstreams upstreams) {
    this.pins = pins;
    this.upstreams = upstreams;
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
    String bare = ModelDigests.bare(pinned);
    List<Upstream> candidates = upstreams.candidates(x);
    if (candidates.isEmpty()) {
      return Future.succeededFuture(null); // no upstream may serve it: the relay says so (404)
    }
    List<Future<Map<String, String>>> reads =
        candidates.stream().map(Upstream::modelDigests).toList();
    return Future.join(reads)
        .transform(
            ar -> {
              Rejection worst = null;
              String failure = null;
              for (int i = 0; i < reads.size(); i++) {
                Future<Map<String, String>> f = reads.get(i);
                if (f.failed()) {
                  failure = f.cause().getMessage();
                  continue;
                }
                Rejection r = verdict(shown, name, bare, f.result(), candidates.get(i));
                if (r == null) {
                  x.pinned(bare); // this upstream has the pinned copy; the pick keeps to such
                  return Future.succeededFuture((Rejection) null);
                }
                if (worst == null || r.problem() == Problem.MODEL_PIN_MISMATCH) {
                  worst = r; // a copy that differs says more than one that is not listed
                }
              }
              // fail closed: no upstream is known to have the pinned copy
              if (worst == null) {
                return Future.succeededFuture(
                    Rejection.logged(
                        Problem.PIN_CHECK_UNAVAILABLE, "cannot read upstream digests: " + failure));
              }
              return Future.succeededFuture(worst);
            });
  }

  private @Nullable Rejection verdict(
      String model, ModelName name, String pinned, Map<String, String> digests, Upstream from) {
    String actual = digests.get(name.canonical());
    if (actual == null) {
      return Rejection.of(
          Problem.MODEL_PIN_UNVERIFIED,
          "model " + model + " is pinned but the model server does not list it");
    }
    if (!actual.equals(pinned)) {
      if (driftLogged.add(from.name() + "/" + model + "@" + actual)) {
        LOG.warning(
            "event=models.digest_drift model="
                + model
                + " pinned=sha256:"
                + pinned
                + " upstream=sha256:"
                + actual
                + " upstream_name="
                + from.name());
      }
      return Rejection.of(
          Problem.MODEL_PIN_MISMATCH,
          "model " + model + " does not have its pinned digest; refusing to run it");
    }
    return null;
  }
}

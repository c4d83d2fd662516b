package dev.gatehouse.guard;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.GatehouseConfig.GuardMode;
import dev.gatehouse.config.GatehouseConfig.SecretsAction;
import dev.gatehouse.exchange.BodyFields;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import io.vertx.core.buffer.Buffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The guard stage: reads what a user or a tool put into an inference request, scores it with the
 * {@link Detector}, and in {@code block} mode refuses a flagged request (403 {@code
 * guard.prompt_injection}) or one with chat-template control tokens in user content (403 {@code
 * guard.template_tokens}, whatever the score). Secrets are logged, redacted in place or refused per
 * {@code guard.secrets}. The verdict, score, families and secret kinds go on the exchange for the
 * audit record; the text never does.
 *
 * <p>Runs on the event loop: the inspected text is bounded ({@code guard.max_bytes}) and the
 * detector takes well under a millisecond for ordinary prompts. Fails closed: in {@code block} mode
 * an error while inspecting refuses the request. Immutable and thread-safe.
 */
public final class GuardStage {

  private final GatehouseConfig.Guard config;
  private final PromptText.Scope scope;
  private final Detector detector;

  public GuardStage(GatehouseConfig.Guard config, Detector detector) {
    this.config = config;
    PromptText.Scope s = PromptText.Scope.of(config.scope());
    this.scope = s == null ? PromptText.Scope.LAST_USER_AND_TOOLS : s;
    this.detector = detector;
  }

  /**
   * The stage for this configuration with the shipped model (loaded even when guard.mode is off: a
   * key may turn it on).
   */
  public static GuardStage of(GatehouseConfig.Guard config) {
    return new GuardStage(config, Detector.shipped());
  }

  /** The key's own mode, else the global one. An unknown stored value blocks (fail closed). */
  private GuardMode mode(Exchange x) {
    String own = x.principal() == null ? null : x.principal().guard();
    if (own == null) {
      return config.mode();
    }
    return switch (own) {
      case "off" -> GuardMode.OFF;
      case "log" -> GuardMode.LOG;
      default -> GuardMode.BLOCK;
    };
  }

  /**
   * Checks the request; returns a refusal, or null to let it go on (perhaps with its body
   * rewritten).
   */
  public @Nullable Rejection check(Exchange x) {
    GuardMode mode = mode(x);
    if ((mode == GuardMode.OFF && config.secrets() == SecretsAction.OFF)
        || x.route() == null
        || x.route().operation() != Operation.INFERENCE
        || !(x.json() instanceof ObjectNode body)) {
      return null;
    }
    try {
      String path = Objects.requireNonNull(x.target(), "listen.shape ran").path();
      if (mode != GuardMode.OFF) {
        List<PromptText.Slot> slots = PromptText.inScope(path, body, scope);
        Verdict v = detector.inspect(PromptText.texts(slots, config.maxChars()));
        boolean block = mode == GuardMode.BLOCK && v.flagged();
        x.guarded(
            block ? "block" : v.flagged() ? "flag" : "pass",
            Math.round(v.score() * 1000) / 1000.0,
            v.families().isEmpty() ? null : v.familyCodes());
        if (block) {
          return Rejection.of(
              v.templateTokens() ? Problem.GUARD_TEMPLATE_TOKENS : Problem.GUARD_PROMPT_INJECTION);
        }
      }
      if (config.secrets() != SecretsAction.OFF) {
        return secrets(x, body, path);
      }
      return null;
    } catch (RuntimeException | StackOverflowError e) {
      // fail closed where the operator asked for refusals; in log mode the request goes on, noted.
      // (A regular expression that recurses too deep on a hostile text is such an error too.)
      x.guardFailed();
      return mode == GuardMode.BLOCK
              || config.secrets() == SecretsAction.BLOCK
              || config.secrets() == SecretsAction.REDACT
          ? Rejection.logged(Problem.GUARD_UNAVAILABLE, "guard: " + e)
          : null;
    }
  }

  /** Secrets in every text of the body (any turn carries them to the upstream). */
  private @Nullable Rejection secrets(Exchange x, ObjectNode fields, String path) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (PromptText.Slot slot : PromptText.all(path, fields)) {
      for (Secrets.Match m : Secrets.find(slot.text())) {
        counts.merge(m.kind(), 1, Integer::sum);
      }
    }
    if (counts.isEmpty()) {
      return null;
    }
    x.secretsFound(Secrets.summary(counts));
    if (config.secrets() == SecretsAction.BLOCK) {
      return Rejection.of(Problem.GUARD_SECRET);
    }
    if (config.secrets() == SecretsAction.REDACT) {
      // Found on the policy fields; redacted in a full tree of the body (the rare path that builds
      // one), which keeps the client's field order. The limit stage, which runs next, edits this
      // rewritten body if it changes the body too, so both rewrites reach the upstream.
      try {
        ObjectNode body = BodyFields.tree(Objects.requireNonNull(x.body(), "json() came with it"));
        for (PromptText.Slot slot : PromptText.all(path, body)) {
          List<Secrets.Match> found = Secrets.find(slot.text());
          if (!found.isEmpty()) {
            slot.replace(Secrets.redact(slot.text(), found));
          }
        }
        Buffer rewritten = BodyFields.write(body);
        x.bodyRewritten(rewritten, BodyFields.scan(rewritten));
      } catch (java.io.IOException e) {
        return Rejection.logged(Problem.INTERNAL, e.toString());
      }
    }
    return null;
  }
}

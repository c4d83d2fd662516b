package dev.gatehouse.limit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.BodyFields;
import dev.gatehouse.exchange.BodyLayout;
import dev.gatehouse.exchange.Budgets;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.JsonFields;
import dev.gatehouse.exchange.LimitsUnavailableException;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.exchange.Route;
import dev.gatehouse.exchange.Stage;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.store.UsageLedger;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The limit stage: request rates per key and per client IP, token budgets, caps on what a request
 * may ask for, and in-flight concurrency. Checked cheapest first; every refusal happens before the
 * upstream is contacted, and every failure of a limiter refuses (fail closed). Thread-safe.
 */
public final class Limiter {

  /** Longest wait for a remote limiter or ledger; past it the request is refused. */
  static final long REMOTE_ANSWER_MILLIS = 2_000;

  private final GatehouseConfig config;
  private final RateLimiter rates;
  private final ConcurrencyGate gate;
  private final UsageLedger ledger;
  private final RequestCaps caps;
  private final Clock clock;

  public Limiter(
      GatehouseConfig config,
      RateLimiter rates,
      ConcurrencyGate gate,
      UsageLedger ledger,
      Clock clock) {
    this.config = config;
    this.rates = rates;
    this.gate = gate;
    this.ledger = ledger;
    this.caps = new RequestCaps(config.caps());
    this.clock = clock;
  }

  /**
   * The much lower per-IP rate for requests without a valid key: once it is spent, a client
   * guessing keys gets 429 instead of an answer to each guess. Called by the identify stage, so a
   * limiter failure is turned into the limiter's own refusal here (503 {@code limit.unavailable}),
   * never read as the identify stage's.
   */
  public Future<Rejection> anonymous(Exchange x) {
    GatehouseConfig.Rate r = config.rate();
    if (r.anonymousIpRpm() <= 0) {
      return Stage.next();
    }
    Future<Rejection> f =
        take(
            "anon:" + x.clientIp(),
            r.anonymousIpRpm(),
            Math.max(1, r.anonymousIpBurst()),
            "too many unauthenticated requests from this address");
    if (f.isComplete()) {
      return f.succeeded() ? f : Stage.refuse(unavailable(f.cause()));
    }
    holdBody(x);
    return f.recover(e -> Stage.refuse(unavailable(e)));
  }

  private static Rejection unavailable(Throwable e) {
    return e instanceof LimitsUnavailableException
        ? Rejection.logged(Problem.LIMITS_UNAVAILABLE, e.getMessage())
        : Rejection.logged(Problem.LIMITER_UNAVAILABLE, e.toString());
  }

  /** The budgets for a key: its own, else the global ones. */
  public Budgets budgets(Principal p) {
    KeyLimits l = p.limits();
    return new Budgets(
        l.tokensPerMinute() != null ? l.tokensPerMinute() : config.budget().tokensPerMinute(),
        l.tokensPerDay() != null ? l.tokensPerDay() : config.budget().tokensPerDay());
  }

  /**
   * The checks that need no body: request rates per key and per address, then token budgets, each
   * only when the one before let the request go on. Run before the body is read, so a client over
   * its limits costs as little as possible. With the local limiter and ledger every answer is
   * already complete and no callback is made; a remote one continues from its future. A failed
   * future (a limiter or ledger that cannot answer) is the pipeline's to refuse, as {@code
   * limit.unavailable}.
   */
  public Future<Rejection> rates(Exchange x) {
    Principal p = Objects.requireNonNull(x.principal(), "identify.key ran");
    KeyLimits own = p.limits();
    GatehouseConfig.Rate r = config.rate();
    int rpm = own.rpm() != null ? own.rpm() : r.keyRpm();
    int burst = own.burst() != null ? own.burst() : Math.max(1, r.keyBurst());
    Future<Rejection> key =
        rpm > 0
            ? take("key:" + p.keyId(), rpm, burst, "this key is sending too many requests")
            : Stage.next();
    Future<Rejection> answer =
        orElse(
            key,
            () ->
                orElse(
                    r.ipRpm() > 0
                        ? take(
                            "ip:" + x.clientIp(),
                            r.ipRpm(),
                            Math.max(1, r.ipBurst()),
                            "too many requests from this address")
                        : Stage.next(),
                    () -> budget(x)));
    if (!answer.isComplete()) {
      holdBody(x);
    }
    return answer;
  }

  /**
   * Pauses the request while a remote answer is awaited: body chunks that arrive while no handler
   * is set are dropped, and the body would reach the body reader (or the probe peek) incomplete.
   * Whichever reads the body next sets its handlers and resumes. Called on the event loop, in the
   * stack that received the request head (every stage before this one answered at once), so no
   * chunk has been delivered yet. The local limiter and ledger never get here.
   */
  private static void holdBody(Exchange x) {
    x.request().pause();
  }

  /** The token budget check: refused while the key's minute or day budget is spent. */
  private Future<Rejection> budget(Exchange x) {
    Principal p = Objects.requireNonNull(x.principal(), "identify.key ran");
    Budgets b = budgets(p);
    if (!b.any() || !isCompute(Objects.requireNonNull(x.route(), "authorize.route ran"))) {
      return Stage.next();
    }
    return then(ask(() -> ledger.used(p.keyId())), used -> Stage.refuse(spent(b, used)));
  }

  private @Nullable Rejection spent(Budgets b, UsageLedger.Totals used) {
    if (b.perMinute() > 0 && used.minute() >= b.perMinute()) {
      long toNextMinute = 60 - (clock.millis() / 1000) % 60;
      return retry(
          Problem.BUDGET_EXHAUSTED,
          "this key's tokens-per-minute budget is spent",
          toNextMinute * 1_000_000_000L);
    }
    if (b.perDay() > 0 && used.day() >= b.perDay()) {
      long now = clock.millis() / 1000;
      long midnight =
          LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC)
              .plusDays(1)
              .atStartOfDay(ZoneOffset.UTC)
              .toEpochSecond();
      return retry(
          Problem.BUDGET_EXHAUSTED,
          "this key's tokens-per-day budget is spent",
          (midnight - now) * 1_000_000_000L);
    }
    return null;
  }

  /** One take from a rate bucket: null to go on, else a 429 with its Retry-After. */
  private Future<Rejection> take(String subject, int perMinute, int burst, String message) {
    return then(
        ask(() -> rates.take(subject, perMinute, burst)),
        t ->
            Stage.refuse(
                t.allowed() ? null : retry(Problem.RATE_LIMITED, message, t.retryAfterNanos())));
  }

  /** {@code first}'s rejection when it has one, else {@code next}'s answer. */
  private static Future<Rejection> orElse(
      Future<Rejection> first, Supplier<Future<Rejection>> next) {
    return then(first, r -> r != null ? Stage.refuse(r) : next.get());
  }

  /**
   * {@code next} applied to {@code f}'s result: at once, on this stack, when {@code f} is already
   * complete (the local limiter and ledger: no callback), else when it completes. A failure, or an
   * exception out of {@code next}, is a failed future.
   */
  private static <T> Future<Rejection> then(Future<T> f, Function<T, Future<Rejection>> next) {
    if (!f.isComplete()) {
      return f.compose(next, Limiter::failed);
    }
    if (f.failed()) {
      return failed(f.cause());
    }
    try {
      return next.apply(f.result());
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * A failed answer: the shared limits' outage is refused here as {@code limits.unavailable} (the
   * pipeline would read any failure as the local limiter's {@code limit.unavailable}); any other
   * failure stays a failure.
   */
  private static Future<Rejection> failed(Throwable e) {
    return e instanceof LimitsUnavailableException
        ? Stage.refuse(unavailable(e))
        : Future.failedFuture(e);
  }

  /**
   * Calls a limiter or ledger and makes its answer safe to continue from on the event loop: an
   * exception, or no future at all, becomes a failed future; a pending future completes on the
   * caller's context whichever thread the back end answers on, and fails if it has not answered
   * within {@link #REMOTE_ANSWER_MILLIS} (so a back end that hangs refuses, and holds nothing).
   */
  @SuppressWarnings("ReferenceEquality") // the same Vert.x context, which has no equals
  private static <T> Future<T> ask(Supplier<Future<T>> call) {
    Future<T> f;
    try {
      f = call.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    if (f == null) {
      return Future.failedFuture(new IllegalStateException("the limiter answered nothing"));
    }
    Context ctx = Vertx.currentContext();
    if (f.isComplete() || ctx == null) {
      return f;
    }
    Promise<T> p = Promise.promise();
    long timer =
        ctx.owner()
            .setTimer(
                REMOTE_ANSWER_MILLIS,
                id ->
                    p.tryFail("the limiter did not answer within " + REMOTE_ANSWER_MILLIS + " ms"));
    Handler<AsyncResult<T>> settle =
        ar -> {
          ctx.owner().cancelTimer(timer);
          if (ar.succeeded()) {
            p.tryComplete(ar.result());
          } else {
            p.tryFail(ar.cause());
          }
        };
    f.onComplete(
        ar -> {
          if (Vertx.currentContext() == ctx) {
            settle.handle(ar);
          } else {
            ctx.runOnContext(
                v -> settle.handle(ar)); // the back end answered on a thread of its own
          }
        });
    return p.future();
  }

  /**
   * The checks on the body, then a concurrency slot: applies the request caps (which may rewrite
   * the JSON body, as does asking the upstream for usage figures), then waits for a slot if need
   * be. On success the request holds a slot, released by {@link Exchange#release}.
   */
  public Future<Rejection> admit(Exchange x) {
    KeyLimits own = Objects.requireNonNull(x.principal(), "identify.key ran").limits();
    if (x.json() instanceof ObjectNode fields
        && isCompute(Objects.requireNonNull(x.route(), "authorize.route ran"))) {
      // Decided on the policy fields (a copy of the two levels the caps edit), so a body that needs
      // no change is forwarded as received. A change (common: an Ollama generation without
      // num_predict, an OpenAI stream without include_usage) is spliced into the body's bytes from
      // the edited copy; only what a splice cannot express builds the full tree, where the same
      // code edits it.
      ObjectNode checked = BodyFields.editableCopy(fields);
      String path = Objects.requireNonNull(x.target(), "listen.shape ran").path();
      RequestCaps.Result capped = caps.apply(path, checked, own.maxOutputTokens());
      if (capped.rejection() != null) {
        return Future.succeededFuture(capped.rejection());
      }
      boolean usage = needsUsage(path, checked);
      if (capped.changed() || usage) {
        try {
          Buffer body = Objects.requireNonNull(x.body(), "json() came with it");
          if (usage) {
            askForUsage(checked);
            x.askedForUsage();
          }
          BodyLayout layout = x.bodyLayout();
          Buffer spliced = layout == null ? null : layout.splice(body, fields, checked);
          if (spliced != null) {
            // The splice wrote exactly the edits from the policy fields to the edited copy, so the
            // copy is what a scan of the new body reads (SpliceEquivalenceTest and the splice
            // fuzz target hold it to that): not read again, which for a body carrying a 14 MB
            // image was a second pass over every byte. No layout: no later stage splices.
            x.bodyRewritten(spliced, new BodyFields.Scan(checked, false, null));
          } else {
            ObjectNode tree = BodyFields.tree(body);
            if (capped.changed()) {
              caps.apply(path, tree, own.maxOutputTokens());
            }
            if (usage) {
              askForUsage(tree);
            }
            // a whole tree written out is read again (one streaming pass): what the later readers
            // (the audit record, the probe scoring) see is what the upstream gets
            Buffer rewritten = BodyFields.write(tree);
            x.bodyRewritten(rewritten, BodyFields.scan(rewritten));
          }
        } catch (java.io.IOException | RuntimeException e) {
          return Future.succeededFuture(Rejection.logged(Problem.INTERNAL, e.toString()));
        }
      }
    }
    int keyCap = own.concurrency() != null ? own.concurrency() : config.concurrency().perKey();
    ConcurrencyGate.Slot slot = gate.acquire(x.principal().keyId(), keyCap);
    x.slotHeld(slot::release);
    return slot.granted()
        .map(problem -> problem == null ? null : retry(problem, problem.message, 1_000_000_000L));
  }

  private static boolean isCompute(Route route) {
    return route.operation() == Operation.INFERENCE || route.operation() == Operation.EMBEDDINGS;
  }

  /**
   * OpenAI streams carry usage only when asked ({@code stream_options.include_usage}). Budgets and
   * accounting need it, so ask on the client's behalf, and have the meter drop the extra event.
   */
  static boolean needsUsage(String path, ObjectNode body) {
    if (!path.equals("/v1/chat/completions") && !path.equals("/v1/completions")) {
      return false;
    }
    JsonNode stream = JsonFields.get(body, "stream");
    if (stream == null || !stream.asBoolean(false)) {
      return false;
    }
    JsonNode opts = JsonFields.get(body, "stream_options");
    return !(opts instanceof ObjectNode o
        && JsonFields.get(o, "include_usage") != null
        && Objects.requireNonNull(JsonFields.get(o, "include_usage"), "checked on the line above")
            .asBoolean(false)); // the client asked and will get it
  }

  /** Sets {@code stream_options.include_usage} in a body {@link #needsUsage} said lacks it. */
  static void askForUsage(ObjectNode body) {
    JsonNode opts = JsonFields.get(body, "stream_options");
    ObjectNode o =
        opts instanceof ObjectNode existing ? existing : body.putObject("stream_options");
    o.put("include_usage", true);
  }

  private static Rejection retry(Problem p, String message, long waitNanos) {
    return Rejection.retryAfter(p, message, (waitNanos + 999_999_999L) / 1_000_000_000L);
  }
}

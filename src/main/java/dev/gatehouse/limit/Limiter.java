package dev.gatehouse.limit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.Budgets;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.JsonFields;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.exchange.Route;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.store.UsageLedger;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * The limit stage: request rates per key and per client IP, token budgets, caps on what a request
 * may ask for, and in-flight concurrency. Checked cheapest first; every refusal happens before the
 * upstream is contacted, and every failure of a limiter refuses (fail closed). Thread-safe.
 */
public final class Limiter {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final GatehouseConfig config;
  private final RateLimiter rates;
  private final ConcurrencyGate gate;
  private final UsageLedger ledger;
  private final RequestCaps caps;
  private final Clock clock;

  public Limiter(GatehouseConfig config, RateLimiter rates, ConcurrencyGate gate, UsageLedger ledger, Clock clock) {
    this.config = config;
    this.rates = rates;
    this.gate = gate;
    this.ledger = ledger;
    this.caps = new RequestCaps(config.caps());
    this.clock = clock;
  }

  /**
   * The much lower per-IP rate for requests without a valid key: once it is spent, a client
   * guessing keys gets 429 instead of an answer to each guess.
   */
  public Rejection anonymous(Exchange x) {
    GatehouseConfig.Rate r = config.rate();
    if (r.anonymousIpRpm() <= 0) {
      return null;
    }
    try {
      long wait = rates.tryTake("anon:" + x.clientIp(), r.anonymousIpRpm(), Math.max(1, r.anonymousIpBurst()));
      return wait == 0 ? null : retry(Problem.RATE_LIMITED, "too many unauthenticated requests from this address", wait);
    } catch (RuntimeException e) {
      return Rejection.logged(Problem.LIMITER_UNAVAILABLE, e.toString());
    }
  }

  /** The budgets for a key: its own, else the global ones. */
  public Budgets budgets(Principal p) {
    KeyLimits l = p.limits();
    return new Budgets(
        l.tokensPerMinute() != null ? l.tokensPerMinute() : config.budget().tokensPerMinute(),
        l.tokensPerDay() != null ? l.tokensPerDay() : config.budget().tokensPerDay());
  }

  /**
   * The checks that need no body: request rates per key and per address, and token budgets.
   * Run before the body is read, so a client over its limits costs as little as possible.
   */
  public Rejection rates(Exchange x) {
    Principal p = x.principal();
    KeyLimits own = p.limits();
    GatehouseConfig.Rate r = config.rate();
    try {
      int rpm = own.rpm() != null ? own.rpm() : r.keyRpm();
      int burst = own.burst() != null ? own.burst() : Math.max(1, r.keyBurst());
      if (rpm > 0) {
        long wait = rates.tryTake("key:" + p.keyId(), rpm, burst);
        if (wait > 0) {
          return retry(Problem.RATE_LIMITED, "this key is sending too many requests", wait);
        }
      }
      if (r.ipRpm() > 0) {
        long wait = rates.tryTake("ip:" + x.clientIp(), r.ipRpm(), Math.max(1, r.ipBurst()));
        if (wait > 0) {
          return retry(Problem.RATE_LIMITED, "too many requests from this address", wait);
        }
      }
      Budgets b = budgets(p);
      if (b.any() && isCompute(x.route())) {
        long[] used = ledger.used(p.keyId());
        if (b.perMinute() > 0 && used[0] >= b.perMinute()) {
          long toNextMinute = 60 - (clock.millis() / 1000) % 60;
          return retry(Problem.BUDGET_EXHAUSTED, "this key's tokens-per-minute budget is spent", toNextMinute * 1_000_000_000L);
        }
        if (b.perDay() > 0 && used[1] >= b.perDay()) {
          long now = clock.millis() / 1000;
          long midnight = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toEpochSecond();
          return retry(Problem.BUDGET_EXHAUSTED, "this key's tokens-per-day budget is spent", (midnight - now) * 1_000_000_000L);
        }
      }
      return null;
    } catch (RuntimeException e) {
      return Rejection.logged(Problem.LIMITER_UNAVAILABLE, e.toString());
    }
  }

  /**
   * The checks on the body, then a concurrency slot: applies the request caps (which may rewrite
   * the JSON body, as does asking the upstream for usage figures), then waits for a slot if need
   * be. On success the request holds a slot, released by {@link Exchange#release()}.
   */
  public Future<Rejection> admit(Exchange x) {
    KeyLimits own = x.principal().limits();
    if (x.json() instanceof ObjectNode body && isCompute(x.route())) {
      RequestCaps.Result capped = caps.apply(x.target().path(), body, own.maxOutputTokens());
      if (capped.rejection() != null) {
        return Future.succeededFuture(capped.rejection());
      }
      boolean changed = capped.changed() | askForUsage(x, body);
      if (changed) {
        try {
          x.bodyRewritten(Buffer.buffer(JSON.writeValueAsBytes(body)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          return Future.succeededFuture(Rejection.logged(Problem.INTERNAL, e.toString()));
        }
      }
    }
    int keyCap = own.concurrency() != null ? own.concurrency() : config.concurrency().perKey();
    ConcurrencyGate.Slot slot = gate.acquire(x.principal().keyId(), keyCap);
    x.slotHeld(slot::release);
    return slot.granted().map(problem -> problem == null ? null : retry(problem, problem.message, 1_000_000_000L));
  }

  private static boolean isCompute(Route route) {
    return route.operation() == Operation.INFERENCE || route.operation() == Operation.EMBEDDINGS;
  }

  /**
   * OpenAI streams carry usage only when asked ({@code stream_options.include_usage}). Budgets and
   * accounting need it, so ask on the client's behalf, and have the meter drop the extra event.
   */
  private static boolean askForUsage(Exchange x, ObjectNode body) {
    String path = x.target().path();
    if (!path.equals("/v1/chat/completions") && !path.equals("/v1/completions")) {
      return false;
    }
    JsonNode stream = JsonFields.get(body, "stream");
    if (stream == null || !stream.asBoolean(false)) {
      return false;
    }
    JsonNode opts = JsonFields.get(body, "stream_options");
    if (opts instanceof ObjectNode o && JsonFields.get(o, "include_usage") != null && JsonFields.get(o, "include_usage").asBoolean(false)) {
      return false; // the client asked for it and will get it
    }
    ObjectNode o = opts instanceof ObjectNode existing ? existing : body.putObject("stream_options");
    o.put("include_usage", true);
    x.askedForUsage();
    return true;
  }

  private static Rejection retry(Problem p, String message, long waitNanos) {
    return Rejection.retryAfter(p, message, (waitNanos + 999_999_999L) / 1_000_000_000L);
  }
}

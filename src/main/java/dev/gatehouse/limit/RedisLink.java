package dev.gatehouse.limit;

import dev.gatehouse.config.GatehouseConfig.SharedLimits;
import dev.gatehouse.exchange.LimitsUnavailableException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The gateway's link to Redis for the shared limits: one pooled client (standalone, Sentinel or
 * Cluster; TLS with {@code rediss://}; user and password), Lua scripts run by SHA with a fallback
 * to their text, a health check that says whether Redis answers, and one subscriber connection for
 * the channels. Every call is bounded by {@code redis.timeout} and fails with {@link
 * LimitsUnavailableException}, which the request path refuses as {@code limits.unavailable}.
 *
 * <p><b>Reconnection.</b> The pooled client opens a connection per call when it has none, so a
 * restarted Redis is used again by the next call; the subscriber reconnects on its own timer (it is
 * one long-lived connection, which the pool does not replace). A health check every second marks
 * the link up or down and reports each change ({@code gatehouse_limits_up}, {@code /readyz}, the
 * {@code dependency_down} alert). Thread-safe; nothing here blocks an event loop.
 */
public final class RedisLink implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse.limits");

  /** How often Redis is pinged, and the subscriber retried after it lost its connection. */
  static final long CHECK_MILLIS = 1000;

  /** A Lua script and its SHA-1, as EVALSHA names it. */
  public record Script(String text, String sha) {
    public static Script of(String text) {
      try {
        byte[] d = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
        return new Script(text, HexFormat.of().formatHex(d));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-1 is part of every JVM", e);
      }
    }
  }

  /** What a change of state is reported to: up or not, and why (never a password). */
  public interface Watcher {
    void changed(boolean up, String detail);
  }

  private final Vertx vertx;
  private final Redis client;
  private final long timeoutMillis;
  private final String prefix;
  private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
  private final Map<String, Consumer<String>> channels = new ConcurrentHashMap<>();
  private final List<Runnable> onSubscribed = new CopyOnWriteArrayList<>();
  private volatile boolean up;
  private volatile boolean checked;
  private volatile boolean closed;
  private volatile @Nullable RedisConnection subscriber;
  private long checkTimer = -1;

  private RedisLink(Vertx vertx, Redis client, long timeoutMillis, String prefix) {
    this.vertx = vertx;
    this.client = client;
    this.timeoutMillis = timeoutMillis;
    this.prefix = prefix;
  }

  /** A link for {@code config} (limits.kind redis); reads the password file. Connects lazily. */
  public static RedisLink open(Vertx vertx, SharedLimits config) throws IOException {
    RedisOptions o = new RedisOptions();
    switch (config.mode()) {
      case "sentinel" -> {
        o.setType(RedisClientType.SENTINEL).setMasterName(config.masterName());
        o.setRole(RedisRole.MASTER);
        o.setEndpoints(config.endpoints());
      }
      case "cluster" -> o.setType(RedisClientType.CLUSTER).setEndpoints(config.endpoints());
      default -> o.setType(RedisClientType.STANDALONE).setConnectionString(config.url());
    }
    if (config.passwordFile() != null) {
      String password = Files.readString(config.passwordFile(), StandardCharsets.UTF_8).strip();
      o.setPassword(password);
      if (!config.user().isEmpty()) {
        o.setUser(config.user());
      }
    }
    int timeout = (int) Math.max(1, config.timeout().toMillis());
    NetClientOptions net = o.getNetClientOptions();
    net.setConnectTimeout(timeout).setTcpNoDelay(true).setTcpKeepAlive(true);
    // a rediss:// address turns TLS on; the server's certificate is checked against redis.tls_ca
    // (else the JVM's trust store) and its name, like any other TLS client here: a server that
    // cannot prove it is the configured one is refused, never trusted
    net.setHostnameVerificationAlgorithm("HTTPS");
    java.nio.file.Path ca = config.tlsCa();
    if (ca != null) {
      net.setTrustOptions(new PemTrustOptions().addCertPath(ca.toString()));
    }
    o.setMaxPoolSize(16).setMaxPoolWaiting(4096).setMaxWaitingHandlers(4096);
    o.setPoolRecycleTimeout(60_000);
    return new RedisLink(vertx, Redis.createClient(vertx, o), timeout, config.keyPrefix());
  }

  /** The key or channel {@code name} under {@code redis.key_prefix}. */
  public String key(String name) {
    return prefix + name;
  }

  /** Reports each change of state to {@code w}, from the next one on. */
  public void watch(Watcher w) {
    watchers.add(w);
  }

  /**
   * Starts the health check and the subscriber; call once, after the handlers are set. Completes
   * once Redis has answered and holds {@code scripts} (so the first requests pay no connection
   * set-up or script upload), or failed when it cannot be reached now; the link works either way,
   * and connects when Redis does.
   */
  public Future<Void> start(List<Script> scripts) {
    checkTimer = vertx.setPeriodic(CHECK_MILLIS, id -> check());
    subscribe();
    Future<Response> ping = send(Request.cmd(Command.PING));
    ping.onSuccess(r -> changed(true, "Redis answers")).onFailure(e -> down(e.getMessage()));
    return ping.compose(
        r -> {
          List<Future<Response>> loads = new java.util.ArrayList<>();
          for (Script sc : scripts) {
            loads.add(send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(sc.text())));
          }
          return Future.all(loads).mapEmpty();
        });
  }

  /** True when Redis answered the last check and no call has failed since. */
  public boolean up() {
    return up;
  }

  /** Sends one command, bounded by {@code redis.timeout}; any failure is a limits outage. */
  public Future<Response> send(Request request) {
    if (closed) {
      return Future.failedFuture(new LimitsUnavailableException("the Redis link is closed"));
    }
    Promise<Response> p = Promise.promise();
    long timer =
        vertx.setTimer(
            timeoutMillis,
            id -> {
              if (p.tryFail(
                  new LimitsUnavailableException(
                      "Redis did not answer within " + timeoutMillis + " ms"))) {
                down("no answer within " + timeoutMillis + " ms");
              }
            });
    Future<Response> sent;
    try {
      sent = client.send(request);
    } catch (RuntimeException e) {
      sent = Future.failedFuture(e);
    }
    sent.onComplete(
        ar -> {
          vertx.cancelTimer(timer);
          if (ar.succeeded()) {
            p.tryComplete(ar.result());
          } else if (p.tryFail(outage(ar.cause()))) {
            if (!isScriptMissing(ar.cause())) {
              down(String.valueOf(ar.cause().getMessage()));
            }
          }
        });
    return p.future();
  }

  private static LimitsUnavailableException outage(Throwable e) {
    return e instanceof LimitsUnavailableException l
        ? l
        : new LimitsUnavailableException("Redis: " + e.getMessage());
  }

  private static boolean isScriptMissing(Throwable e) {
    String m = e.getMessage();
    return m != null && m.contains("NOSCRIPT");
  }

  /** Runs {@code script} by SHA, and by its text when this server has not seen it yet. */
  public Future<Response> eval(Script script, List<String> keys, List<?> args) {
    return send(evalRequest(Command.EVALSHA, script.sha(), keys, args))
        .recover(
            e ->
                isScriptMissing(e)
                    ? send(evalRequest(Command.EVAL, script.text(), keys, args))
                    : Future.failedFuture(e));
  }

  private static Request evalRequest(Command c, String first, List<String> keys, List<?> args) {
    Request r = Request.cmd(c).arg(first).arg(keys.size());
    for (String k : keys) {
      r.arg(k);
    }
    for (Object a : args) {
      r.arg(String.valueOf(a));
    }
    return r;
  }

  /** Publishes {@code message} on the channel {@code name} (under the prefix). */
  public Future<Response> publish(String name, String message) {
    return send(Request.cmd(Command.PUBLISH).arg(key(name)).arg(message));
  }

  /**
   * Calls {@code handler} with each message on the channel {@code name}, on an event loop. Set
   * before {@link #start}.
   */
  public void subscribe(String name, Consumer<String> handler) {
    channels.put(key(name), handler);
  }

  /**
   * Runs {@code r} each time the subscriber (re)subscribes: messages sent while it was away are
   * lost, so what they would have triggered is done then.
   */
  public void onSubscribed(Runnable r) {
    onSubscribed.add(r);
  }

  private void check() {
    if (closed) {
      return;
    }
    send(Request.cmd(Command.PING))
        .onSuccess(r -> changed(true, "Redis answers"))
        .onFailure(e -> down(e.getMessage()));
  }

  private void down(@Nullable String why) {
    changed(false, why == null ? "Redis failed" : why);
  }

  private void changed(boolean now, String detail) {
    boolean report;
    synchronized (this) {
      report = !checked || up != now;
      checked = true;
      up = now;
    }
    if (!report) {
      return;
    }
    if (now) {
      LOG.info("limits: Redis is reachable");
    } else {
      LOG.severe(
          "limits: Redis is unreachable ("
              + detail
              + "): requests with limits are refused with 503 limits.unavailable");
    }
    for (Watcher w : watchers) {
      w.changed(now, detail);
    }
  }

  private void subscribe() {
    if (closed || channels.isEmpty()) {
      return;
    }
    client
        .connect()
        .onComplete(
            ar -> {
              if (ar.failed()) {
                retrySubscribe();
                return;
              }
              RedisConnection c = ar.result();
              if (closed) {
                c.close();
                return;
              }
              subscriber = c;
              c.handler(this::message);
              c.exceptionHandler(e -> lost(c));
              c.endHandler(v -> lost(c));
              Request sub = Request.cmd(Command.SUBSCRIBE);
              channels.keySet().forEach(sub::arg);
              c.send(sub)
                  .onSuccess(
                      r -> {
                        for (Runnable run : onSubscribed) {
                          run.run();
                        }
                      })
                  .onFailure(e -> lost(c));
            });
  }

  @SuppressWarnings("ReferenceEquality") // the same connection
  private void lost(RedisConnection c) {
    synchronized (this) {
      if (subscriber != c) {
        return; // already handled
      }
      subscriber = null;
    }
    c.close();
    retrySubscribe();
  }

  private void retrySubscribe() {
    if (!closed) {
      vertx.setTimer(CHECK_MILLIS, id -> subscribe());
    }
  }

  private void message(Response r) {
    if (r.size() >= 3 && "message".equals(String.valueOf(r.get(0)))) {
      Consumer<String> h = channels.get(String.valueOf(r.get(1)));
      if (h != null) {
        h.accept(String.valueOf(r.get(2)));
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    if (checkTimer != -1) {
      vertx.cancelTimer(checkTimer);
    }
    RedisConnection c = subscriber;
    subscriber = null;
    if (c != null) {
      c.close();
    }
    client.close();
  }
}

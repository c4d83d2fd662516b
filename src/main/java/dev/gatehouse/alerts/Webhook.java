package dev.gatehouse.alerts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Delivers alerts to a webhook as JSON POSTs, one at a time and in order, on a Vert.x context of
 * its own: {@link #accept} only queues, so a slow or dead receiver never holds up a request. A
 * failed delivery (no connection, timeout, 408, 429 or 5xx) is retried after {@code backoff},
 * doubling each time up to {@value #MAX_BACKOFF_SECONDS}s (a Retry-After within that is honoured),
 * up to {@code retries} times; other 4xx answers are final. The queue holds {@value #MAX_QUEUE}
 * alerts; past that the oldest is dropped and logged.
 *
 * <p>With a secret, each POST carries {@code X-Gatehouse-Signature: sha256=HEX}, the HMAC-SHA256 of
 * the body, so the receiver can tell the alert came from this gateway.
 */
public final class Webhook implements Consumer<Alert>, AutoCloseable {

  static final int MAX_QUEUE = 1000;
  static final long MAX_BACKOFF_SECONDS = 300;

  private static final Logger LOG = Logger.getLogger("gatehouse.alerts");
  private static final ObjectMapper JSON = new ObjectMapper();

  private record Delivery(String id, String body) {}

  private final Vertx vertx;
  private final Context context;
  private final HttpClient client;
  private final URI url;
  private final byte @Nullable [] secret;
  private final long timeoutMillis;
  private final int retries;
  private final long backoffMillis;
  private final String gateway;
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong failedAttempts = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();

  // Confined to the context.
  private final ArrayDeque<Delivery> queue = new ArrayDeque<>();
  private boolean sending;
  private boolean closed;

  /**
   * @param secret HMAC key for the signature header, or null for none
   * @param gateway this gateway's name, sent in each alert
   */
  public Webhook(
      Vertx vertx,
      URI url,
      byte @Nullable [] secret,
      Duration timeout,
      int retries,
      Duration backoff,
      String gateway) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.url = url;
    this.secret = secret == null ? null : secret.clone();
    this.timeoutMillis = timeout.toMillis();
    this.retries = retries;
    this.backoffMillis = Math.max(1, backoff.toMillis());
    this.gateway = gateway;
    boolean tls = "https".equals(url.getScheme());
    this.client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setSsl(tls)
                .setVerifyHost(true)
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis)));
  }

  /** Alerts delivered (a 2xx answer). */
  public long delivered() {
    return delivered.get();
  }

  /** Attempts that failed, retried or not. */
  public long failedAttempts() {
    return failedAttempts.get();
  }

  /** Alerts given up on: out of retries, refused with a 4xx, or pushed out of a full queue. */
  public long dropped() {
    return dropped.get();
  }

  @Override
  public void accept(Alert alert) {
    String body;
    try {
      body = JSON.writeValueAsString(alert.payload(gateway));
    } catch (JsonProcessingException e) {
      LOG.log(Level.SEVERE, "alert " + alert.id() + " could not be encoded", e);
      return;
    }
    Delivery d = new Delivery(alert.id(), body);
    context.runOnContext(
        v -> {
          if (closed) {
            return;
          }
          if (queue.size() >= MAX_QUEUE) {
            Delivery old = queue.removeFirst();
            dropped.incrementAndGet();
            LOG.severe(
                "alert "
                    + old.id()
                    + " dropped: the webhook queue is full ("
                    + MAX_QUEUE
                    + " alerts)");
          }
          queue.addLast(d);
          next();
        });
  }

  private void next() {
    if (sending || closed || queue.isEmpty()) {
      return;
    }
    sending = true;
    attempt(queue.peekFirst(), 0);
  }

  private void attempt(Delivery d, int attempt) {
    int port = url.getPort() > 0 ? url.getPort() : "https".equals(url.getScheme()) ? 443 : 80;
    String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
    if (url.getRawQuery() != null) {
      path += "?" + url.getRawQuery();
    }
    RequestOptions opts =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setHost(url.getHost())
            .setPort(port)
            .setURI(path)
            .setIdleTimeout(timeoutMillis)
            .putHeader("Content-Type", "application/json")
            .putHeader("User-Agent", "gatehouse-alerts")
            .putHeader("X-Gatehouse-Alert-Id", d.id())
            .putHeader("X-Gatehouse-Attempt", Integer.toString(attempt + 1));
    if (secret != null) {
      opts.putHeader("X-Gatehouse-Signature", "sha256=" + sign(d.body()));
    }
    client
        .request(opts)
        .compose(req -> req.send(Buffer.buffer(d.body())))
        .compose(resp -> resp.body().map(b -> resp))
        .onComplete(
            ar -> {
              int status = ar.succeeded() ? ar.result().statusCode() : 0;
              if (status >= 200 && status < 300) {
                delivered.incrementAndGet();
                done();
                return;
              }
              failedAttempts.incrementAndGet();
              String why =
                  ar.succeeded() ? "HTTP " + status : String.valueOf(ar.cause().getMessage());
              boolean retryable = status == 0 || status == 408 || status == 429 || status >= 500;
              if (!retryable || attempt >= retries || closed) {
                dropped.incrementAndGet();
                LOG.severe(
                    "alert "
                        + d.id()
                        + " not delivered to the webhook after "
                        + (attempt + 1)
                        + " attempts: "
                        + why);
                done();
                return;
              }
              long delay =
                  Math.min(MAX_BACKOFF_SECONDS * 1000, backoffMillis << Math.min(attempt, 20));
              String retryAfter = ar.succeeded() ? ar.result().getHeader("Retry-After") : null;
              if (retryAfter != null && retryAfter.matches("[0-9]{1,6}")) {
                delay =
                    Math.min(
                        MAX_BACKOFF_SECONDS * 1000,
                        Math.max(delay, Long.parseLong(retryAfter) * 1000));
              }
              LOG.warning(
                  "alert "
                      + d.id()
                      + " webhook attempt "
                      + (attempt + 1)
                      + " failed ("
                      + why
                      + "); retrying in "
                      + delay
                      + " ms");
              vertx.setTimer(delay, t -> context.runOnContext(v -> attempt(d, attempt + 1)));
            });
  }

  private void done() {
    queue.pollFirst();
    sending = false;
    next();
  }

  private String sign(String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Stops delivering; alerts still queued are logged as dropped. */
  @Override
  public void close() {
    context.runOnContext(
        v -> {
          closed = true;
          if (!queue.isEmpty()) {
            LOG.warning(
                queue.size() + " alerts not delivered to the webhook: the gateway is stopping");
          }
          queue.clear();
          client.close();
        });
  }
}

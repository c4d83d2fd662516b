package dev.gatehouse.upstream;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.logging.Logger;

/**
 * Checks the upstream now and then with a {@code GET /}: any HTTP answer means up; no connection,
 * or no answer within the check timeout, means down. A change (and a first check that finds it
 * down) is logged and handed to {@code onChange} with a detail. Read by the metrics; feeds the
 * {@code upstream_down} and {@code upstream_up} alert events. Thread-safe.
 */
public final class UpstreamHealth implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger("gatehouse.upstream");

  private final Vertx vertx;
  private final HttpClient client;
  private final URI upstream;
  private final long timeoutMillis;
  private final BiConsumer<Boolean, String> onChange;
  private volatile int state = -1; // -1 unknown, 0 down, 1 up
  private volatile long lastCheckMicros;
  private long timer = -1;

  /** @param onChange called with (up, detail) on every change of state; must not block */
  public UpstreamHealth(Vertx vertx, URI upstream, Duration timeout, BiConsumer<Boolean, String> onChange) {
    this.vertx = vertx;
    this.upstream = upstream;
    this.timeoutMillis = Math.max(100, timeout.toMillis());
    this.onChange = onChange;
    this.client = vertx.createHttpClient(new HttpClientOptions()
        .setSsl("https".equals(upstream.getScheme()))
        .setKeepAlive(false)
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis)));
  }

  /** Checks now, then every {@code interval}. */
  public void start(Duration interval) {
    check();
    timer = vertx.setPeriodic(interval.toMillis(), id -> check());
  }

  /** 1 when the last check got an answer, 0 when it did not, -1 before the first check ends. */
  public int state() {
    return state;
  }

  /** How long the last check took, in microseconds. */
  public long lastCheckMicros() {
    return lastCheckMicros;
  }

  /** Runs one check. */
  public void check() {
    long t0 = System.nanoTime();
    int port = upstream.getPort() > 0 ? upstream.getPort() : "https".equals(upstream.getScheme()) ? 443 : 80;
    client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost(upstream.getHost()).setPort(port).setURI("/")
            .setIdleTimeout(timeoutMillis))
        .compose(req -> req.send())
        .compose(resp -> resp.body().map(b -> "HTTP " + resp.statusCode()))
        .onComplete(ar -> {
          lastCheckMicros = (System.nanoTime() - t0) / 1000;
          int now = ar.succeeded() ? 1 : 0;
          int before = state;
          state = now;
          if (now == before || (before == -1 && now == 1)) {
            return;
          }
          String detail = ar.succeeded() ? ar.result() : String.valueOf(ar.cause().getMessage());
          if (now == 1) {
            LOG.info("event=upstream.up upstream=" + upstream + " (" + detail + ")");
          } else {
            LOG.warning("event=upstream.down upstream=" + upstream + " (" + detail + ")");
          }
          onChange.accept(now == 1, detail);
        });
  }

  @Override
  public void close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    client.close();
  }
}

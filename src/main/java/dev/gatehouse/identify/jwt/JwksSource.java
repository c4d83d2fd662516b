package dev.gatehouse.identify.jwt;

import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * Where the identity provider's public keys come from: a JWKS file read once, or a JWKS URL fetched
 * and cached. Only public keys are kept: symmetric and private members of a set are dropped, so no
 * HMAC secret can ever come from here.
 *
 * <p>A URL is fetched by the JDK HTTP client on its own threads, never on an event loop, with a
 * {@link #TIMEOUT}; fetches are at least {@code minRefetch} apart, so tokens naming made-up key ids
 * cannot make Gatehouse hammer the provider, and a fetch in progress is shared by every request
 * that waits for it. A failed fetch keeps the keys already cached. Thread-safe: the state is one
 * immutable snapshot swapped under a lock that guards no I/O.
 */
public final class JwksSource {

  private static final Logger LOG = Logger.getLogger("gatehouse.jwt");

  /** The longest a JWKS fetch may take, connection included. */
  static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** The largest key set accepted; a real one is a few KiB. */
  static final int MAX_BYTES = 1 << 20;

  /**
   * What is known now.
   *
   * @param keys the public keys of the last good fetch, or null before the first
   * @param fetchedAt when {@code keys} were fetched
   * @param attemptedAt when the last fetch started, or null before the first
   * @param failed whether the last fetch failed
   * @param inFlight the fetch in progress, or null
   */
  private record State(
      @Nullable JWKSet keys,
      @Nullable Instant fetchedAt,
      @Nullable Instant attemptedAt,
      boolean failed,
      @Nullable CompletableFuture<Void> inFlight) {}

  private final @Nullable URI url;
  private final Clock clock;
  private final Duration refresh;
  private final Duration minRefetch;
  private final @Nullable HttpClient http;
  private final @Nullable Executor threads;
  private final Object lock = new Object();
  private volatile State state;

  private JwksSource(
      @Nullable URI url,
      @Nullable JWKSet keys,
      Clock clock,
      Duration refresh,
      Duration minRefetch,
      @Nullable HttpClient http,
      @Nullable Executor threads) {
    this.url = url;
    this.threads = threads;
    this.clock = clock;
    this.refresh = refresh;
    this.minRefetch = minRefetch;
    this.http = http;
    this.state = new State(keys, keys == null ? null : clock.instant(), null, false, null);
  }

  /** A key set read from a file now (call it off the event loops). */
  public static JwksSource fromFile(Path file) throws IOException {
    try {
      JWKSet keys = JWKSet.parse(Files.readString(file, StandardCharsets.UTF_8)).toPublicJWKSet();
      return new JwksSource(
          null, keys, Clock.systemUTC(), Duration.ZERO, Duration.ZERO, null, null);
    } catch (ParseException e) {
      throw new IOException(file + ": not a JSON Web Key Set: " + e.getMessage(), e);
    }
  }

  /** A key set fetched from {@code url}; the first fetch starts now, in the background. */
  public static JwksSource fromUrl(URI url, Clock clock, Duration refresh, Duration minRefetch) {
    // The client's own threads (they end when idle) do the fetch, the name lookup included:
    // never the event loop that asked for it
    ExecutorService threads =
        Executors.newCachedThreadPool(
            Thread.ofPlatform().daemon().name("gatehouse-jwks-", 0).factory());
    HttpClient http =
        HttpClient.newBuilder()
            .connectTimeout(TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(threads)
            .build();
    JwksSource source = new JwksSource(url, null, clock, refresh, minRefetch, http, threads);
    source.refetch();
    return source;
  }

  /** The public keys known now, or null when none were ever fetched. */
  public @Nullable JWKSet keys() {
    State s = state;
    if (url != null && s.fetchedAt() != null && age(s.fetchedAt()).compareTo(refresh) > 0) {
      refetch(); // stale: fetched again in the background; the cached keys answer meanwhile
    }
    return s.keys();
  }

  /**
   * Whether the provider's keys are unavailable: never fetched, or the last fetch failed. A token
   * whose key is missing then gets 503 rather than 401, since it may be valid.
   */
  public boolean unavailable() {
    State s = state;
    return s.keys() == null || s.failed();
  }

  /** Whether this source can fetch again (a URL, not a file). */
  public boolean fetches() {
    return url != null;
  }

  /**
   * Starts a fetch unless one is in progress or one started less than {@code minRefetch} ago. The
   * future completes (never fails) when the fetch in force ends, or at once when none may start.
   */
  public CompletableFuture<Void> refetch() {
    URI u = url;
    HttpClient client = http;
    if (u == null || client == null) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> done;
    synchronized (lock) {
      State s = state;
      if (s.inFlight() != null) {
        return s.inFlight();
      }
      if (s.attemptedAt() != null && age(s.attemptedAt()).compareTo(minRefetch) < 0) {
        return CompletableFuture.completedFuture(null); // rate-limited: answer with what we have
      }
      done = new CompletableFuture<>();
      state = new State(s.keys(), s.fetchedAt(), clock.instant(), s.failed(), done);
    }
    HttpRequest request =
        HttpRequest.newBuilder(u)
            .timeout(TIMEOUT)
            .header("Accept", "application/json, application/jwk-set+json")
            .GET()
            .build();
    Executor pool = Objects.requireNonNull(threads, "a URL source has its threads");
    CompletableFuture.supplyAsync(() -> client.sendAsync(request, JwksSource::bounded), pool)
        .thenCompose(f -> f)
        // why: the request timeout ends at the response head; a body that trickles must not keep
        // every waiting request (and every later fetch) waiting with it
        .orTimeout(2 * TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .handle(
            (response, error) -> {
              finish(u, response, error);
              done.complete(null);
              return null;
            });
    return done;
  }

  /**
   * Reads the body of a 200 whose declared length is at most {@link #MAX_BYTES}; anything else is
   * discarded unread (and reported by {@link #finish}).
   */
  private static HttpResponse.BodySubscriber<byte[]> bounded(HttpResponse.ResponseInfo info) {
    long declared = info.headers().firstValueAsLong("Content-Length").orElse(-1);
    if (info.statusCode() != 200 || declared > MAX_BYTES) {
      return HttpResponse.BodySubscribers.replacing(new byte[0]);
    }
    return HttpResponse.BodySubscribers.ofByteArray();
  }

  private void finish(URI u, @Nullable HttpResponse<byte[]> response, @Nullable Throwable error) {
    JWKSet parsed = null;
    String problem = null;
    if (error != null || response == null) {
      problem = error == null ? "no response" : error.toString();
    } else if (response.statusCode() != 200) {
      problem = "HTTP " + response.statusCode();
    } else if (response.body().length > MAX_BYTES
        || response.headers().firstValueAsLong("Content-Length").orElse(-1) > MAX_BYTES) {
      problem = "larger than " + MAX_BYTES + " bytes";
    } else {
      try {
        parsed = JWKSet.parse(new String(response.body(), StandardCharsets.UTF_8)).toPublicJWKSet();
      } catch (ParseException e) {
        problem = "not a JSON Web Key Set: " + e.getMessage();
      }
    }
    synchronized (lock) {
      State s = state;
      state =
          parsed != null
              ? new State(parsed, clock.instant(), s.attemptedAt(), false, null)
              : new State(s.keys(), s.fetchedAt(), s.attemptedAt(), true, null);
    }
    if (problem != null) {
      // Fail closed: the keys cached before stay; without them a token is refused (503)
      LOG.log(Level.WARNING, "JWKS fetch from {0} failed: {1}", new Object[] {u, problem});
    }
  }

  private Duration age(Instant since) {
    return Duration.between(since, clock.instant());
  }
}

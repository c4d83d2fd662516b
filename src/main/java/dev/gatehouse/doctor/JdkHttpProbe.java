package dev.gatehouse.doctor;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * The real {@link HttpProbe}: {@code java.net.http} over HTTP/1.1, no redirects followed, every
 * wait bounded by one timeout, and at most 64 KiB of any body read.
 *
 * <p>Certificates are not verified here, on purpose: a probe must see what a server answers even
 * when its certificate is self-signed or wrong, and the TLS check reports the certificate
 * separately. Nothing is ever sent that would be secret (no keys, no prompts), so accepting any
 * certificate discloses nothing.
 */
public final class JdkHttpProbe implements HttpProbe, AutoCloseable {

  /** The most of a response body that is read; enough for every signature checked. */
  public static final int MAX_BODY = 64 * 1024;

  private final Duration timeout;
  private final String userAgent;

  /**
   * Made on the first probe, not here: {@code serve} makes its posture check's probe at start and
   * sends nothing for the first 30 s, and an HTTP client with its TLS context and selector thread
   * costs a few hundred milliseconds of CPU and some memory that start-up need not spend. Guarded
   * by this.
   */
  private @Nullable HttpClient client;

  private boolean closed;

  public JdkHttpProbe(Duration timeout, String userAgent) {
    this.timeout = timeout;
    this.userAgent = userAgent;
  }

  private synchronized HttpClient client() throws IOException {
    if (closed) {
      throw new IOException("probe closed");
    }
    HttpClient c = client;
    if (c == null) {
      c =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .followRedirects(HttpClient.Redirect.NEVER)
              .connectTimeout(timeout)
              .sslContext(trustAll())
              .build();
      client = c;
    }
    return c;
  }

  @Override
  public Response send(URI base, Request r) throws IOException {
    String root =
        base.toString().endsWith("/")
            ? base.toString().substring(0, base.toString().length() - 1)
            : base.toString();
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(root + r.path())).timeout(timeout);
    b.header("User-Agent", userAgent);
    r.headers().forEach(b::header);
    if (r.body() != null) {
      b.header("Content-Type", "application/json");
      b.method(r.method(), HttpRequest.BodyPublishers.ofString(r.body()));
    } else {
      b.method(r.method(), HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<InputStream> resp;
    try {
      resp =
          client()
              .sendAsync(b.build(), HttpResponse.BodyHandlers.ofInputStream())
              .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("no response within " + timeout.toMillis() + " ms");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    resp.headers().map().forEach((k, v) -> headers.put(k, String.join(", ", v)));
    return new Response(resp.statusCode(), headers, readBounded(resp.body()));
  }

  /**
   * Reads at most {@link #MAX_BODY} bytes, giving up after the timeout: a server that streams
   * forever, or trickles, cannot hold a probe open.
   */
  private String readBounded(InputStream in) throws IOException {
    AtomicReference<byte[]> result = new AtomicReference<>(new byte[0]);
    Thread reader =
        Thread.ofVirtual()
            .start(
                () -> {
                  try (in) {
                    result.set(in.readNBytes(MAX_BODY));
                  } catch (IOException e) {
                    // Cut off by the deadline below, or by the peer: keep what was read (nothing).
                  }
                });
    try {
      if (!reader.join(timeout)) {
        in.close();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      in.close();
      throw new InterruptedIOException("interrupted");
    }
    return new String(result.get(), StandardCharsets.UTF_8);
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (client != null) {
      client.close();
    }
  }

  /** A context that accepts any certificate and checks no host name; see the class comment. */
  public static SSLContext trustAll() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {new AcceptAny()}, new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no TLS implementation: " + e.getMessage(), e);
    }
  }

  /** Accepts every server certificate; only for reading what a server presents. */
  static final class AcceptAny extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}

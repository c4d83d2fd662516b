package dev.gatehouse.testing;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.gateway.Gateway;
import dev.gatehouse.identify.ApiKeys;
import dev.gatehouse.identify.ServerSecret;
import dev.gatehouse.keys.KeyService;
import dev.gatehouse.limit.LocalRateLimiter;
import dev.gatehouse.limit.RateLimiter;
import dev.gatehouse.store.SqliteStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real gateway on a free loopback port, in front of a {@link FakeUpstream}, with its own data
 * directory and SQLite store. Start one per test class; close it after.
 */
public final class GatewayFixture implements AutoCloseable {

  public final FakeUpstream upstream;
  public final Path dataDir;
  public final SqliteStore store;
  public final KeyService keys;
  public final GatehouseConfig config;
  private final Gateway gateway;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private GatewayFixture(
      FakeUpstream upstream,
      Path dataDir,
      Map<String, String> settings,
      RateLimiter rates,
      Clock clock,
      Path configFile)
      throws Exception {
    this.upstream = upstream;
    this.dataDir = dataDir;
    Map<String, String> flags = new LinkedHashMap<>();
    flags.put("listen", "127.0.0.1:0");
    if (!settings.containsKey("upstreams")) {
      flags.put("upstream", upstream.url()); // several upstreams come in their own setting
    }
    flags.put("data_dir", dataDir.toString());
    flags.put("server.event_loops", "2");
    // Tests send many refusals and bursts from 127.0.0.1; the tests of those limits set them.
    flags.put("rate.anonymous_ip_rpm", "0");
    flags.put("rate.key_rpm", "0");
    flags.put("rate.ip_rpm", "0");
    // Tests that are not about abuse controls send many 401s from loopback, and raw requests with
    // made-up Host names: exempt loopback from bans and accept any Host, unless a test says
    // otherwise (an empty value restores the product default, which exempts nothing and checks
    // Host; the tests of bans, probes and network rules say so where it matters).
    flags.put("bans.never", "127.0.0.0/8,::1");
    flags.put("network.allowed_hosts", "*");
    // The upstream health check sends GET / to the fake upstream, which records every request:
    // tests that count what reached the upstream would see it. The tests of health turn it on.
    flags.put("health.interval", "0s");
    flags.putAll(settings);
    this.config =
        ConfigLoader.load(configFile, configFile != null, Map.of(), flags, ConfigChecks.ALL);
    ApiKeys apiKeys = new ApiKeys(ServerSecret.loadOrCreate(dataDir));
    this.store = SqliteStore.open(dataDir);
    this.keys = new KeyService(store, apiKeys, Clock.systemUTC());
    this.gateway =
        Gateway.start(
            config,
            dev.gatehouse.store.Stores.sqlite(store),
            apiKeys,
            rates == null ? new LocalRateLimiter() : rates,
            clock == null ? Clock.systemUTC() : clock);
  }

  /** A gateway with default settings (plus the given overrides, by setting path). */
  public static GatewayFixture start(Map<String, String> settings) throws Exception {
    return start(settings, null, null, null);
  }

  /**
   * A gateway on a given data directory (null: a new one), with a given rate limiter and clock
   * (null: the real ones).
   */
  public static GatewayFixture start(
      Map<String, String> settings, Path dataDir, RateLimiter rates, Clock clock) throws Exception {
    return start(settings, dataDir, rates, clock, null);
  }

  /**
   * A gateway configured by a YAML file as well (for list settings whose entries hold commas, which
   * a flag would split), the given overrides on top.
   */
  public static GatewayFixture startWithFile(Path configFile, Map<String, String> settings)
      throws Exception {
    return start(settings, null, null, null, configFile);
  }

  private static GatewayFixture start(
      Map<String, String> settings, Path dataDir, RateLimiter rates, Clock clock, Path configFile)
      throws Exception {
    FakeUpstream up = new FakeUpstream();
    try {
      return new GatewayFixture(
          up,
          dataDir != null ? dataDir : Files.createTempDirectory("gatehouse-test"),
          settings,
          rates,
          clock,
          configFile);
    } catch (Exception e) {
      up.close();
      throw e;
    }
  }

  /**
   * The settings of a TLS listener whose certificate (self-signed, for {@code names}, valid for
   * {@code validity}) and key are new files in {@code dir}.
   */
  public static Map<String, String> selfSignedTls(Path dir, List<String> names, Duration validity)
      throws Exception {
    dev.gatehouse.tls.SelfSigned.write(
        names, validity, dir.resolve("cert.pem"), dir.resolve("key.pem"));
    return Map.of(
        "tls.cert", dir.resolve("cert.pem").toString(),
        "tls.key", dir.resolve("key.pem").toString());
  }

  public static GatewayFixture start() throws Exception {
    return start(Map.of());
  }

  /** A gateway on an existing data directory (a restart): its keys and bans are still there. */
  public static GatewayFixture startIn(Path dataDir, Map<String, String> settings)
      throws Exception {
    return start(settings, dataDir, null, null);
  }

  /** The running gateway. */
  public Gateway gateway() {
    return gateway;
  }

  /** The gateway's audit writer. */
  public dev.gatehouse.audit.AuditWriter audit() {
    return gateway.audit();
  }

  public int port() {
    return gateway.port();
  }

  /** Client connections the gateway holds open now. */
  public int openConnections() {
    return gateway.openConnections();
  }

  public int redirectPort() {
    return gateway.redirectPort();
  }

  public String baseUrl() {
    String host = config.listen().host();
    return (config.tlsEnabled() ? "https" : "http")
        + "://"
        + (host.contains(":") ? "[" + host + "]" : host)
        + ":"
        + port();
  }

  /**
   * The first line of the audit log ({@code audit.jsonl}) that {@code matches}, once the writer has
   * it there: waits up to 10 s, and fails the test after that.
   */
  public String awaitAuditLine(java.util.function.Predicate<String> matches)
      throws InterruptedException {
    String[] found = new String[1];
    Poll.until(
        "an audit record",
        Duration.ofSeconds(10),
        () -> {
          try {
            for (String line :
                Files.readAllLines(dataDir.resolve(dev.gatehouse.audit.AuditWriter.FILE))) {
              if (matches.test(line)) {
                found[0] = line;
                return true;
              }
            }
            return false;
          } catch (java.nio.file.NoSuchFileException e) {
            return false; // nothing written yet
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
    return found[0];
  }

  /** Creates a key with the ordinary scopes and no model limit; returns the secret. */
  public String newKey() {
    return keys.create("test", null, List.of(), List.of()).key();
  }

  public String newKey(List<String> models, List<String> scopes) {
    return keys.create("test", null, models, scopes).key();
  }

  public String newKey(Duration expires) {
    return keys.create("test", expires, List.of(), List.of()).key();
  }

  /** Sends a request with java.net.http; {@code key} may be null. */
  public HttpResponse<String> send(String method, String path, String key, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(20));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> get(String path, String key)
      throws IOException, InterruptedException {
    return send("GET", path, key, null);
  }

  public HttpResponse<String> post(String path, String key, String body)
      throws IOException, InterruptedException {
    return send("POST", path, key, body);
  }

  /**
   * Runs the gateway's timed store check now (keys and bans), as its timer would within a second.
   */
  public void checkStoresNow() {
    gateway.checkStoresNow();
  }

  /** The status code of a raw HTTP/1.1 exchange, sent byte for byte as given. */
  public RawResponse raw(String request) throws IOException {
    return raw(request.getBytes(StandardCharsets.ISO_8859_1));
  }

  public RawResponse raw(byte[] request) throws IOException {
    return raw(request, null);
  }

  /**
   * A raw exchange from a chosen local address, such as 127.0.0.2 (all of 127.0.0.0/8 is loopback
   * on Linux), so that one test can play several clients. A connection the gateway closes without
   * answering comes back as status -1 with an empty head.
   */
  public RawResponse raw(String request, String fromIp) throws IOException {
    return raw(request.getBytes(StandardCharsets.ISO_8859_1), fromIp);
  }

  public RawResponse raw(byte[] request, String fromIp) throws IOException {
    try (Socket s = new Socket()) {
      if (fromIp != null) {
        s.bind(new java.net.InetSocketAddress(fromIp, 0));
      }
      s.connect(new java.net.InetSocketAddress(config.listen().host(), port()), 10_000);
      s.setSoTimeout(10_000);
      byte[] buf;
      try {
        OutputStream out = s.getOutputStream();
        out.write(request);
        out.flush();
        InputStream in = s.getInputStream();
        buf = in.readNBytes(1 << 16);
      } catch (java.net.SocketException e) {
        buf = new byte[0]; // reset by the gateway: closed without an answer
      }
      return RawResponse.parse(new String(buf, StandardCharsets.ISO_8859_1));
    }
  }

  /** A parsed raw response: status, head, body. */
  public record RawResponse(int status, String head, String body) {
    static RawResponse parse(String text) {
      if (!text.startsWith("HTTP/1.1 ")) {
        return new RawResponse(-1, text, "");
      }
      int status = Integer.parseInt(text.substring(9, 12));
      int split = text.indexOf("\r\n\r\n");
      return new RawResponse(
          status,
          split < 0 ? text : text.substring(0, split),
          split < 0 ? "" : text.substring(split + 4));
    }
  }

  @Override
  public void close() {
    gateway.close();
    store.close();
    upstream.close();
  }
}

package dev.gatehouse.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The validated, immutable configuration. Built only by {@link ConfigLoader}, which checks every
 * setting before any of this exists; see {@code docs/configuration.md} for each default. Each
 * section below is built, and its settings checked, by one factory: {@code ServerSections} (tls,
 * store, admin, posture), {@code LimitSections}, {@code AbuseSections}, {@code PolicySections}
 * (policy, models, guard), {@code AlertAndAuditSections} and {@code ProfileSection}. {@code
 * settings} is every setting's value as loaded, which a reload compares and merges ({@link
 * ConfigLoader#reloaded}).
 */
public record GatehouseConfig(
    HostPort listen,
    URI upstream,
    Path dataDir,
    int eventLoops,
    IoTransport transport,
    boolean authEnabled,
    Tls tls,
    Policy policy,
    Limits limits,
    Timeouts timeouts,
    Rate rate,
    Budget budget,
    Concurrency concurrency,
    Caps caps,
    Models models,
    Network network,
    Cors cors,
    Bans bans,
    Probes probes,
    Connections connections,
    Admin admin,
    Alerts alerts,
    Audit audit,
    Posture posture,
    Guard guard,
    Jwt jwt,
    Store store,
    Instance instance,
    Balancing balancing,
    UpstreamSettings upstreams,
    SharedLimits sharedLimits,
    Profile profile,
    LoadedSettings settings) {

  /**
   * The environment preset ({@code profile}): {@code dev} checks nothing more; {@code prod} refuses
   * a config that is not hardened ({@code ProfileSection} lists what it requires).
   */
  public enum Profile {
    DEV,
    PROD
  }

  /**
   * How the gateway works behind a load balancer: whether the public listener reads the PROXY
   * protocol ({@code listen.proxy_protocol}), and how long a drain on SIGTERM lets requests in
   * flight run on ({@code shutdown.grace}).
   */
  public record Balancing(boolean proxyProtocol, Duration shutdownGrace) {}

  /**
   * Which store implementation holds keys, bans, usage and the audit copy ({@code store.*}). For
   * {@code sqlite} only the kind matters; {@code postgres} reads the rest.
   *
   * @param url the JDBC URL ({@code jdbc:postgresql://...}); null for SQLite
   * @param user the database user; empty: the driver's default (or one in the URL)
   * @param passwordFile the file holding the password, read when the store opens; null: none
   * @param poolSize connections this process opens to the database at most
   * @param maxStale how long keys and bans already in memory keep serving once the store stops
   *     answering (PostgreSQL only; docs/store-postgres.md)
   */
  public record Store(
      String kind,
      @Nullable String url,
      String user,
      @Nullable Path passwordFile,
      int poolSize,
      Duration maxStale) {

    /** The default SQLite store, as a config without {@code store.*} settings has it. */
    public static Store sqlite() {
      return new Store("sqlite", null, "", null, 8, Duration.ofSeconds(30));
    }
  }

  /**
   * This gateway's name among those sharing a store ({@code instance.id}): its audit chain's.
   * {@code id} null: generated once and kept in {@code <data_dir>/instance-id}.
   */
  public record Instance(@Nullable String id) {

    /**
     * Whether {@code id} may be an instance id: 1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'.
     */
    public static boolean valid(String id) {
      return InstanceSection.ID.matcher(id).matches();
    }
  }

  /**
   * Where the limits are kept ({@code limits.kind}, {@code redis.*}; docs/limits-redis.md): in this
   * process, or in Redis for every gateway. The Redis fields are checked only with {@code redis}.
   */
  public record SharedLimits(
      boolean redis,
      String url,
      String mode,
      List<String> endpoints,
      String masterName,
      String user,
      @Nullable Path passwordFile,
      @Nullable Path tlsCa,
      Duration timeout,
      String keyPrefix) {
    public SharedLimits {
      endpoints = List.copyOf(endpoints);
    }
  }

  /** HTTPS settings; {@code cert == null} means plain HTTP (loopback only). */
  public record Tls(
      @Nullable Path cert,
      @Nullable Path key,
      @Nullable Path chain,
      @Nullable HostPort redirectListen,
      Duration hstsMaxAge,
      Duration reloadInterval,
      boolean modern,
      ClientCerts clients) {
    public boolean enabled() {
      return cert != null;
    }
  }

  /** Whether the public listener asks for client certificates ({@code tls.client_auth}). */
  public enum ClientAuth {
    OFF,
    OPTIONAL,
    REQUIRED
  }

  /**
   * mTLS on the public listener ({@code tls.client_*}): the CA bundle and CRL the handshake checks
   * client certificates against, and the lines that map a certificate to a principal (parsed by
   * {@code identify/cert/CertPrincipals}). {@code ca == null} exactly when {@code auth} is {@code
   * OFF}.
   */
  public record ClientCerts(
      ClientAuth auth, @Nullable Path ca, @Nullable Path crl, List<String> principals) {
    public ClientCerts {
      principals = List.copyOf(principals);
    }

    /** True when the listener asks clients for a certificate. */
    public boolean enabled() {
      return auth != ClientAuth.OFF;
    }
  }

  /** Policy switches that widen what a key with the right scope may do. */
  public record Policy(List<String> allowedRegistries, boolean allowCloudModels) {}

  /**
   * Size and count limits on requests. {@code bodyMemory} is 0 for "60% of the heap, within its old
   * generation" ({@link #bodyMemoryBytes}).
   */
  public record Limits(
      long maxBody,
      long maxBlob,
      long bodyMemory,
      int maxHeaderBytes,
      int maxHeaders,
      int maxUpstreamConnections) {

    /**
     * What the heap keeps beside the bodies when they fill their bound: the gateway's own live
     * objects (about 25 MiB at idle: the guard's model, the key ring, caches) and what requests in
     * flight hold.
     */
    public static final long HEAP_RESERVE = 64L << 20;

    /**
     * The bytes of request bodies that may be held at once: as configured, else 60% of a heap of
     * {@code maxHeap}, but no more than its old generation ({@code oldGeneration}, where a body
     * held for seconds ends up; the whole heap for a collector without a fixed one) can hold beside
     * {@link #HEAP_RESERVE}. A body bound that fills the old generation runs the JVM out of heap.
     */
    public long bodyMemoryBytes(long maxHeap, long oldGeneration) {
      if (bodyMemory > 0) {
        return bodyMemory;
      }
      return Math.max(0, Math.min(maxHeap / 10 * 6, oldGeneration - HEAP_RESERVE));
    }
  }

  /** Connection and upstream timeouts; none of them bounds a generation that is still streaming. */
  public record Timeouts(
      Duration headerRead,
      Duration keepalive,
      Duration upstreamConnect,
      Duration upstreamFirstByte,
      Duration upstreamIdle,
      Duration bodyRead,
      long bodyMinRate) {}

  /** Token-bucket request rates; a rate of 0 turns that limit off. */
  public record Rate(
      int keyRpm, int keyBurst, int ipRpm, int ipBurst, int anonymousIpRpm, int anonymousIpBurst) {}

  /** Default token budgets per key; 0 means none. */
  public record Budget(long tokensPerMinute, long tokensPerDay) {}

  /** In-flight request caps and the bounded queue in front of them. */
  public record Concurrency(int global, int perKey, int queue, Duration queueTimeout) {}

  /** Caps on what one request may ask of the model server. */
  public record Caps(
      boolean reject,
      int maxOutputTokens,
      int numCtx,
      int n,
      Duration keepAliveMax,
      int images,
      long imageBytes,
      int messages,
      int promptChars) {}

  /** Model integrity: the lock file to enforce ({@code pinned == null}: none). */
  public record Models(@Nullable Path pinned, Duration pinRefresh) {}

  /**
   * Who may connect, and how the client's address is found.
   *
   * @param allowedHosts Host values accepted; empty means automatic (see docs/abuse.md)
   * @param ioc the IoC list and the IoC file's entries together
   */
  public record Network(
      AddressSet allow,
      AddressSet deny,
      AddressSet trustedProxies,
      List<String> allowedHosts,
      AddressSet ioc,
      @Nullable Path iocFile) {}

  /** Cross-origin access for browsers; off when {@code origins} is empty. */
  public record Cors(List<String> origins, Duration maxAge) {
    public boolean enabled() {
      return !origins.isEmpty();
    }
  }

  /**
   * Automatic bans and how banned clients are refused.
   *
   * @param authFailures failures within {@code authWindow} that ban; 0 for never
   * @param close true to close a banned client's connection, false to answer 403
   */
  public record Bans(
      int authFailures,
      Duration authWindow,
      Duration duration,
      Duration maxDuration,
      boolean close,
      AddressSet never) {}

  /** What probe detection does with a client it judges to be scanning. */
  public enum ProbeAction {
    LOG,
    BAN,
    TARPIT
  }

  /** Probe detection: scored signals, a threshold, and the action above it. */
  public record Probes(
      ProbeAction action,
      int threshold,
      Duration window,
      Duration tarpitDelay,
      int bodyPeekBytes,
      Duration bodyPeekTimeout) {

    /** Without body peeking settings: the defaults (4 KiB, 1 s). */
    public Probes(ProbeAction action, int threshold, Duration window, Duration tarpitDelay) {
      this(action, threshold, window, tarpitDelay, 4096, Duration.ofSeconds(1));
    }
  }

  /** Caps on open client connections. */
  public record Connections(int maxPerIp, int maxTotal) {}

  /**
   * The admin listener; {@code listen == null} means off. {@code hosts} are the extra {@code Host}
   * values (lower case) it answers besides its own address and loopback names.
   */
  public record Admin(
      @Nullable HostPort listen,
      boolean allowRemote,
      Duration healthInterval,
      Duration healthTimeout,
      List<String> hosts,
      Oidc oidc) {

    public Admin {
      hosts = List.copyOf(hosts);
    }

    /** Without single sign-on. */
    public Admin(
        @Nullable HostPort listen,
        boolean allowRemote,
        Duration healthInterval,
        Duration healthTimeout,
        List<String> hosts) {
      this(listen, allowRemote, healthInterval, healthTimeout, hosts, Oidc.OFF);
    }

    /** Without extra host names. */
    public Admin(
        @Nullable HostPort listen,
        boolean allowRemote,
        Duration healthInterval,
        Duration healthTimeout) {
      this(listen, allowRemote, healthInterval, healthTimeout, List.of());
    }
  }

  /**
   * The dashboard's single sign-on ({@code admin.oidc.*}); {@code issuer == null} means off. {@code
   * roles} maps a value of the {@code rolesClaim} claim to a role label ({@code viewer}, {@code
   * operator}, {@code admin}); {@code redirectBase == null} means the address the browser used.
   */
  public record Oidc(
      @Nullable URI issuer,
      String clientId,
      @Nullable Path clientSecretFile,
      @Nullable URI redirectBase,
      String rolesClaim,
      java.util.Map<String, String> roles) {

    /** Single sign-on off. */
    public static final Oidc OFF = new Oidc(null, "", null, null, "groups", java.util.Map.of());

    public Oidc {
      roles = java.util.Map.copyOf(roles);
    }

    public boolean enabled() {
      return issuer != null;
    }
  }

  /**
   * Alerting. {@code rules} are the configured rule lines (parsed by the alerts package); {@code
   * webhook == null} means the log only.
   */
  public record Alerts(
      boolean defaultRules,
      List<String> rules,
      @Nullable URI webhook,
      @Nullable Path webhookSecretFile,
      Duration webhookTimeout,
      int webhookRetries,
      Duration webhookBackoff,
      String manageHours,
      java.time.ZoneId timezone,
      int networkPrefixV4,
      int networkPrefixV6) {}

  /** What of each request's prompt the audit log keeps ({@code audit.prompt}). */
  public enum AuditPrompt {
    NONE,
    SHA256,
    TEXT
  }

  /**
   * When an audit record counts as kept ({@code audit.durability}), and so what a response's last
   * byte waits for.
   */
  public enum AuditDurability {
    /**
     * The default: the last byte waits until the record is written to the file (in the operating
     * system's page cache, which survives a kill -9 of the gateway); the fsync follows in the
     * background, at most 100 ms behind.
     */
    WRITTEN,
    /**
     * The last byte waits until the record is fsynced: it survives an OS crash or a power loss too,
     * at the cost of an fsync in each response's latency. {@code response} is its deprecated name.
     */
    FSYNC,
    /**
     * Nothing waits: the record is written and fsynced as with {@link #WRITTEN}, but the response
     * ends at once, so a kill -9 can lose the records of responses that clients received.
     */
    BATCH
  }

  /**
   * The audit log: where the checkpoint key is, how often checkpoints are signed, when a record
   * counts as kept ({@code durability}), and how long it is kept.
   */
  public record Audit(
      Path hmacKeyFile,
      AuditPrompt prompt,
      int checkpointEvery,
      Duration checkpointInterval,
      AuditDurability durability,
      AuditRetention retention,
      Duration dbMaxLag) {

    /**
     * Whether a complete response's last byte waits for the audit writer to acknowledge its record
     * (written or fsynced, by {@link #durability}); false only for {@code batch}.
     */
    public boolean waitForDurable() {
      return durability != AuditDurability.BATCH;
    }

    /** Without {@code audit.db_max_lag}: its default, 30 s. */
    public Audit(
        Path hmacKeyFile,
        AuditPrompt prompt,
        int checkpointEvery,
        Duration checkpointInterval,
        AuditDurability durability,
        AuditRetention retention) {
      this(
          hmacKeyFile,
          prompt,
          checkpointEvery,
          checkpointInterval,
          durability,
          retention,
          Duration.ofSeconds(30));
    }
  }

  /**
   * How much audit log is kept ({@code audit.retention.*}): the active file is sealed into a
   * segment at {@code segmentBytes}; sealed segments whose newest record is older than {@code
   * maxAge}, or while the log is larger than {@code maxBytes}, are pruned. A zero {@code maxAge} or
   * {@code maxBytes} turns that limit off; a zero {@code segmentBytes} never seals.
   */
  public record AuditRetention(long segmentBytes, Duration maxAge, long maxBytes) {

    /** One file that grows for ever: nothing sealed, nothing pruned. */
    public static final AuditRetention KEEP_ALL = new AuditRetention(0, Duration.ZERO, 0);
  }

  /** What the prompt guard does with a flagged request ({@code guard.mode}). */
  public enum GuardMode {
    OFF,
    LOG,
    BLOCK
  }

  /** What the guard does with secrets in prompts ({@code guard.secrets}). */
  public enum SecretsAction {
    OFF,
    LOG,
    REDACT,
    BLOCK
  }

  /**
   * The prompt guard: its mode, what it reads ({@code scope}), how much, and the secrets action.
   */
  public record Guard(GuardMode mode, String scope, int maxChars, SecretsAction secrets) {}

  /**
   * How the event loops do their socket I/O ({@code server.transport}): {@code AUTO} takes the
   * first of io_uring, epoll and the JDK's NIO that this machine offers.
   */
  public enum IoTransport {
    AUTO,
    IO_URING,
    EPOLL,
    NIO
  }

  /** The event-loop count to use: the configured one, or one per core. */
  public int effectiveEventLoops() {
    return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
  }

  /** True when clients reach Gatehouse over HTTPS. */
  public boolean tlsEnabled() {
    return tls.enabled();
  }

  /** The periodic posture check in serve: {@code interval} zero means off. */
  public record Posture(Duration interval, Duration runTimeout) {
    public boolean enabled() {
      return !interval.isZero();
    }
  }

  /**
   * Client JWTs ({@code jwt.*}): whose tokens count as credentials and how their claims map to a
   * principal. Off when {@code issuer} is empty. The algorithm list never holds {@code none} or an
   * HMAC algorithm (refused at load).
   *
   * @param jwksUrl where the key set is fetched from, or null when it is read from {@code jwksFile}
   * @param jwksFile the key set file, or null when it is fetched from {@code jwksUrl}
   * @param tiers the rate tiers by name
   */
  public record Jwt(
      String issuer,
      String audience,
      @Nullable URI jwksUrl,
      @Nullable Path jwksFile,
      List<String> algorithms,
      Duration clockSkew,
      Duration jwksRefresh,
      Duration jwksMinRefetch,
      String scopesClaim,
      String modelsClaim,
      String tierClaim,
      java.util.Map<String, JwtTier> tiers) {

    /** Whether JWTs are accepted at all. */
    public boolean enabled() {
      return !issuer.isEmpty();
    }
  }

  /** One rate tier of {@code jwt.tiers}: each null limit uses the global setting. */
  public record JwtTier(
      @Nullable Integer rpm,
      @Nullable Integer burst,
      @Nullable Long tokensPerMinute,
      @Nullable Long tokensPerDay,
      @Nullable Integer concurrency,
      @Nullable Integer maxOutputTokens) {}
}

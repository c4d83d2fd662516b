package dev.gatehouse.config;

import dev.gatehouse.config.Setting.Kind;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The configuration schema: every setting Gatehouse reads, in the order the docs list them. */
public final class Settings {

  private Settings() {}

  private static Setting s(String path, Kind kind, String def, String doc) {
    return new Setting(path, kind, def, Setting.envName(path), doc);
  }

  public static final List<Setting> ALL =
      List.of(
          s(
              "listen",
              Kind.HOST_PORT,
              "127.0.0.1:11435",
              "Address of the public listener. Loopback by default; any other address needs TLS and authentication."),
          s(
              "listen.proxy_protocol",
              Kind.BOOLEAN,
              "false",
              "Read a PROXY protocol header (v1 or v2, as HAProxy's send-proxy-v2 or nginx's proxy_protocol send it) at the start of every connection to the public listener, and judge the connection by the client address it carries (bans, limits, audit). Needs network.trusted_proxies: a connection from any other peer, or without a valid header, is closed. Forwarded and X-Forwarded-For are then never read, since a TCP load balancer passes the client's own headers through. In YAML, write it as a dotted key beside listen (listen.proxy_protocol: true)."),
          s(
              "shutdown.grace",
              Kind.DURATION,
              "30s",
              "On SIGTERM or SIGINT, how long requests and streams in flight may run on after the listener stops accepting (/readyz answers 503 draining meanwhile). Streams still running then are ended with an error in their API's dialect, their audit records written and usage flushed, and the process exits 0."),
          s(
              "profile",
              Kind.STRING,
              "dev",
              "The environment preset: dev (no check beyond the others) or prod, which refuses to start unless the config is hardened: TLS on the public listener, authentication on, the admin listener on loopback, https:// CORS origins only, automatic bans that escalate (bans.auth_failures above 0, bans.max_duration above bans.duration) and probes.action ban or tarpit. Every gap is reported at once, and gatehouse doctor reports the same gaps with their fixes."),
          s(
              "upstream",
              Kind.URL,
              "http://127.0.0.1:11434",
              "The LLM server Gatehouse protects (Ollama, llama.cpp, vLLM, LM Studio, LocalAI). An https:// upstream must present a certificate for the URL's host from a root the JVM trusts."),
          s(
              "upstreams",
              Kind.MAPPING_LIST,
              "[]",
              "Several model servers instead of the one upstream (setting both is an error): a list of {url, name (default host:port), weight (1-1000, default 1), labels (a mapping), models (globs: only these models go there; default all), kind (auto, ollama or openai; default auto, learned from which model listing answers)}. Requests go to the least busy upstream that is up and has the model. A variable or flag takes URLs separated by commas. See docs/upstreams.md."),
          s(
              "routing.affinity",
              Kind.STRING,
              "none",
              "With several upstreams: none (the least busy upstream that has the model) or key (each key sticks to one upstream, by rendezvous hashing of its key id, so a conversation stays where its KV cache is warm; it moves only when that upstream is out)."),
          s(
              "routing.eject_after",
              Kind.INTEGER,
              "5",
              "With several upstreams: consecutive failures (no connection, a 5xx or no answer before the response started) after which an upstream is taken out of rotation."),
          s(
              "routing.eject_base",
              Kind.DURATION,
              "10s",
              "How long the first ejection lasts; each ejection in a row doubles it, up to routing.eject_max. An ejected upstream comes back once a health check passes after that time."),
          s("routing.eject_max", Kind.DURATION, "5m", "The longest an ejection lasts."),
          s(
              "routing.models_refresh",
              Kind.DURATION,
              "30s",
              "With several upstreams: how often each one's model list (/api/tags, or /v1/models) is read again for model-aware routing and merged model listings."),
          new Setting(
              "data_dir",
              Kind.PATH,
              ".gatehouse",
              "GATEHOUSE_HOME",
              "Data directory: the SQLite database and the server secret that keys are hashed with."),
          s(
              "store.kind",
              Kind.STRING,
              "sqlite",
              "Where keys, bans, usage, admin credentials and the audit log's queryable copy live: sqlite (gatehouse.db in data_dir, one machine) or postgres (a PostgreSQL database that several gateways share; docs/store-postgres.md)."),
          s(
              "store.url",
              Kind.STRING,
              "",
              "The PostgreSQL database, as jdbc:postgresql://HOST[:PORT]/DATABASE (driver parameters such as ?sslmode=verify-full may follow; never a password). Required with store.kind: postgres; only then allowed."),
          s(
              "store.user",
              Kind.STRING,
              "",
              "The PostgreSQL user. Empty: the driver's default (the user parameter of store.url, or the operating-system user)."),
          s(
              "store.password_file",
              Kind.PATH,
              "",
              "A file holding the PostgreSQL user's password (trailing newline ignored), read when the store opens; never logged. Empty: no password (peer or certificate authentication)."),
          s(
              "store.pool_size",
              Kind.INTEGER,
              "8",
              "Connections each gateway or CLI command opens to PostgreSQL at most (2-1000), besides one that listens for changes."),
          s(
              "store.max_stale",
              Kind.DURATION,
              "30s",
              "With store.kind: postgres, how long keys and bans already in memory keep serving after PostgreSQL stopped answering, counted from the last check that reached it (2s or more); after that every request that needs a key or ban decision gets 503 store.unavailable. SQLite does not use it: an unreadable SQLite store refuses at once."),
          s(
              "instance.id",
              Kind.STRING,
              "",
              "This gateway's name among several that share one store: its audit chain and checkpoints in the database are kept under it, and audit verify reports each chain by it. 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'; give each gateway its own. Empty: a random id generated on first start and kept in instance-id in data_dir (mode 0600)."),
          s(
              "server.event_loops",
              Kind.INTEGER,
              "0",
              "Event-loop threads serving requests; 0 means one per CPU core."),
          s(
              "server.transport",
              Kind.STRING,
              "auto",
              "How the event loops do their socket I/O: io_uring (Linux 5.14 or later: the reads and writes of all of a loop's connections go to the kernel in one system call a turn; the fastest here, see 'Socket I/O' below), epoll (Linux) or nio (the JDK's, anywhere). auto takes the first of them this machine allows; io_uring is often turned off (the kernel.io_uring_disabled sysctl, container seccomp profiles), and auto then takes epoll. Naming one that is unavailable stops the start with its cause."),
          s(
              "auth.enabled",
              Kind.BOOLEAN,
              "true",
              "Require an API key on every request except /healthz and /readyz. Can only be turned off on a loopback listener."),
          s(
              "tls.cert",
              Kind.PATH,
              "",
              "PEM certificate for HTTPS. Empty: plain HTTP, which is allowed only on loopback."),
          s(
              "tls.key",
              Kind.PATH,
              "",
              "PEM private key (PKCS#8 or PKCS#1) that goes with tls.cert."),
          s(
              "tls.chain",
              Kind.PATH,
              "",
              "Optional PEM file of intermediate certificates, sent after tls.cert."),
          s(
              "tls.redirect_listen",
              Kind.HOST_PORT_OR_EMPTY,
              "",
              "Optional plain-HTTP listener that only answers 308 redirects to HTTPS. Empty: off."),
          s(
              "tls.hsts_max_age",
              Kind.DURATION,
              "365d",
              "max-age of the Strict-Transport-Security header sent on HTTPS responses; 0s sends none."),
          s(
              "tls.reload_interval",
              Kind.DURATION,
              "5s",
              "How often the certificate files are checked for changes; a change is loaded without dropping connections."),
          s(
              "tls.profile",
              Kind.STRING,
              "intermediate",
              "TLS versions and cipher suites: intermediate (Mozilla's intermediate profile: TLS 1.2 and 1.3, ECDHE key exchange with AEAD suites only) or modern (TLS 1.3 only). Client-initiated renegotiation is always refused."),
          // mTLS on the public listener (docs/identity-mtls.md)
          s(
              "tls.client_ca",
              Kind.PATH,
              "",
              "PEM bundle of the CA certificates that client certificates must chain to. Needed by tls.client_auth optional or required; give it only the CAs that issue your clients' certificates, never public web roots."),
          s(
              "tls.client_auth",
              Kind.STRING,
              "off",
              "Client certificates on the public listener: off (none asked for), optional (asked for; a connection without one needs an API key as before, one with a certificate that fails tls.client_ca or tls.client_crl is refused in the handshake) or required (the handshake fails without a valid one). Needs tls.cert."),
          s(
              "tls.client_crl",
              Kind.PATH,
              "",
              "Optional certificate revocation list (PEM or DER) from the CA in tls.client_ca: a revoked client certificate fails the handshake. Empty: no revocation check."),
          s(
              "tls.client_principals",
              Kind.STRING_LIST,
              "[]",
              "Which client certificates are principals, one line each: a match (cn=NAME, subject=DN, dns=NAME, uri=URI or email=ADDRESS) then optional scopes=a,b and models=glob,glob, such as 'dns=ci.example.com scopes=inference models=llama3*'. The first line that matches names the principal cert:VALUE; scopes default to a key's default ones and models to all. A request with an API key uses the key; a certificate that matches no line is refused like a bad key. Write the lines in the config file: a variable or flag splits its value at commas. See docs/identity-mtls.md."),
          s(
              "policy.allowed_registries",
              Kind.STRING_LIST,
              "[]",
              "Registries (host or host:port) that models.manage requests may name in model, name, from, source or destination. Plain names use Ollama's default registry and are always allowed."),
          s(
              "policy.allow_cloud_models",
              Kind.BOOLEAN,
              "false",
              "Allow models tagged cloud or -cloud, which Ollama runs on ollama.com under the server owner's account."),
          s(
              "limits.max_body",
              Kind.SIZE,
              "16MiB",
              "Largest request body for JSON and multipart endpoints; larger ones get 413 before the upstream is contacted."),
          s(
              "limits.max_blob",
              Kind.SIZE,
              "64GiB",
              "Largest upload to /api/blobs (models.manage only); streamed, never buffered."),
          s(
              "limits.body_memory",
              Kind.SIZE,
              "0",
              "Most bytes of JSON and multipart request bodies held in memory at once, across all requests; a body that would pass it gets 503 with Retry-After before it is read. 0: 60% of the JVM's maximum heap, and at most its old generation less 64MiB for the gateway's own objects (the launcher's -Xmx368m and -XX:MaxNewSize=64m: about 217MiB). Raise it together with the heap (-Xmx in GATEHOUSE_JAVA_OPTS)."),
          s(
              "limits.max_header_bytes",
              Kind.SIZE,
              "16KiB",
              "Largest total size of request headers."),
          s(
              "limits.max_headers",
              Kind.INTEGER,
              "64",
              "Most request headers accepted; more get 431."),
          s(
              "limits.max_upstream_connections",
              Kind.INTEGER,
              "4096",
              "Most open connections to the upstream per event loop; each active stream holds one."),
          s(
              "timeouts.header_read",
              Kind.DURATION,
              "10s",
              "Time a new connection has to send its first complete request head."),
          s(
              "timeouts.keepalive",
              Kind.DURATION,
              "75s",
              "Time an idle keep-alive connection may wait for its next request head."),
          s(
              "timeouts.body_read",
              Kind.DURATION,
              "30s",
              "Time a request body has to arrive once its head has. A body still arriving after it goes on only while its average rate since the head is at least timeouts.body_min_rate; otherwise 408 and the connection is closed. Never applies to responses."),
          s(
              "timeouts.body_min_rate",
              Kind.SIZE,
              "16KiB",
              "Lowest average upload rate, per second, that keeps a body past timeouts.body_read (large model uploads over a fast link stay well above it; a slow-body attack falls far below)."),
          s(
              "timeouts.upstream_connect",
              Kind.DURATION,
              "5s",
              "Time to open a connection to the upstream."),
          s(
              "timeouts.upstream_first_byte",
              Kind.DURATION,
              "300s",
              "Time for the upstream to start its response; long enough for a cold model load."),
          s(
              "timeouts.upstream_idle",
              Kind.DURATION,
              "300s",
              "Longest silence allowed between two chunks of an upstream response. A generation that keeps streaming is never cut."),
          s(
              "models.pinned",
              Kind.PATH,
              "",
              "A model lock file (gatehouse models verify --pin). Inference on a pinned model is refused unless the upstream lists it with the pinned digest. Empty: off."),
          s(
              "models.pin_refresh",
              Kind.DURATION,
              "5s",
              "Oldest the upstream's model digests (from /api/tags) may be when a pinned model is used; older ones are fetched again first."),
          s(
              "rate.key_rpm",
              Kind.INTEGER,
              "600",
              "Requests per minute per API key (token bucket); a key's own --rpm overrides it. 0 turns the limit off."),
          s(
              "rate.key_burst",
              Kind.INTEGER,
              "60",
              "Requests a key may make at once before rate.key_rpm applies."),
          s(
              "rate.ip_rpm",
              Kind.INTEGER,
              "1200",
              "Requests per minute per client IP, for authenticated requests. 0 turns the limit off."),
          s(
              "rate.ip_burst",
              Kind.INTEGER,
              "120",
              "Requests a client IP may make at once before rate.ip_rpm applies."),
          s(
              "rate.anonymous_ip_rpm",
              Kind.INTEGER,
              "30",
              "Requests per minute per client IP without a valid key (they get 401 until this is spent, then 429)."),
          s(
              "rate.anonymous_ip_burst",
              Kind.INTEGER,
              "10",
              "Unauthenticated requests a client IP may make at once."),
          s(
              "budget.tokens_per_minute",
              Kind.INTEGER,
              "0",
              "Prompt plus output tokens per minute per key, counted from the upstream's own usage figures; 0 means no budget."),
          s(
              "budget.tokens_per_day",
              Kind.INTEGER,
              "0",
              "Prompt plus output tokens per UTC day per key; 0 means no budget."),
          s(
              "concurrency.global",
              Kind.INTEGER,
              "256",
              "Requests in flight to the upstream at once, over all keys."),
          s(
              "concurrency.per_key",
              Kind.INTEGER,
              "32",
              "Requests in flight at once per key; a key's own --concurrency overrides it."),
          s(
              "concurrency.queue",
              Kind.INTEGER,
              "128",
              "Requests that may wait for a free slot; beyond that they are refused at once (429 for a key's own cap, 503 for the global one)."),
          s(
              "concurrency.queue_timeout",
              Kind.DURATION,
              "30s",
              "Longest wait for a free slot before a queued request is refused."),
          // limits.kind and redis.*: config/RedisSection, docs/limits-redis.md
          s(
              "limits.kind",
              Kind.STRING,
              "local",
              "Where request rates, token budgets, concurrency caps and the auth-failure and probe counts are kept: local (in this process) or redis (shared by every gateway on the same Redis, so one limit holds across all of them; see docs/limits-redis.md). With redis, a request whose limits Redis cannot answer within redis.timeout is refused with 503 limits.unavailable, never decided on one gateway's own counts."),
          s(
              "redis.url",
              Kind.STRING,
              "",
              "The Redis server for limits.kind redis: redis://HOST:PORT, or rediss://HOST:PORT for TLS, optionally with /DB. No password in the URL: use redis.password_file. With redis.mode sentinel or cluster, give redis.endpoints instead."),
          s(
              "redis.mode",
              Kind.STRING,
              "standalone",
              "standalone (one server, redis.url), sentinel (the Sentinels in redis.endpoints, which name the master called redis.master_name) or cluster (seed nodes in redis.endpoints)."),
          s(
              "redis.endpoints",
              Kind.STRING_LIST,
              "[]",
              "The Sentinel or Cluster addresses, each redis://HOST:PORT or rediss://HOST:PORT; only with redis.mode sentinel or cluster."),
          s(
              "redis.master_name",
              Kind.STRING,
              "",
              "The master's name as the Sentinels know it; required with redis.mode sentinel."),
          s(
              "redis.user",
              Kind.STRING,
              "",
              "The Redis ACL user; empty for the default user. Needs redis.password_file."),
          s(
              "redis.password_file",
              Kind.PATH,
              "",
              "A file holding the Redis password (AUTH), read at start; empty for none. The password is never logged."),
          s(
              "redis.tls_ca",
              Kind.PATH,
              "",
              "A PEM file of the CA certificates that a rediss:// server's certificate must chain to, read at start; empty for the JVM's trust store. The server's name is checked too. Only with a rediss:// address."),
          s(
              "redis.timeout",
              Kind.DURATION,
              "500ms",
              "Longest wait for a Redis answer on the request path; past it the request is refused with 503 limits.unavailable, and a connection attempt fails."),
          s(
              "redis.key_prefix",
              Kind.STRING,
              "gatehouse:",
              "Prefix of every Redis key and channel Gatehouse uses, so that several deployments can share one Redis."),
          s(
              "caps.mode",
              Kind.STRING,
              "clamp",
              "What happens to a request over a token, context or choice cap: clamp (lower it to the cap) or reject (400). Image, message and prompt caps always reject."),
          s(
              "caps.max_output_tokens",
              Kind.INTEGER,
              "4096",
              "Largest output a request may ask for (num_predict, max_tokens, max_completion_tokens, max_output_tokens); also set on requests that ask for none. -1 and -2 count as unlimited."),
          s(
              "caps.num_ctx",
              Kind.INTEGER,
              "32768",
              "Largest context window (Ollama options.num_ctx) a request may ask for."),
          s("caps.n", Kind.INTEGER, "1", "Most choices (OpenAI n) a request may ask for."),
          s(
              "caps.keep_alive_max",
              Kind.DURATION,
              "30m",
              "Longest keep_alive a request may ask for; a negative keep_alive (keep loaded forever) counts as longer than any."),
          s("caps.images", Kind.INTEGER, "4", "Most images in one request."),
          s(
              "caps.image_bytes",
              Kind.SIZE,
              "8MiB",
              "Largest single image (decoded size of its base64)."),
          s("caps.messages", Kind.INTEGER, "256", "Most messages in one chat request."),
          s(
              "caps.prompt_chars",
              Kind.INTEGER,
              "400000",
              "Most characters of text in one request (prompt, system, messages, input), about 100k tokens."),
          // Abuse controls (docs/abuse.md): network rules, CORS, bans, probe detection, connection
          // caps.
          s(
              "network.allow",
              Kind.STRING_LIST,
              "[]",
              "Client addresses and CIDR ranges, IPv4 or IPv6, that may use Gatehouse; empty allows every address. Others get 403 network.address_denied before their key is looked at."),
          s(
              "network.deny",
              Kind.STRING_LIST,
              "[]",
              "Client addresses and CIDR ranges that are always refused with 403 network.address_denied; wins over network.allow."),
          s(
              "network.trusted_proxies",
              Kind.STRING_LIST,
              "[]",
              "Addresses and ranges of reverse proxies whose X-Forwarded-For or Forwarded header names the real client. Empty: no proxy is trusted and both headers are ignored, so no client can choose the address it is judged by."),
          s(
              "network.allowed_hosts",
              Kind.STRING_LIST,
              "[]",
              "Host header values accepted, against DNS rebinding: names, *.suffix wildcards, IP literals, or * for any. Empty: automatic, which on a loopback listener accepts only localhost, *.localhost and loopback addresses, and elsewhere accepts any host. Others get 403 network.host_denied."),
          s(
              "network.ioc",
              Kind.STRING_LIST,
              "[]",
              "Known-hostile addresses and ranges (indicators of compromise), refused up front as if banned (see bans.refusal)."),
          s(
              "network.ioc_file",
              Kind.PATH,
              "",
              "A file of more IoC addresses or ranges, one per line, # starting a comment; read at start."),
          s(
              "cors.origins",
              Kind.STRING_LIST,
              "[]",
              "Browser origins (scheme://host[:port]) that may call the API from a web page. Empty: CORS is off and no CORS header is ever sent. An allowed origin is echoed back, never *, and credentials are never allowed."),
          s(
              "cors.max_age",
              Kind.DURATION,
              "10m",
              "How long a browser may cache a preflight answer."),
          s(
              "bans.auth_failures",
              Kind.INTEGER,
              "10",
              "Failed authentications (401) from one address within bans.auth_window that ban it; 0 turns this off."),
          s(
              "bans.auth_window",
              Kind.DURATION,
              "5m",
              "The window in which bans.auth_failures are counted."),
          s(
              "bans.duration",
              Kind.DURATION,
              "10m",
              "Length of a first automatic ban; each repeat doubles it, up to bans.max_duration."),
          s(
              "bans.max_duration",
              Kind.DURATION,
              "24h",
              "Longest automatic ban. An address not banned for this long after its last ban starts again at bans.duration."),
          s(
              "bans.refusal",
              Kind.STRING,
              "close",
              "How a banned or IoC-listed client is refused: close (the connection is closed without an answer) or 403 (a minimal network.client_banned error). A client behind a trusted proxy always gets 403, so that others sharing the proxy's connection are not cut off."),
          s(
              "bans.never",
              Kind.STRING_LIST,
              "[]",
              "Addresses and ranges that are never banned or tarpitted, automatically or by hand. Empty: none is exempt, loopback included."),
          s(
              "probes.action",
              Kind.STRING,
              "log",
              "What happens to a client whose probe score reaches probes.threshold, or that makes an unambiguous probe: log, ban (as set by bans.*) or tarpit (its requests are refused after probes.tarpit_delay, for probes.window). Verdicts are always logged."),
          s(
              "probes.threshold",
              Kind.INTEGER,
              "10",
              "Probe score at which probes.action applies; docs/abuse.md lists the signals and their weights."),
          s(
              "probes.window",
              Kind.DURATION,
              "15m",
              "How long a client's probe signals count; its score starts over after that."),
          s(
              "probes.tarpit_delay",
              Kind.DURATION,
              "5s",
              "How long each refusal of a tarpitted client is held back, at most 60s; no thread waits meanwhile."),
          s(
              "probes.body_peek_bytes",
              Kind.SIZE,
              "4KiB",
              "Most bytes of the body of a request refused for lack of a valid key that probe detection reads (the request is refused all the same, with the same answer, and nothing is forwarded). 0 turns it off; at most 64KiB."),
          s(
              "probes.body_peek_timeout",
              Kind.DURATION,
              "1s",
              "Longest wait for that body prefix before the refusal is sent anyway; at most 10s. No thread waits meanwhile."),
          s(
              "connections.max_per_ip",
              Kind.INTEGER,
              "256",
              "Most open connections from one client address; more are closed at once, so one address cannot starve the others. Connections from trusted proxies count only toward connections.max_total."),
          s(
              "connections.max_total",
              Kind.INTEGER,
              "10000",
              "Most open client connections in all; more are closed at once."),
          s(
              "admin.listen",
              Kind.HOST_PORT_OR_EMPTY,
              "127.0.0.1:11436",
              "Address of the admin listener: the admin API, the dashboard, and Prometheus metrics at /metrics (never the public listener), each behind an admin credential (docs/admin.md). Empty: off."),
          s(
              "admin.allow_remote",
              Kind.BOOLEAN,
              "false",
              "Allow admin.listen on an address other than loopback. Every admin route but the dashboard's files and login needs an admin credential; still keep the listener off the internet (a firewall, or a reverse proxy with TLS)."),
          s(
              "admin.hosts",
              Kind.STRING_LIST,
              "[]",
              "Extra names the admin listener answers to, as host or host:port exactly as a browser sends them in Host (such as admin.example.com behind a reverse proxy). Its own address and localhost, 127.0.0.1 and [::1] with its port are always allowed; any other Host or Origin is refused (DNS rebinding, CSRF)."),
          // admin.oidc.*: the dashboard's single sign-on (docs/identity-oidc.md)
          s(
              "admin.oidc.issuer",
              Kind.STRING,
              "",
              "OpenID provider whose users may sign in to the dashboard (Sign in with SSO), such as https://sso.example.com/realms/acme. https:// only, but http:// on a loopback address (a provider on the same machine). Its /.well-known/openid-configuration is read at the first login. Empty: off."),
          s(
              "admin.oidc.client_id",
              Kind.STRING,
              "",
              "The dashboard's client id at the provider; ID tokens must name it in aud. Needed when admin.oidc.issuer is set."),
          s(
              "admin.oidc.client_secret_file",
              Kind.PATH,
              "",
              "File holding the client secret, for a confidential client. Empty: a public client (PKCE protects the code either way)."),
          s(
              "admin.oidc.redirect_base",
              Kind.STRING,
              "",
              "Scheme, host and port the browser reaches the admin listener at, such as https://admin.example.com behind a TLS proxy; the provider redirects back to it plus /api/v1/oidc/callback. Empty: the address the browser used (http://, or https:// on a TLS listener)."),
          s(
              "admin.oidc.roles_claim",
              Kind.STRING,
              "groups",
              "ID token claim that holds the user's groups or roles: a string or a list of strings. A dotted path reaches into objects, such as realm_access.roles."),
          s(
              "admin.oidc.roles",
              Kind.STRING_LIST,
              "[]",
              "Which claim values give which dashboard role, as 'value=role' with role viewer, operator or admin, such as ['gatehouse-ops=operator']. The highest role matched wins; a user who matches none is refused."),
          s(
              "health.interval",
              Kind.DURATION,
              "10s",
              "How often the upstream is checked (GET /) for the upstream_up metric and the upstream_down alert. /readyz answers from the same check, and runs one when the last is over a second old. 0s: no periodic check."),
          s(
              "health.timeout",
              Kind.DURATION,
              "5s",
              "Time the upstream has to answer a health check, /readyz's included."),
          s(
              "alerts.default_rules",
              Kind.BOOLEAN,
              "true",
              "Apply the shipped alert rules (docs/alerts.md). A rule in alerts.rules with the same name replaces one."),
          s(
              "alerts.rules",
              Kind.STRING_LIST,
              "[]",
              "Alert rules, one line each, such as 'big_spender: sum tokens requests by key > 100000 in 1h cooldown 1h'. The syntax, events and fields are in docs/alerts.md."),
          s(
              "alerts.webhook",
              Kind.STRING,
              "",
              "URL (http or https) that each alert is POSTed to as JSON. Empty: alerts go to the log only."),
          s(
              "alerts.webhook_secret_file",
              Kind.PATH,
              "",
              "File holding a secret; each webhook POST then carries X-Gatehouse-Signature: sha256=HMAC of the body. Empty: unsigned."),
          s(
              "alerts.webhook_timeout",
              Kind.DURATION,
              "5s",
              "Time the webhook has to answer one delivery."),
          s(
              "alerts.webhook_retries",
              Kind.INTEGER,
              "5",
              "Retries of a failed delivery (no connection, timeout, 408, 429, 5xx), with doubling backoff."),
          s(
              "alerts.webhook_backoff",
              Kind.DURATION,
              "1s",
              "Wait before the first retry; doubled for each further one, up to 5m."),
          s(
              "alerts.manage_hours",
              Kind.STRING,
              "Mon-Fri 08:00-18:00",
              "When model management is expected: [DAY[-DAY]] HH:MM-HH:MM. Outside it requests have off_hours=true (see the models_manage_off_hours rule)."),
          s(
              "alerts.timezone",
              Kind.STRING,
              "",
              "Time zone of alerts.manage_hours, such as Europe/Berlin. Empty: the system's."),
          s(
              "alerts.network_prefix_v4",
              Kind.INTEGER,
              "24",
              "Prefix length that makes an IPv4 address a network for the key_new_network event."),
          s(
              "alerts.network_prefix_v6",
              Kind.INTEGER,
              "48",
              "Prefix length that makes an IPv6 address a network for the key_new_network event."),
          s(
              "audit.hmac_key_file",
              Kind.PATH,
              "",
              "File holding the HMAC key that signs audit checkpoints, created (mode 0600) on first use. Empty: audit-hmac.key in data_dir. Keep it on other storage than the log, so that whoever can rewrite the log cannot re-sign it."),
          s(
              "audit.prompt",
              Kind.STRING,
              "none",
              "What of each request's prompt the audit log keeps: none, sha256 (a SHA-256 of its text), or text (the text, up to 16 KiB, with keys, bearer tokens and other secret-shaped strings redacted)."),
          s(
              "audit.checkpoint_every",
              Kind.INTEGER,
              "1000",
              "Audit records between two signed checkpoints."),
          s(
              "audit.checkpoint_interval",
              Kind.DURATION,
              "60s",
              "Longest time new audit records stay without a signed checkpoint."),
          s(
              "audit.durability",
              Kind.STRING,
              "written",
              "When a complete response's last byte may go out. written: once its audit record is written to audit.jsonl (in the OS page cache), with the fsync following in the background at most 100 ms behind; every response a client received in full keeps its record through a kill -9 of the gateway, and an OS crash or power loss can lose up to the last 100 ms of records. fsync: once the record is fsynced; it survives an OS crash or power loss too, at the cost of an fsync in each response's latency (response is a deprecated name for it). batch: at once, nothing waits; a kill -9 can lose the records of the responses still queued."),
          s(
              "audit.retention.segment_bytes",
              Kind.SIZE,
              "64MiB",
              "Size at which audit.jsonl is sealed into a segment named by its first record's seq (audit-00000000000000000001.jsonl, ...) and a new audit.jsonl is started. Retention deletes whole sealed segments."),
          s(
              "audit.retention.max_age",
              Kind.DURATION_OR_OFF,
              "90d",
              "Sealed audit segments whose newest record is older than this are deleted, file and database rows, after a signed anchor in the checkpoint file records what was pruned. Set it longer if a compliance regime asks for more (PCI DSS: 1 year), or ship sealed segments elsewhere before they go."),
          s(
              "audit.retention.max_bytes",
              Kind.SIZE_OR_OFF,
              "1GiB",
              "Largest size of the audit log (sealed segments plus audit.jsonl); the oldest sealed segments are deleted to stay under it. The active file is never deleted. At least audit.retention.segment_bytes."),
          s(
              "audit.db_max_lag",
              Kind.DURATION,
              "30s",
              "How long the SQLite copy of the audit log may trail audit.jsonl (locked by another process, its disk full) before new requests are refused with 503 audit.unavailable. The file is the record; serving resumes once the copy catches up."),
          s(
              "posture.interval",
              Kind.DURATION_OR_OFF,
              "1h",
              "How often serve re-runs doctor's exposure checks on this machine (listening sockets, open endpoint classes, Gatehouse's upstream reachable around it, advisories) and raises the posture_finding alert for a finding at or above high that was not there before. 0: off. Read-only probes on this machine's own addresses, each run in a child JVM of its own (gatehouse posture-run, started from a worker thread: about 1 s and 1.3 s of CPU, and up to about 110 MB of RSS while it runs, none of it kept by the gateway), so the classes, code and heap a run needs (the JDK's HTTP client and TLS, doctor's rules) leave with it."),
          s(
              "posture.run_timeout",
              Kind.DURATION,
              "60s",
              "Longest time one periodic posture run may take; no probe is sent after it, so a slow or hanging server cannot stall the checks."),
          // The prompt guard (docs/guard.md).
          s(
              "guard.mode",
              Kind.STRING,
              "log",
              "Prompt-injection and jailbreak guard: off, log (score every inference request and note the verdict in the audit log; nothing is refused) or block (refuse flagged requests with 403 guard.prompt_injection, and chat-template control tokens in user content with 403 guard.template_tokens). log is the default so that turning Gatehouse on never breaks a client; see docs/guard.md for the measured false-positive rate before choosing block."),
          s(
              "guard.scope",
              Kind.STRING,
              "last_user_and_tools",
              "What the guard reads: last_user_and_tools (the last user message and every tool result), user_and_tools (every user message and tool result) or all (system and assistant turns too)."),
          s(
              "guard.max_bytes",
              Kind.SIZE,
              "32KiB",
              "Most text the guard reads per request, counted in characters; of a longer text it reads the head and the tail."),
          s(
              "guard.secrets",
              Kind.STRING,
              "off",
              "Secrets and personal data in prompts (API keys and tokens, private keys, emails, Luhn-valid card numbers, mod-97-valid IBANs): off, log (kinds and counts in the audit log), redact (replace each match before the upstream sees it) or block (403 guard.secret)."),
          // Client JWTs from an identity provider (docs/identity-jwt.md).
          s(
              "jwt.issuer",
              Kind.STRING,
              "",
              "The identity provider whose bearer JWTs are accepted as credentials beside API keys; a token's iss must equal it exactly. Empty: JWT authentication is off and a JWT is just an invalid key. Needs jwt.jwks_url or jwt.jwks_file."),
          s(
              "jwt.audience",
              Kind.STRING,
              "",
              "The aud a token must carry (this gateway's client id or resource name at the provider). Empty: any audience, which accepts tokens the provider issued for other applications; doctor reports it."),
          s(
              "jwt.jwks_url",
              Kind.STRING,
              "",
              "http:// or https:// URL of the provider's JSON Web Key Set. Fetched off the event loops with a 5s timeout, cached, fetched again when a token names an unknown kid (at most once per jwt.jwks_min_refetch) and after jwt.jwks_refresh. Exactly one of jwt.jwks_url and jwt.jwks_file when jwt.issuer is set."),
          s(
              "jwt.jwks_file",
              Kind.PATH,
              "",
              "A JSON Web Key Set file, read at start and on reload, instead of jwt.jwks_url."),
          s(
              "jwt.algorithms",
              Kind.STRING_LIST,
              "RS256,ES256",
              "The signature algorithms accepted: RS256/384/512, PS256/384/512 or ES256/384/512. none and the HMAC algorithms (HS256/384/512) are refused at load: a JWKS holds public keys, and HMAC with a public key lets anyone sign."),
          s(
              "jwt.clock_skew",
              Kind.DURATION,
              "60s",
              "How far exp and nbf may be off between the provider's clock and this one (at most 1h; doctor reports more than 5m)."),
          s(
              "jwt.jwks_refresh",
              Kind.DURATION,
              "5m",
              "How old the cached key set of jwt.jwks_url may grow before a request starts a fetch in the background; keys the provider removed stop working after it."),
          s(
              "jwt.jwks_min_refetch",
              Kind.DURATION,
              "30s",
              "The shortest time between two fetches of jwt.jwks_url, so that tokens naming made-up kids cannot make Gatehouse hammer the provider."),
          s(
              "jwt.scopes_claim",
              Kind.STRING,
              "scope",
              "The claim that holds the principal's Gatehouse scopes (inference, embeddings, models.read, ...): a space-separated string or an array. Other values in it are ignored; a token without a Gatehouse scope may do nothing."),
          s(
              "jwt.models_claim",
              Kind.STRING,
              "gatehouse_models",
              "The claim that holds the principal's model allowlist (globs as for keys): a space-separated string or an array. Absent: every model, as for a key without a list."),
          s(
              "jwt.tier_claim",
              Kind.STRING,
              "gatehouse_tier",
              "The claim that names the principal's rate tier, one of jwt.tiers. Absent: the global limits; a tier not in jwt.tiers refuses the token."),
          s(
              "jwt.tiers",
              Kind.STRING_LIST,
              "",
              "Rate tiers, each NAME followed by space-separated limits: rpm=N burst=N tokens_per_minute=N tokens_per_day=N concurrency=N max_output_tokens=N (each optional), e.g. [\"gold rpm=600 burst=60 tokens_per_day=5000000\"]. A limit left out uses the global setting."));

  /** Settings by path, in schema order. */
  public static final Map<String, Setting> BY_PATH;

  static {
    Map<String, Setting> m = new LinkedHashMap<>();
    for (Setting s : ALL) {
      m.put(s.path(), s);
    }
    BY_PATH = java.util.Collections.unmodifiableMap(m);
  }
}

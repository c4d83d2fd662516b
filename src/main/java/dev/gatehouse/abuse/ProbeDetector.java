package dev.gatehouse.abuse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.IpAddress;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.FramingRefusal;
import dev.gatehouse.exchange.JsonFields;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Problem;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Probe detection: scores each client address on what scanners do (see {@link Signal} and
 * docs/abuse.md) from every finished request, refused and unauthenticated ones included, and
 * applies {@code probes.action} once a client's score within {@code probes.window} reaches {@code
 * probes.threshold}. Two signals are unambiguous and act at once whatever the score: a
 * credential-file path, and a registry URL in pull, push, create or copy.
 *
 * <p>Scanners are told nothing: their requests get the answers they would get anyway. The verdict
 * acts on what the client does next (banned, or tarpitted), and is always logged to {@code
 * gatehouse.abuse}.
 *
 * <p>Every signal comes from a refusal or from a request no working client sends, so a client using
 * a valid key in the ordinary way scores nothing. Shared by every event loop; thread-safe.
 */
public final class ProbeDetector {

  private static final Logger LOG = Logger.getLogger("gatehouse.abuse");
  private static final int MAX_CLIENTS = 50_000;

  /** Distinct refused paths remembered per client. */
  private static final int MAX_PATHS = 64;

  /**
   * Refused requests in one minute beyond which the rate signal counts (hardening guides: 20/min).
   */
  private static final int REFUSED_PER_MINUTE = 20;

  private static final Pattern URL_IN_FROM = Pattern.compile("(?im)^[ \\t]*FROM[ \\t]+\\S*://");

  /** The signals, each with its points per occurrence and its most points per window. */
  public enum Signal {
    /**
     * A distinct path refused with 401, 404 or 405, from the fourth on: a cross-framework sweep.
     */
    SWEEP(2, 16),
    /** A server-inventory or fingerprint path read without a valid key. */
    UNAUTH_INVENTORY(2, 8),
    /** A one-token completion of a stock prompt ("hello", "hi"): "is inference open?". */
    HELLO(3, 6),
    /**
     * A hosted vendor's model id (gpt-4o, claude-...) or a scanner's one that the upstream does not
     * serve.
     */
    VENDOR_MODEL(3, 6),
    /** {@code x-api-key: password} or {@code Bearer password}, seen in Anthropic-style probes. */
    WEAK_CREDENTIAL(5, 5),
    /** An {@code anthropic-version} header on a request without a valid key. */
    ANTHROPIC_UNAUTH(2, 2),
    /** More than 20 refused requests within one minute. */
    REFUSED_RATE(3, 9),
    /**
     * Bytes that are not HTTP/1.x as framed: another protocol's greeting (a TLS ClientHello on the
     * plain port, SSH, RTSP), a broken request line or head, the framing of request smuggling. No
     * working HTTP client sends them; a client pointed at the wrong port may, once or twice.
     */
    MALFORMED(2, 10),
    /** A credential file ({@code /.env}, {@code /.aws/credentials}, ...): unambiguous. */
    CREDENTIAL_PATH(0, 0),
    /** A URL ({@code ://}) as the model of a refused pull, push, create or copy: unambiguous. */
    REGISTRY_URL(0, 0),
    /**
     * A scanner's own marker model ({@code __nmap_probe_404__}), which no real client names:
     * unambiguous.
     */
    SCANNER_MODEL(0, 0),
    /**
     * Without a valid key, a one-token completion of a stock prompt from a hosted vendor's model
     * id: the published "is inference open?" probe, every part of it at once. Unambiguous.
     */
    HELLO_PROBE(0, 0);

    public final int points;
    public final int cap;

    Signal(int points, int cap) {
      this.points = points;
      this.cap = cap;
    }

    boolean hard() {
      return cap == 0;
    }

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** What one finished request showed, reduced to what scoring needs. */
  record Observation(
      IpAddress ip,
      String path,
      int status,
      @Nullable Problem problem,
      boolean authenticated,
      @Nullable String model,
      boolean hello,
      boolean weakCredential,
      boolean anthropicVersion,
      boolean registryUrl,
      boolean tinyOutput,
      boolean credentialPresented,
      boolean malformed) {

    Observation(
        IpAddress ip,
        String path,
        int status,
        Problem problem,
        boolean authenticated,
        String model,
        boolean hello,
        boolean weakCredential,
        boolean anthropicVersion,
        boolean registryUrl) {
      this(
          ip,
          path,
          status,
          problem,
          authenticated,
          model,
          hello,
          weakCredential,
          anthropicVersion,
          registryUrl,
          false);
    }

    Observation(
        IpAddress ip,
        String path,
        int status,
        Problem problem,
        boolean authenticated,
        String model,
        boolean hello,
        boolean weakCredential,
        boolean anthropicVersion,
        boolean registryUrl,
        boolean tinyOutput) {
      this(
          ip,
          path,
          status,
          problem,
          authenticated,
          model,
          hello,
          weakCredential,
          anthropicVersion,
          registryUrl,
          tinyOutput,
          false,
          false);
    }
  }

  /** A verdict, as logged. */
  record Verdict(
      IpAddress ip,
      int score,
      Map<Signal, Integer> points,
      @Nullable Signal hard,
      long requests,
      List<String> paths) {
    String summary() {
      StringJoiner j = new StringJoiner(",");
      points.forEach((s, p) -> j.add(s.label() + ":" + p));
      return j.toString();
    }
  }

  private static final class State implements ClientTable.Entry {
    long windowStart;
    long last;
    long requests;
    int score;
    final EnumMap<Signal, Integer> points = new EnumMap<>(Signal.class);
    final Set<String> refusedPaths = new LinkedHashSet<>();

    /**
     * Sample paths in the order their requests started (not finished: connections race), with that
     * order's keys.
     */
    final List<String> samples = new ArrayList<>(4);

    final List<Long> sampleStarts = new ArrayList<>(4);
    long minute = -1;
    int refusedInMinute;
    boolean flagged;

    @Override
    public long lastMillis() {
      return last;
    }

    /** The points the observation being scored added, for the shared score. */
    final EnumMap<Signal, Integer> added = new EnumMap<>(Signal.class);

    void add(Signal s, int pts) {
      int have = points.getOrDefault(s, 0);
      int add = Math.min(pts, s.cap - have);
      if (add > 0) {
        points.put(s, have + add);
        score += add;
        added.merge(s, add, Integer::sum);
      }
    }
  }

  private final GatehouseConfig.ProbeAction action;
  private final int threshold;
  private final long windowMillis;
  private final BanList bans;
  private final ClientTable<State> table;

  /** The scores across gateways, or null to score in this process only. */
  private final @Nullable SharedCounts shared;

  public ProbeDetector(GatehouseConfig.Probes config, BanList bans) {
    this(config, bans, null);
  }

  /**
   * As above; with {@code shared}, scores add up across gateways, and a score's verdict is reached
   * there (hard signals still act at once, here).
   */
  public ProbeDetector(GatehouseConfig.Probes config, BanList bans, @Nullable SharedCounts shared) {
    this.shared = shared;
    this.action = config.action();
    this.threshold = config.threshold();
    this.windowMillis = config.window().toMillis();
    this.bans = bans;
    this.table = new ClientTable<>(MAX_CLIENTS, windowMillis, State::new);
  }

  /** Scores a finished request. Ordinary successful traffic returns after a few comparisons. */
  public void observe(Exchange x) {
    Problem p = x.problem();
    if (x.clientAddress() == null
        || p == Problem.CLIENT_BANNED
        || p == Problem.ADDRESS_DENIED
        || p == Problem.HOST_DENIED
        || p == Problem.STORE_UNAVAILABLE
        || p == Problem.AUDIT_UNAVAILABLE) {
      return; // refused before anything about the request was looked at: no new evidence
    }
    int status = x.response().getStatusCode();
    boolean inference =
        x.route() != null
            && x.route().operation() == Operation.INFERENCE
            && (x.json() != null || x.helloProbe() != null);
    if (p == null && status < 400 && !inference) {
      return;
    }
    String path = x.target() != null ? x.target().path() : x.request().path();
    String apiKey = x.request().getHeader("x-api-key");
    String auth = x.request().getHeader("authorization"); // lower case: HTTP/2 copies no name
    boolean weak =
        "password".equalsIgnoreCase(apiKey == null ? null : apiKey.trim())
            || (auth != null && auth.trim().equalsIgnoreCase("bearer password"));
    long now = System.currentTimeMillis();
    if (p == null && status < 400 && x.principal() != null) {
      // Served with a valid key. Of the signals, only these can come from such a request (the rest
      // need a refusal or no key): when it shows none of them it adds no points, so it is only
      // counted in its client's window, without building an observation.
      if (!weak
          && !helloProbe(x) // served and not inference returned above
          && !ProbeSignatures.credentialPath(path)
          && !ProbeSignatures.scannerModel(x.model())) {
        State s = table.get(x.clientAddress(), now);
        if (s != null) {
          synchronized (s) {
            count(s, path, now, x.startNanos());
          }
        }
        return;
      }
    }
    boolean anthropic = x.request().getHeader("anthropic-version") != null;
    boolean presented =
        ProbeSignatures.realCredential(auth) || ProbeSignatures.realCredential(apiKey);
    // its body broke the framing (the check cut it); behind a proxy that re-frames requests, the
    // bytes are the proxy's, not the client's
    boolean malformed = FramingRefusal.malformed(p) && !x.viaProxy();
    Observation o;
    if (x.principal() == null && x.bodyPeek() != null) {
      // Refused for lack of a valid key, and its body's prefix was read: score what it asks for.
      PeekedBody b = PeekedBody.scan(x.bodyPeek());
      o =
          new Observation(
              x.clientAddress(),
              path,
              status,
              p,
              false,
              b.model(),
              b.stockPrompt(),
              weak,
              anthropic,
              b.urlAsModel() && ProbeSignatures.managementPath(path),
              b.tinyOutput(),
              presented,
              malformed);
    } else {
      o =
          new Observation(
              x.clientAddress(),
              path,
              status,
              p,
              x.principal() != null,
              x.model(),
              inference && helloProbe(x),
              weak,
              anthropic,
              p == Problem.REGISTRY_DENIED && urlAsModel(x),
              false,
              presented,
              malformed);
    }
    Verdict v = observe(o, now, x.startNanos());
    if (v != null) {
      act(v);
    }
  }

  /**
   * Scores a request the framing check refused before the pipeline saw it, from {@code client} (the
   * connection's peer, never a trusted proxy's address: the caller leaves those out).
   */
  public void observe(FramingRefusal r, IpAddress client) {
    Observation o =
        new Observation(
            client,
            r.path() == null ? "(malformed)" : r.path(),
            r.status(),
            r.problem(),
            false,
            null,
            false,
            false,
            false,
            false,
            false,
            false,
            r.malformed());
    Verdict v = observe(o, System.currentTimeMillis(), System.nanoTime());
    if (v != null) {
      act(v);
    }
  }

  /** Scores one observation; returns a verdict when this one makes the client's. */
  @Nullable Verdict observe(Observation o, long now) {
    return observe(o, now, System.nanoTime());
  }

  /** As above; {@code startedNanos} orders the sample paths by when each request started. */
  @Nullable Verdict observe(Observation o, long now, long startedNanos) {
    State s = table.get(o.ip(), now);
    if (s == null) {
      return null;
    }
    EnumMap<Signal, Integer> toShare;
    synchronized (s) {
      s.added.clear();
      String sample = count(s, o.path(), now, startedNanos);
      Problem p = o.problem();
      boolean refused = p != null || o.status() >= 400;
      if (refused) {
        // A wrong key is a client that mistyped or kept an old key (or a guesser, which the
        // auth-failure ban handles): its 401s across a client's usual paths are not a sweep.
        boolean wrongKey = p == Problem.KEY_INVALID && o.credentialPresented();
        boolean sweepish =
            !wrongKey && p == Problem.KEY_INVALID
                || p == Problem.ENDPOINT_UNKNOWN
                || p == Problem.METHOD_NOT_ALLOWED
                || p == Problem.TARGET_MALFORMED
                || o.status() == 404;
        if (sweepish
            && s.refusedPaths.size() < MAX_PATHS
            && s.refusedPaths.add(sample)
            && s.refusedPaths.size() > 3) {
          s.add(Signal.SWEEP, Signal.SWEEP.points);
        }
        long minute = now / 60_000;
        if (minute != s.minute) {
          s.minute = minute;
          s.refusedInMinute = 0;
        }
        if (++s.refusedInMinute == REFUSED_PER_MINUTE + 1) {
          s.add(Signal.REFUSED_RATE, Signal.REFUSED_RATE.points);
        }
      }
      if (!o.authenticated()
          && p == Problem.KEY_INVALID
          && !o.credentialPresented()
          && ProbeSignatures.inventoryPath(o.path())) {
        s.add(Signal.UNAUTH_INVENTORY, Signal.UNAUTH_INVENTORY.points);
      }
      if (o.hello()) {
        s.add(Signal.HELLO, Signal.HELLO.points);
      }
      // Without a key nothing is served, so a vendor's id in the body counts as the 404 would.
      if ((o.status() == 404 || p == Problem.MODEL_DENIED || !o.authenticated())
          && ProbeSignatures.vendorModel(o.model())) { // the pattern last: served requests skip it
        s.add(Signal.VENDOR_MODEL, Signal.VENDOR_MODEL.points);
      }
      if (o.malformed()) {
        s.add(Signal.MALFORMED, Signal.MALFORMED.points);
      }
      if (o.weakCredential()) {
        s.add(Signal.WEAK_CREDENTIAL, Signal.WEAK_CREDENTIAL.points);
      }
      if (o.anthropicVersion() && !o.authenticated()) {
        s.add(Signal.ANTHROPIC_UNAUTH, Signal.ANTHROPIC_UNAUTH.points);
      }
      Signal hard =
          ProbeSignatures.credentialPath(o.path())
              ? Signal.CREDENTIAL_PATH
              : o.registryUrl()
                  ? Signal.REGISTRY_URL
                  : ProbeSignatures.scannerModel(o.model())
                      ? Signal.SCANNER_MODEL
                      : !o.authenticated()
                              && o.hello()
                              && o.tinyOutput()
                              && ProbeSignatures.vendorModel(o.model())
                          ? Signal.HELLO_PROBE
                          : null;
      if (hard == null && shared != null) {
        if (s.added.isEmpty()) {
          return null;
        }
        toShare = new EnumMap<>(s.added); // the score's verdict is the shared count's, below
      } else {
        if (hard == null && (s.flagged || s.score < threshold)) {
          return null;
        }
        s.flagged = true; // one verdict per window for scores; every hard signal is reported
        return new Verdict(
            o.ip(), s.score, new EnumMap<>(s.points), hard, s.requests, List.copyOf(s.samples));
      }
    }
    shareAndAct(o.ip(), s, toShare);
    return null;
  }

  /**
   * Adds what one observation scored to the shared score, and acts when that crosses the threshold
   * (once across the gateways, in its window). Redis failing, this gateway's own score decides.
   */
  private void shareAndAct(IpAddress ip, State s, EnumMap<Signal, Integer> added) {
    Objects.requireNonNull(shared)
        .probePoints(ip, added, threshold, windowMillis)
        .onComplete(
            ar -> {
              Verdict v;
              synchronized (s) {
                boolean crossed =
                    ar.succeeded()
                        ? ar.result() >= 0
                        : !s.flagged && s.score >= threshold; // Redis failed: this gateway's
                if (!crossed) {
                  return;
                }
                s.flagged = true;
                v =
                    new Verdict(
                        ip,
                        ar.succeeded() ? ar.result().intValue() : s.score,
                        new EnumMap<>(s.points),
                        null,
                        s.requests,
                        List.copyOf(s.samples));
              }
              act(v);
            });
  }

  /**
   * Counts a request in its client's window (starting a new window when the last one is over) and
   * keeps its path as a sample; returns the path as sampled. Call holding {@code s}.
   */
  private String count(State s, String path, long now, long startedNanos) {
    if (s.requests == 0 || now - s.windowStart > windowMillis) {
      s.windowStart = now;
      s.score = 0;
      s.points.clear();
      s.refusedPaths.clear();
      s.samples.clear();
      s.sampleStarts.clear();
      s.requests = 0;
      s.flagged = false;
    }
    s.requests++;
    s.last = now;
    String sample = BanPolicy.samplePath(path);
    if (s.samples.size() < 10 && !s.samples.contains(sample)) {
      int at = s.samples.size();
      while (at > 0 && s.sampleStarts.get(at - 1) - startedNanos > 0) {
        at--; // a request that started earlier but finished later goes before those after it
      }
      s.samples.add(at, sample);
      s.sampleStarts.add(at, startedNanos);
    }
    return sample;
  }

  private void act(Verdict v) {
    String why =
        v.hard() != null
            ? "probe: " + v.hard().label()
            : "probe score " + v.score() + ": " + v.summary();
    LOG.warning(
        "probe verdict ip="
            + v.ip().text()
            + " score="
            + v.score()
            + " threshold="
            + threshold
            + " action="
            + action.name().toLowerCase(java.util.Locale.ROOT)
            + " signals="
            + (v.points().isEmpty() ? "-" : v.summary())
            + " hard="
            + (v.hard() == null ? "-" : v.hard().label())
            + " requests="
            + v.requests()
            + " paths="
            + String.join(",", v.paths()));
    long now = System.currentTimeMillis();
    switch (action) {
      case LOG -> {}
      case BAN ->
          bans.ban(
              v.ip(),
              why,
              new BanPolicy.Evidence(Instant.ofEpochMilli(now), v.requests(), v.paths()));
      case TARPIT -> bans.tarpit(v.ip(), Instant.ofEpochMilli(now + windowMillis), why);
    }
  }

  /**
   * Whether {@code x}'s body is a hello probe: the answer kept when its policy fields were let go
   * ({@link Exchange#letFieldsGo}), else read from them.
   */
  private static boolean helloProbe(Exchange x) {
    Boolean kept = x.helloProbe();
    if (kept != null) {
      return kept;
    }
    JsonNode json = x.json();
    return json != null && helloProbe(json);
  }

  /** An inference request asking for at most one token of a stock probe prompt. */
  public static boolean helloProbe(JsonNode json) {
    // The prompt first, the output caps last: every scored request asks, and a real prompt is
    // told apart with fewer lookups than the four caps and options take.
    JsonNode prompt = JsonFields.get(json, "prompt");
    if (prompt != null && prompt.isTextual()) {
      return ProbeSignatures.probePrompt(prompt.asText()) && tinyOutput(json);
    }
    JsonNode messages = JsonFields.get(json, "messages");
    if (messages != null && messages.isArray() && messages.size() == 1) {
      JsonNode content = JsonFields.get(messages.get(0), "content");
      return content != null
          && content.isTextual()
          && ProbeSignatures.probePrompt(content.asText())
          && tinyOutput(json);
    }
    return false;
  }

  private static final List<String> OUTPUT_CAPS =
      List.of("max_tokens", "max_completion_tokens", "max_output_tokens", "n_predict");

  /**
   * max_tokens, max_completion_tokens, max_output_tokens, or Ollama's options.num_predict, at most
   * 1.
   */
  private static boolean tinyOutput(JsonNode json) {
    for (int i = 0; i < OUTPUT_CAPS.size(); i++) {
      JsonNode v = JsonFields.get(json, OUTPUT_CAPS.get(i));
      if (v != null && v.isNumber() && v.asLong() <= 1) {
        return true;
      }
    }
    JsonNode options = JsonFields.get(json, "options");
    if (options != null && options.isObject()) {
      JsonNode n = JsonFields.get(options, "num_predict");
      return n != null && n.isNumber() && n.asLong() >= 0 && n.asLong() <= 1;
    }
    return false;
  }

  /** A refused management request whose model field, or Modelfile FROM, is a URL. */
  private static boolean urlAsModel(Exchange x) {
    if (x.json() == null || x.route() == null) {
      return false;
    }
    for (String field : x.route().modelFields()) {
      JsonNode v = JsonFields.get(x.json(), field);
      if (v != null && v.isTextual() && v.asText().contains("://")) {
        return true;
      }
    }
    JsonNode modelfile = JsonFields.get(x.json(), "modelfile");
    return modelfile != null
        && modelfile.isTextual()
        && URL_IN_FROM.matcher(modelfile.asText()).find();
  }
}

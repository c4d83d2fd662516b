package dev.gatehouse.doctor;

import dev.gatehouse.doctor.HttpProbe.Request;
import dev.gatehouse.doctor.HttpProbe.Response;
import dev.gatehouse.exchange.Operation;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The probes that tell, for each endpoint class (the scopes of {@link Operation}), whether it
 * answers without credentials, using only requests that cannot change anything on the server.
 *
 * <p>Why each probe is harmless:
 *
 * <ul>
 *   <li><b>A method the route does not accept.</b> {@code DELETE /api/pull}, {@code GET
 *       /api/delete}: the router answers 405 before any handler runs (Ollama's router has {@code
 *       HandleMethodNotAllowed}), and even a server that ignored the method would get no body, so
 *       no model name to act on. A 405 still tells that the route answered without asking for
 *       credentials; a gateway or auth proxy answers 401 first.
 *   <li><b>A body that cannot be decoded.</b> The one POST to a management route ({@code
 *       /api/pull}, only when the method probes were inconclusive, as on Ollama releases whose
 *       router answers 404 to a wrong method) sends {@code "model": 0}: a number where every
 *       server's request type has a string, so JSON decoding fails and the handler returns 400
 *       before it reads a name, let alone contacts a registry.
 *   <li><b>Inference with a model that does not exist and a malformed prompt.</b> The model is
 *       {@value #BOGUS_MODEL}; the prompt, messages or input is an object where text or a list is
 *       required. A server that checks the model answers 404 "model not found"; one that ignores
 *       the model name (llama.cpp serves whatever it loaded) still refuses the malformed prompt
 *       with 400. Nothing is generated, loaded or pulled.
 *   <li><b>Reads.</b> {@code GET /api/tags}, {@code /v1/models}, {@code /props}, {@code /slots},
 *       {@code /metrics}, and {@code POST /api/show} for the nonexistent model: read-only handlers.
 * </ul>
 *
 * <p>Never sent: a pull, push, create, copy or delete with a well-formed name; any blob upload;
 * sign-out or key deletion; anything under {@code /api/experimental} with a body; llama.cpp's
 * {@code POST /props}, {@code /slots} or {@code /lora-adapters}; LocalAI's {@code POST
 * /models/apply}.
 */
public final class ClassProbes {

  /** A model name no registry has, so that no server can find, load or pull it. */
  public static final String BOGUS_MODEL = "gatehouse-scan-nonexistent-model";

  /** Sent as {@code Origin} on the read probes; {@code .invalid} can never be a real site. */
  public static final String PROBE_ORIGIN = "https://gatehouse-scan.invalid";

  /** What one class's probes showed. */
  public enum Answer {
    /** At least one of its endpoints answered without credentials. */
    OPEN,
    /** Its endpoints asked for credentials (401, 403). */
    PROTECTED,
    /** None of its endpoints exists here. */
    ABSENT,
    /** No conclusive answer (errors, redirects, 5xx, or not probed within the budget). */
    UNKNOWN
  }

  /**
   * The verdict for one class.
   *
   * @param operation the class
   * @param answer the verdict
   * @param evidence each probe and its status, for the report
   */
  public record Result(Operation operation, Answer answer, List<String> evidence) {
    public Result {
      evidence = List.copyOf(evidence);
    }
  }

  /**
   * One probe.
   *
   * @param operation the class it tests
   * @param request what is sent
   * @param wrongMethod true when the route does not accept this method (405 means it exists)
   */
  record Probe(Operation operation, Request request, boolean wrongMethod) {}

  private static final String INVALID = "{\"gatehouse_scan\":true}";

  /** The probes, most important class first, so a small budget still covers what matters. */
  static final List<Probe> PROBES =
      List.of(
          wrong(Operation.MODELS_MANAGE, "DELETE", "/api/pull"),
          wrong(Operation.MODELS_MANAGE, "GET", "/api/delete"),
          wrong(Operation.MODELS_MANAGE, "GET", "/api/create"),
          wrong(Operation.MODELS_MANAGE, "GET", "/api/blobs/sha256-" + "0".repeat(64)),
          wrong(Operation.MODELS_MANAGE, "GET", "/models/apply"),
          post(
              Operation.INFERENCE,
              "/api/generate",
              "{\"model\":\"" + BOGUS_MODEL + "\",\"prompt\":" + INVALID + ",\"stream\":false}"),
          post(
              Operation.INFERENCE,
              "/v1/chat/completions",
              "{\"model\":\""
                  + BOGUS_MODEL
                  + "\",\"messages\":"
                  + INVALID
                  + ",\"max_tokens\":1,\"stream\":false}"),
          read(Operation.MODELS_READ, "/api/tags"),
          read(Operation.MODELS_READ, "/v1/models"),
          post(Operation.MODELS_INSPECT, "/api/show", "{\"model\":\"" + BOGUS_MODEL + "\"}"),
          new Probe(Operation.MODELS_INSPECT, Request.get("/props"), false),
          new Probe(Operation.MODELS_INSPECT, Request.get("/slots"), false),
          new Probe(Operation.MODELS_INSPECT, Request.get("/metrics"), false),
          post(
              Operation.EMBEDDINGS,
              "/api/embed",
              "{\"model\":\"" + BOGUS_MODEL + "\",\"input\":" + INVALID + "}"),
          post(
              Operation.EMBEDDINGS,
              "/v1/embeddings",
              "{\"model\":\"" + BOGUS_MODEL + "\",\"input\":" + INVALID + "}"),
          wrong(Operation.ACCOUNT, "GET", "/api/me"),
          wrong(Operation.ACCOUNT, "GET", "/api/signout"),
          wrong(Operation.CLOUD, "GET", "/api/experimental/web_search"));

  /** Sent only when the method probes could not tell (see the class comment). */
  static final Probe PULL_UNDECODABLE =
      post(Operation.MODELS_MANAGE, "/api/pull", "{\"model\":0,\"name\":0,\"stream\":false}");

  private ClassProbes() {}

  private static Probe wrong(Operation op, String method, String path) {
    return new Probe(op, new Request(method, path, Map.of(), null), true);
  }

  private static Probe post(Operation op, String path, String body) {
    return new Probe(op, new Request("POST", path, Map.of(), body), false);
  }

  private static Probe read(Operation op, String path) {
    return new Probe(op, new Request("GET", path, Map.of("Origin", PROBE_ORIGIN), null), false);
  }

  /** Runs every probe within the session's budget and gives one verdict per class. */
  public static Map<Operation, Result> run(Session s, Product product) {
    Map<Operation, List<String>> evidence = new EnumMap<>(Operation.class);
    Map<Operation, List<Answer>> answers = new EnumMap<>(Operation.class);
    for (Operation op : Operation.values()) {
      evidence.put(op, new ArrayList<>());
      answers.put(op, new ArrayList<>());
    }
    for (Probe p : PROBES) {
      probe(s, p, evidence, answers);
    }
    Answer manage = verdict(java.util.Objects.requireNonNull(answers.get(Operation.MODELS_MANAGE)));
    if (product == Product.OLLAMA && (manage == Answer.ABSENT || manage == Answer.UNKNOWN)) {
      probe(s, PULL_UNDECODABLE, evidence, answers);
    }
    Map<Operation, Result> out = new LinkedHashMap<>();
    for (Operation op : Operation.values()) {
      List<Answer> a =
          java.util.Objects.requireNonNull(
              answers.get(op)); // every operation has its lists (above)
      if (a.isEmpty()) {
        java.util.Objects.requireNonNull(evidence.get(op))
            .add("not probed: the request budget was spent");
      }
      out.put(
          op,
          new Result(
              op,
              a.isEmpty() ? Answer.UNKNOWN : verdict(a),
              java.util.Objects.requireNonNull(evidence.get(op))));
    }
    return out;
  }

  private static void probe(
      Session s,
      Probe p,
      Map<Operation, List<String>> evidence,
      Map<Operation, List<Answer>> answers) {
    if (s.exhausted()) {
      return;
    }
    Optional<Response> r = s.send(p.request());
    if (r.isEmpty() && s.exhausted()) {
      return;
    }
    Answer a = classify(p, r.orElse(null));
    java.util.Objects.requireNonNull(answers.get(p.operation())).add(a);
    java.util.Objects.requireNonNull(evidence.get(p.operation()))
        .add(
            p.request().line()
                + " -> "
                + r.map(x -> String.valueOf(x.status())).orElse("no answer")
                + meaning(a, r.map(Response::status).orElse(0)));
  }

  /** What a status meant, in words, so the evidence reads without this class at hand. */
  private static String meaning(Answer a, int status) {
    return switch (a) {
      case OPEN ->
          switch (status) {
            case 405 ->
                " (the route exists and answered without credentials; the method was refused, as intended)";
            case 404 ->
                " (answered without credentials: the model lookup ran and found nothing, as intended)";
            case 400, 422 ->
                " (answered without credentials: the malformed request was refused, as intended)";
            default -> " (answered without credentials)";
          };
      case PROTECTED -> " (credentials required)";
      case ABSENT -> " (no such endpoint)";
      case UNKNOWN -> " (inconclusive)";
    };
  }

  /** Any open endpoint makes the class open; otherwise any refusal makes it protected. */
  static Answer verdict(List<Answer> answers) {
    if (answers.contains(Answer.OPEN)) {
      return Answer.OPEN;
    }
    if (answers.contains(Answer.PROTECTED)) {
      return Answer.PROTECTED;
    }
    if (answers.contains(Answer.UNKNOWN)) {
      return Answer.UNKNOWN;
    }
    return Answer.ABSENT;
  }

  /** What one response says about its endpoint. */
  static Answer classify(Probe p, @Nullable Response r) {
    if (r == null) {
      return Answer.UNKNOWN;
    }
    int s = r.status();
    if (s == 401 || s == 403 || s == 407) {
      return Answer.PROTECTED;
    }
    if (Fingerprinter.lmStudioUnexpected(r)) {
      return Answer.ABSENT;
    }
    if (s == 404) {
      // The handler looked the model up (and did not find it): the route is there and open.
      // Any other 404 is the router's: no such endpoint.
      return r.body().contains(BOGUS_MODEL) ? Answer.OPEN : Answer.ABSENT;
    }
    if (s == 405 || s == 400 || s == 422 || s == 413 || s == 415 || s / 100 == 2) {
      return Answer.OPEN; // the route answered without asking who we are
    }
    return Answer.UNKNOWN; // redirects, 429, 5xx: neither open nor protected, as far as we can tell
  }

  /**
   * Responses that let any web page read them: {@code Access-Control-Allow-Origin} of {@code *}, or
   * our made-up origin echoed back, on the probes that sent one.
   */
  public static List<String> corsEvidence(List<Session.Exchange> exchanges) {
    List<String> out = new ArrayList<>();
    for (Session.Exchange e : exchanges) {
      String origin = e.request().headers().get("Origin");
      if (origin == null || e.response() == null) {
        continue;
      }
      String allowed = e.response().header("access-control-allow-origin");
      if (allowed != null && (allowed.strip().equals("*") || allowed.strip().equals(origin))) {
        out.add(
            e.request().line()
                + " with Origin: "
                + origin
                + " -> Access-Control-Allow-Origin: "
                + allowed.strip());
      }
    }
    return out;
  }

  /** The classes that got this verdict. */
  public static Set<Operation> having(Map<Operation, Result> classes, Answer answer) {
    Set<Operation> out = EnumSet.noneOf(Operation.class);
    classes.forEach(
        (op, r) -> {
          if (r.answer() == answer) {
            out.add(op);
          }
        });
    return out;
  }

  /** {@code inference, models.manage}, or {@code none}. */
  public static String scopes(Set<Operation> ops) {
    return ops.isEmpty() ? "none" : String.join(", ", ops.stream().map(op -> op.scope).toList());
  }
}

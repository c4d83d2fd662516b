package dev.gatehouse.authorize;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.Exchange;
import dev.gatehouse.exchange.JsonFields;
import dev.gatehouse.exchange.ModelName;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.exchange.Problem;
import dev.gatehouse.exchange.Rejection;
import dev.gatehouse.exchange.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The authorize stage: may this principal perform this route's operation, on these models, with
 * these tools and query parameters?
 *
 * <p>Checked in two steps so that a denied request is refused as cheaply as possible: the scope
 * from headers alone ({@link #scope}), then, once the body is read, everything the request names
 * ({@link #models(Exchange)}). Every model name, wherever it comes from (a body field, an inline
 * Modelfile's FROM line, the path, a form field, the query), goes through the one parser, {@link
 * ModelName}, and the same three rules: cloud models, registries, the key's allowlist. A name that
 * does not parse is 400 {@code request.model_invalid} and never forwarded. Immutable and
 * thread-safe.
 */
public final class Authorizer {

  /** A Modelfile FROM line as Ollama's parser reads it: any case, then spaces or tabs. */
  private static final Pattern MODELFILE_FROM =
      Pattern.compile("(?im)^[ \\t]*FROM[ \\t]+(\\S.*?)[ \\t\\r]*$");

  private final Set<String> allowedRegistries;
  private final boolean allowCloudModels;

  public Authorizer(GatehouseConfig.Policy policy) {
    this.allowedRegistries =
        policy.allowedRegistries().stream()
            .map(ModelName::lower)
            .collect(Collectors.toUnmodifiableSet());
    this.allowCloudModels = policy.allowCloudModels();
  }

  /** Refuses a route whose operation the key has no scope for. */
  public @Nullable Rejection scope(Principal p, Route route) {
    if (!p.hasScope(route.operation().scope)) {
      return Rejection.of(
          Problem.ENDPOINT_DENIED,
          "this key may not use "
              + route.operation().scope
              + " endpoints (scope "
              + route.operation().scope
              + " required)");
    }
    return null;
  }

  /** One model name the request gives, and where. */
  private record Named(String where, String raw) {}

  /**
   * Checks the query, the tools and every model the request names, once its body is read; sets
   * {@link Exchange#modelName()} to the first model named (for the usage record).
   */
  public @Nullable Rejection models(Exchange x) {
    QueryPolicy.Parsed query =
        QueryPolicy.parse(Objects.requireNonNull(x.target(), "listen.shape ran").raw());
    if (query.rejection() != null) {
      return query.rejection();
    }
    Set<String> allowedParams =
        QueryPolicy.allowed(
            Objects.requireNonNull(x.route(), "authorize.route ran"), x.request().method().name());
    for (Map.Entry<String, String> e : query.params().entrySet()) {
      if (!allowedParams.contains(e.getKey())) {
        return Rejection.of(
            Problem.QUERY_DENIED,
            "this endpoint does not take the query parameter " + QueryPolicy.printable(e.getKey()));
      }
    }
    String autoload = query.params().get("autoload");
    if (autoload != null
        && !autoload.equals("false")
        && !autoload.equals("0")
        && !Objects.requireNonNull(x.principal(), "identify.key ran")
            .hasScope(Operation.MODELS_MANAGE.scope)) {
      return Rejection.of(
          Problem.ENDPOINT_DENIED,
          "autoload loads a model (scope " + Operation.MODELS_MANAGE.scope + " required)");
    }
    if (x.json() != null) {
      Rejection tools =
          ToolPolicy.check(
              Objects.requireNonNull(x.principal(), "identify.key ran")
                  .hasScope(Operation.CLOUD.scope),
              x.json());
      if (tools != null) {
        return tools;
      }
    }
    List<Named> names = new ArrayList<>(2);
    Rejection shape = collect(x.route(), x.json(), names);
    if (shape != null) {
      return shape;
    }
    if (x.route().pathModel() && x.pathParam() != null) {
      names.add(new Named("path", x.pathParam()));
    }
    if (x.formModel() != null) {
      names.add(new Named("form field model", x.formModel()));
    }
    if (query.params().containsKey("model")) {
      names.add(new Named("query parameter model", query.params().get("model")));
    }
    return check(x, names);
  }

  /**
   * Checks the models a request names, without a query or tools: the older entry point.
   *
   * @param json the parsed body, or null when the route has none
   * @param pathParam the decoded last path segment of a parameterised route, or null
   * @param formModel the {@code model} part of a multipart body, or null
   */
  public @Nullable Rejection models(
      Principal p,
      Route route,
      @Nullable JsonNode json,
      @Nullable String pathParam,
      @Nullable String formModel) {
    List<Named> names = new ArrayList<>(2);
    Rejection shape = collect(route, json, names);
    if (shape != null) {
      return shape;
    }
    if (route.pathModel() && pathParam != null) {
      names.add(new Named("path", pathParam));
    }
    if (formModel != null) {
      names.add(new Named("form field model", formModel));
    }
    return verdict(p, route, names, new ModelName[1]);
  }

  /** The body's model fields and inline Modelfile FROM lines. */
  private static @Nullable Rejection collect(
      Route route, @Nullable JsonNode json, List<Named> names) {
    if (json == null) {
      return null;
    }
    for (String field : route.modelFields()) {
      JsonNode v = JsonFields.get(json, field);
      if (v == null) {
        continue;
      }
      if (!v.isTextual()) {
        // null, numbers, arrays, objects: Ollama's and the others' decoders disagree on them
        return Rejection.of(
            Problem.MODEL_INVALID, "field " + field + " must be a model name (a string)");
      }
      names.add(new Named("field " + field, v.asText()));
    }
    JsonNode modelfile = JsonFields.get(json, "modelfile");
    if (route.operation() == Operation.MODELS_MANAGE && modelfile != null && !modelfile.isNull()) {
      if (!modelfile.isTextual()) {
        return Rejection.of(Problem.BODY_INVALID_JSON, "field modelfile must be a string");
      }
      Matcher from = MODELFILE_FROM.matcher(modelfile.asText());
      while (from.find()) {
        String ref = from.group(1).trim();
        if (!localPath(ref)) {
          names.add(new Named("modelfile FROM", ref));
        }
      }
    }
    return null;
  }

  /**
   * A Modelfile FROM that names a file on the server rather than a model (./x.gguf, /models/x, ~/x,
   * C:\x).
   */
  private static boolean localPath(String ref) {
    return ref.startsWith("/")
        || ref.startsWith("./")
        || ref.startsWith("../")
        || ref.startsWith("~")
        || ref.indexOf('\\') >= 0
        || ref.matches("[A-Za-z]:.*");
  }

  private @Nullable Rejection check(Exchange x, List<Named> names) {
    ModelName[] first = new ModelName[1];
    Rejection r =
        verdict(
            Objects.requireNonNull(x.principal(), "identify.key ran"),
            Objects.requireNonNull(x.route(), "authorize.route ran"),
            names,
            first);
    x.modelNamed(first[0]);
    return r;
  }

  private @Nullable Rejection verdict(
      Principal p, Route route, List<Named> names, ModelName[] first) {
    boolean restricted = !p.models().allowsAll();
    if (names.isEmpty()) {
      boolean compute =
          route.operation() == Operation.INFERENCE || route.operation() == Operation.EMBEDDINGS;
      return restricted && compute ? Rejection.of(Problem.MODEL_MISSING) : null;
    }
    for (Named named : names) {
      ModelName name = ModelName.parse(named.raw());
      if (name == null) {
        return Rejection.of(
            Problem.MODEL_INVALID,
            named.where()
                + " is not a valid model name"
                + (printableName(named.raw()) ? ": " + named.raw() : ""));
      }
      if (first[0] == null) {
        first[0] = name;
      }
      if (!allowCloudModels && name.isCloud()) {
        return Rejection.of(
            Problem.CLOUD_MODEL_DENIED,
            "model "
                + name.recorded()
                + " would run on ollama.com under the server owner's account; cloud models are not allowed (policy.allow_cloud_models)");
      }
      if (route.operation() == Operation.MODELS_MANAGE) {
        String registry = ModelNames.registry(named.raw());
        if (registry != null && !allowedRegistries.contains(registry)) {
          return Rejection.of(
              Problem.REGISTRY_DENIED,
              "registry " + registry + " is not allowed (policy.allowed_registries)");
        }
      }
      if (restricted && !p.models().allows(name)) {
        return Rejection.of(Problem.MODEL_DENIED, "this key may not use model " + name.recorded());
      }
    }
    return null;
  }

  /**
   * Echo a refused name only when it is short printable ASCII (never control or bidi characters).
   */
  private static boolean printableName(String s) {
    return s.length() <= 100 && s.chars().allMatch(c -> c > 0x20 && c < 0x7f);
  }
}

package dev.gatehouse.authorize;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.identify.Principal;
import dev.gatehouse.pipeline.JsonFields;
import dev.gatehouse.pipeline.Problem;
import dev.gatehouse.pipeline.Rejection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The authorize stage: may this principal perform this route's operation, on these models?
 *
 * <p>Checked in two steps so that a denied request is refused as cheaply as possible: the scope
 * from headers alone ({@link #scope}), then, once the body is read, the models it names
 * ({@link #models}). Immutable and thread-safe.
 */
public final class Authorizer {

  /** A Modelfile FROM line as Ollama's parser reads it: any case, then spaces or tabs. */
  private static final Pattern MODELFILE_FROM = Pattern.compile("(?im)^[ \\t]*FROM[ \\t]+(\\S.*?)[ \\t\\r]*$");

  private final Set<String> allowedRegistries;
  private final boolean allowCloudModels;

  public Authorizer(GatehouseConfig.Policy policy) {
    this.allowedRegistries =
        policy.allowedRegistries().stream().map(r -> r.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    this.allowCloudModels = policy.allowCloudModels();
  }

  /** Refuses a route whose operation the key has no scope for. */
  public Rejection scope(Principal p, Route route) {
    if (!p.hasScope(route.operation().scope)) {
      return Rejection.of(
          Problem.ENDPOINT_DENIED,
          "this key may not use " + route.operation().scope + " endpoints (scope " + route.operation().scope + " required)");
    }
    return null;
  }

  /**
   * Checks every model the request names: the body's model fields, a {@code FROM} line of an
   * inline Modelfile, or the path's model id.
   *
   * @param json the parsed body, or null when the route has none
   * @param pathParam the decoded last path segment of a parameterised route, or null
   * @param formModel the {@code model} part of a multipart body, or null
   */
  public Rejection models(Principal p, Route route, JsonNode json, String pathParam, String formModel) {
    List<String> names = new ArrayList<>(2);
    if (json != null) {
      for (String field : route.modelFields()) {
        JsonNode v = JsonFields.get(json, field);
        if (v == null || v.isNull()) {
          continue;
        }
        if (!v.isTextual()) {
          return Rejection.of(Problem.BODY_INVALID_JSON, "field " + field + " must be a string");
        }
        if (!v.asText().isBlank()) {
          names.add(v.asText());
        }
      }
      JsonNode modelfile = JsonFields.get(json, "modelfile");
      if (route.operation() == Operation.MODELS_MANAGE && modelfile != null && modelfile.isTextual()) {
        Matcher from = MODELFILE_FROM.matcher(modelfile.asText());
        while (from.find()) {
          names.add(from.group(1).trim());
        }
      }
    }
    if (route.pathModel() && pathParam != null) {
      names.add(pathParam);
    }
    if (formModel != null && !formModel.isBlank()) {
      names.add(formModel);
    }
    boolean restricted = !p.models().allowsAll();
    if (names.isEmpty()) {
      boolean compute = route.operation() == Operation.INFERENCE || route.operation() == Operation.EMBEDDINGS;
      return restricted && compute ? Rejection.of(Problem.MODEL_MISSING) : null;
    }
    for (String name : names) {
      if (!allowCloudModels && ModelNames.isCloud(name)) {
        return Rejection.of(
            Problem.CLOUD_MODEL_DENIED,
            "model " + name + " would run on ollama.com under the server owner's account; cloud models are not allowed (policy.allow_cloud_models)");
      }
      if (route.operation() == Operation.MODELS_MANAGE) {
        String registry = ModelNames.registry(name);
        if (registry != null && !allowedRegistries.contains(registry)) {
          return Rejection.of(
              Problem.REGISTRY_DENIED,
              "registry " + registry + " is not allowed (policy.allowed_registries)");
        }
      }
      if (restricted && !p.models().allows(name)) {
        return Rejection.of(Problem.MODEL_DENIED, "this key may not use model " + name);
      }
    }
    return null;
  }
}

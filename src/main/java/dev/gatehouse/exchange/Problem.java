package dev.gatehouse.exchange;

/**
 * Every way Gatehouse refuses or fails a request, with its HTTP status and stable code.
 *
 * <p>Codes are part of the API: clients and alert rules match on them, so they never change
 * meaning. Authorization failures are 403, never 400. Every credential failure (missing, unknown,
 * expired, revoked) shares one 401 so that a scanner learns nothing from the difference; the finer
 * reason goes to the log only.
 */
public enum Problem {
  BODY_TIMEOUT(
      408,
      "request.body_timeout",
      "invalid_request_error",
      "the request body did not arrive in time"),
  HEAD_TIMEOUT(
      408,
      "request.head_timeout",
      "invalid_request_error",
      "the request head did not arrive in time"),
  FRAMING_INVALID(
      400, "request.framing_invalid", "invalid_request_error", "malformed request framing"),
  HOST_INVALID(
      400,
      "request.host_invalid",
      "invalid_request_error",
      "missing, repeated or malformed Host header"),
  TARGET_MALFORMED(
      400, "request.target_malformed", "invalid_request_error", "malformed request target"),
  TARGET_TOO_LONG(414, "request.target_too_long", "invalid_request_error", "request line too long"),
  VERSION_UNSUPPORTED(
      505,
      "request.version_unsupported",
      "invalid_request_error",
      "HTTP version not supported: use HTTP/1.1"),
  HEADERS_TOO_MANY(
      431, "request.headers_too_large", "invalid_request_error", "too many request headers"),
  LENGTH_REQUIRED(
      411,
      "request.length_required",
      "invalid_request_error",
      "uploads need a Content-Length header"),
  BODY_TOO_LARGE(413, "request.body_too_large", "invalid_request_error", "request body too large"),
  BODY_INVALID_JSON(
      400, "request.invalid_json", "invalid_request_error", "request body must be a JSON object"),
  BODY_INVALID_MULTIPART(
      400,
      "request.invalid_multipart",
      "invalid_request_error",
      "request body must be multipart/form-data"),
  MODEL_MISSING(
      400,
      "request.model_missing",
      "invalid_request_error",
      "this key may use only some models, and the request names none"),
  MODEL_INVALID(
      400,
      "request.model_invalid",
      "invalid_request_error",
      "the model name is not a valid model name"),
  QUERY_DENIED(
      400,
      "request.query_denied",
      "invalid_request_error",
      "this endpoint does not take that query parameter"),
  TOOL_DENIED(
      403,
      "policy.tool_denied",
      "permission_error",
      "tools that call out to other services need the cloud scope"),
  KEY_INVALID(401, "auth.key_invalid", "invalid_request_error", "missing or invalid API key"),
  ENDPOINT_UNKNOWN(404, "policy.endpoint_unknown", "invalid_request_error", "unknown endpoint"),
  METHOD_NOT_ALLOWED(
      405,
      "policy.method_not_allowed",
      "invalid_request_error",
      "method not allowed on this endpoint"),
  ENDPOINT_DENIED(
      403, "policy.endpoint_denied", "permission_error", "this key may not use this endpoint"),
  MODEL_DENIED(403, "policy.model_denied", "permission_error", "this key may not use this model"),
  REGISTRY_DENIED(
      403, "policy.registry_denied", "permission_error", "this registry is not allowed"),
  CLOUD_MODEL_DENIED(
      403, "policy.cloud_model_denied", "permission_error", "cloud models are not allowed"),
  RATE_LIMITED(429, "limit.rate", "rate_limit_error", "too many requests; retry later"),
  BUDGET_EXHAUSTED(
      429,
      "limit.token_budget",
      "rate_limit_error",
      "this key's token budget is spent; retry later"),
  KEY_CONCURRENCY(
      429, "limit.key_concurrency", "rate_limit_error", "this key has too many requests in flight"),
  GATEWAY_BUSY(
      503, "limit.gateway_busy", "server_error", "the gateway is at capacity; retry later"),
  CAP_EXCEEDED(
      400,
      "limit.cap_exceeded",
      "invalid_request_error",
      "the request asks for more than this gateway allows"),
  LIMITER_UNAVAILABLE(503, "limit.unavailable", "server_error", "rate limiter unavailable"),
  /**
   * The shared limits (Redis, {@code limits.kind: redis}) did not answer within {@code
   * redis.timeout}: refused, never decided on this gateway's own counts.
   */
  LIMITS_UNAVAILABLE(
      503, "limits.unavailable", "server_error", "the shared limits are unavailable; retry later"),
  MODEL_PIN_MISMATCH(
      403,
      "policy.model_pin_mismatch",
      "permission_error",
      "this model's digest does not match its pin"),
  MODEL_PIN_UNVERIFIED(
      403,
      "policy.model_pin_unverified",
      "permission_error",
      "this model is pinned but the model server does not list it"),
  PIN_CHECK_UNAVAILABLE(
      503, "policy.pin_check_unavailable", "server_error", "cannot verify the model's digest now"),
  ADDRESS_DENIED(403, "network.address_denied", "permission_error", "access denied"),
  HOST_DENIED(403, "network.host_denied", "permission_error", "this host name is not served here"),
  CLIENT_BANNED(403, "network.client_banned", "permission_error", "access denied"),
  KEY_ADDRESS_DENIED(
      403,
      "network.key_address_denied",
      "permission_error",
      "this key may not be used from this address"),
  /**
   * With several upstreams: no upstream this gateway routes to has the model (as Ollama itself
   * answers 404 for a model it lacks); no upstream was contacted.
   */
  MODEL_NOT_FOUND(404, "upstream.model_not_found", "invalid_request_error", "model not found"),
  UPSTREAM_UNAVAILABLE(
      502, "upstream.unavailable", "server_error", "the model server is unavailable"),
  UPSTREAM_TIMEOUT(
      504, "upstream.timeout", "server_error", "the model server did not answer in time"),
  UPSTREAM_FAILED(502, "upstream.failed", "server_error", "the model server failed mid-response"),
  RESPONSE_TOO_LARGE(
      502,
      "upstream.response_too_large",
      "server_error",
      "the model server's response was too large to filter"),
  STORE_UNAVAILABLE(503, "store.unavailable", "server_error", "key store unavailable"),
  /**
   * A JWT that may be valid names a key Gatehouse does not have, and the provider's key set cannot
   * be fetched: refused, never let through unchecked.
   */
  JWKS_UNAVAILABLE(
      503,
      "auth.jwks_unavailable",
      "server_error",
      "the identity provider's keys cannot be fetched now; retry later"),
  AUDIT_UNAVAILABLE(
      503, "audit.unavailable", "server_error", "the audit log cannot be written now; retry later"),
  GUARD_PROMPT_INJECTION(
      403,
      "guard.prompt_injection",
      "permission_error",
      "the prompt guard refused this request as a likely prompt injection or jailbreak"),
  GUARD_TEMPLATE_TOKENS(
      403,
      "guard.template_tokens",
      "permission_error",
      "the request carries chat-template control tokens in user content"),
  GUARD_UNAVAILABLE(
      503, "guard.unavailable", "server_error", "the prompt guard cannot inspect this request now"),
  GUARD_SECRET(
      403,
      "guard.secret",
      "permission_error",
      "the request carries a secret or personal data that this gateway does not forward"),
  INTERNAL(500, "internal.error", "server_error", "internal error");

  public final int status;
  public final String code;

  /** The OpenAI error {@code type} this maps to. */
  public final String openAiType;

  public final String message;

  Problem(int status, String code, String openAiType, String message) {
    this.status = status;
    this.code = code;
    this.openAiType = openAiType;
    this.message = message;
  }
}

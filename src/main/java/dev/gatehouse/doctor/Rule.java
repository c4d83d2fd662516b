package dev.gatehouse.doctor;

import static dev.gatehouse.doctor.Severity.CRITICAL;
import static dev.gatehouse.doctor.Severity.HIGH;
import static dev.gatehouse.doctor.Severity.INFO;
import static dev.gatehouse.doctor.Severity.LOW;
import static dev.gatehouse.doctor.Severity.MEDIUM;

import dev.gatehouse.exchange.Operation;
import org.jspecify.annotations.Nullable;

/**
 * Every kind of finding Gatehouse reports, with its stable id. Ids never change meaning: alert
 * rules, SARIF baselines and suppressions match on them. Advisory findings are the one family whose
 * ids are made from data ({@code GH-ADVISORY-<advisory id>}); see {@link #ADVISORY_PREFIX}. {@code
 * docs/doctor.md} documents each one (kept complete by a test).
 */
public enum Rule {
  // A model server on this machine, or a scanned target.
  EXPOSED_WILDCARD(
      "GH-EXPOSED-WILDCARD",
      CRITICAL,
      "listens on every network interface, so other machines can reach it"),
  EXPOSED_LAN("GH-EXPOSED-LAN", CRITICAL, "listens on a network address other machines can reach"),
  UNAUTH_INFERENCE("GH-UNAUTH-INFERENCE", HIGH, "inference endpoints answer without credentials"),
  UNAUTH_EMBEDDINGS(
      "GH-UNAUTH-EMBEDDINGS", MEDIUM, "embedding endpoints answer without credentials"),
  UNAUTH_MODELS_READ("GH-UNAUTH-MODELS-READ", MEDIUM, "the model list answers without credentials"),
  UNAUTH_MODELS_INSPECT(
      "GH-UNAUTH-MODELS-INSPECT",
      HIGH,
      "model details and server internals answer without credentials"),
  UNAUTH_MODELS_MANAGE(
      "GH-UNAUTH-MODELS-MANAGE",
      CRITICAL,
      "model management (pull, push, create, copy, delete) answers without credentials"),
  UNAUTH_ACCOUNT(
      "GH-UNAUTH-ACCOUNT", HIGH, "the server owner's account endpoints answer without credentials"),
  UNAUTH_CLOUD(
      "GH-UNAUTH-CLOUD",
      HIGH,
      "cloud features that run under the owner's account answer without credentials"),
  VERSION_UNKNOWN(
      "GH-VERSION-UNKNOWN",
      INFO,
      "the server's version could not be read or compared, so advisories with a fixed release were not checked"),
  ADVISORIES_STALE(
      "GH-ADVISORIES-STALE",
      LOW,
      "the advisory data is more than 90 days old: advisories published since are not checked"),
  CORS_WILDCARD(
      "GH-CORS-WILDCARD",
      HIGH,
      "any web page may call the API from a visitor's browser (CORS wildcard)"),
  NO_GATEWAY(
      "GH-NO-GATEWAY",
      LOW,
      "no Gatehouse in front: every local process and user can use and manage it"),
  GATEWAY_BYPASS(
      "GH-GATEWAY-BYPASS", CRITICAL, "Gatehouse's upstream can be reached around Gatehouse"),
  GATEWAY_NOT_RUNNING(
      "GH-GATEWAY-NOT-RUNNING",
      MEDIUM,
      "Gatehouse is configured in front of this server but is not running"),
  OLLAMA_HOST_EXPOSED(
      "GH-OLLAMA-HOST-EXPOSED",
      HIGH,
      "OLLAMA_HOST makes Ollama listen where other machines can reach it"),

  // Gatehouse's own configuration and keys.
  CONFIG_INVALID(
      "GH-CONFIG-INVALID",
      HIGH,
      "Gatehouse's configuration is invalid; the gateway will not start with it"),
  CONFIG_PROFILE_GAP(
      "GH-CONFIG-PROFILE-GAP",
      HIGH,
      "the config says profile prod but falls short of it; the gateway will not start with it"),
  CONFIG_PLAIN_LISTENER(
      "GH-CONFIG-PLAIN-LISTENER",
      MEDIUM,
      "a plain-HTTP listener on a network address: clients that use it send their key in clear text"),
  CONFIG_ADMIN_REMOTE(
      "GH-CONFIG-ADMIN-REMOTE",
      MEDIUM,
      "the admin listener is on a network address: its login and admin API (key management, traffic, metrics) face the network, over plain HTTP"),
  CONFIG_AUTH_DISABLED(
      "GH-CONFIG-AUTH-DISABLED",
      MEDIUM,
      "authentication is off: every local process can use the model server through Gatehouse"),
  CONFIG_UPSTREAM_PLAINTEXT(
      "GH-CONFIG-UPSTREAM-PLAINTEXT",
      MEDIUM,
      "the upstream is another machine reached over plain HTTP: prompts and answers cross the network in clear text"),
  KEYSTORE_UNREADABLE(
      "GH-KEYSTORE-UNREADABLE",
      MEDIUM,
      "the key store could not be read, so keys were not audited"),
  KEY_NO_EXPIRY("GH-KEY-NO-EXPIRY", LOW, "an active key never expires"),
  KEY_NO_MODEL_LIMIT("GH-KEY-NO-MODEL-LIMIT", LOW, "an active key may use every model"),
  KEY_RISKY_SCOPE(
      "GH-KEY-RISKY-SCOPE",
      MEDIUM,
      "an active key holds a scope beyond inference, embeddings and models.read"),

  // Client identity: JWTs from an identity provider (jwt.*).
  JWT_ISSUER_PLAINTEXT(
      "GH-JWT-ISSUER-PLAINTEXT",
      HIGH,
      "the JWT issuer or its key set is on plain HTTP: whoever is on the path can swap the keys and sign any token"),
  JWT_NO_AUDIENCE(
      "GH-JWT-NO-AUDIENCE",
      MEDIUM,
      "JWTs are accepted for any audience: tokens the provider issued to other applications work here"),
  JWT_HMAC_ALGORITHM(
      "GH-JWT-HMAC-ALGORITHM",
      CRITICAL,
      "the JWT algorithm list admits HMAC beside RSA or EC keys: a token signed with the public key as the secret would pass"),
  JWT_CLOCK_SKEW(
      "GH-JWT-CLOCK-SKEW",
      MEDIUM,
      "the JWT clock skew is over 5 minutes: expired tokens keep working that much longer"),

  // TLS, from the config (doctor) or the wire (scan).
  TLS_NONE(
      "GH-TLS-NONE",
      HIGH,
      "served over plain HTTP to the network: keys and prompts cross it in clear text"),
  TLS_HANDSHAKE_FAILED("GH-TLS-HANDSHAKE-FAILED", HIGH, "the TLS handshake failed"),
  TLS_OLD_PROTOCOL("GH-TLS-OLD-PROTOCOL", HIGH, "TLS older than 1.2 was negotiated"),
  TLS_CERT_UNREADABLE("GH-TLS-CERT-UNREADABLE", HIGH, "the configured certificate cannot be read"),
  TLS_CERT_EXPIRED("GH-TLS-CERT-EXPIRED", HIGH, "the certificate has expired or is not yet valid"),
  TLS_CERT_EXPIRING("GH-TLS-CERT-EXPIRING", MEDIUM, "the certificate expires within 14 days"),
  TLS_CERT_HOSTNAME(
      "GH-TLS-CERT-HOSTNAME", HIGH, "the certificate does not name the host that was scanned"),
  TLS_CERT_SELF_SIGNED(
      "GH-TLS-CERT-SELF-SIGNED", LOW, "the certificate is self-signed: clients must pin it"),
  TLS_CERT_UNTRUSTED(
      "GH-TLS-CERT-UNTRUSTED",
      MEDIUM,
      "the certificate chain is not trusted by the Java trust store"),
  TLS_CLIENT_CA_PUBLIC(
      "GH-TLS-CLIENT-CA-PUBLIC",
      HIGH,
      "the client CA bundle (tls.client_ca) holds a public web root or a CA it signed: certificates anyone can buy pass the mTLS handshake"),

  // What a scan sees from outside.
  SCAN_UNREACHABLE(
      "GH-SCAN-UNREACHABLE", INFO, "the target could not be reached, so it was not scanned"),
  LEAK_BANNER(
      "GH-LEAK-BANNER", MEDIUM, "a product banner tells every scanner which server this is"),
  LEAK_SERVER_HEADER("GH-LEAK-SERVER-HEADER", LOW, "a response header names the server software"),
  LEAK_VERSION(
      "GH-LEAK-VERSION",
      MEDIUM,
      "the server's version answers without credentials: it tells an attacker which exploit to use"),
  LEAK_ERROR_QUIRK(
      "GH-LEAK-ERROR-QUIRK",
      LOW,
      "error responses have a shape that identifies the server software"),
  NO_RATE_LIMIT("GH-NO-RATE-LIMIT", LOW, "no rate limit answered a burst of requests"),

  // The model store.
  MODEL_BLOB_CORRUPT(
      "GH-MODEL-BLOB-CORRUPT", HIGH, "a model blob's content does not match its SHA-256 name"),
  MODEL_BLOB_MISSING(
      "GH-MODEL-BLOB-MISSING", HIGH, "a manifest references a blob that is not in the store"),
  MODEL_BLOB_ORPHAN("GH-MODEL-BLOB-ORPHAN", LOW, "a blob no manifest references"),
  MODEL_MANIFEST_INVALID(
      "GH-MODEL-MANIFEST-INVALID", HIGH, "a manifest cannot be read as an image manifest"),
  MODEL_REGISTRY_UNLISTED(
      "GH-MODEL-REGISTRY-UNLISTED", MEDIUM, "a model comes from a registry that is not allowed");

  /** Advisory findings are {@code GH-ADVISORY-} followed by the advisory's own id. */
  public static final String ADVISORY_PREFIX = "GH-ADVISORY-";

  private final String id;
  private final Severity usual;
  private final String title;

  Rule(String id, Severity usual, String title) {
    this.id = id;
    this.usual = usual;
    this.title = title;
  }

  public String id() {
    return id;
  }

  /** The severity this finding usually has; some are raised or lowered by context (see docs). */
  public Severity usual() {
    return usual;
  }

  public String title() {
    return title;
  }

  /** The rule with this id, or null (advisory ids are not in this table). */
  public static @Nullable Rule byId(String id) {
    for (Rule r : values()) {
      if (r.id.equals(id)) {
        return r;
      }
    }
    return null;
  }

  /** The finding for an endpoint class that answers without credentials. */
  public static Rule unauth(Operation op) {
    return switch (op) {
      case INFERENCE -> UNAUTH_INFERENCE;
      case EMBEDDINGS -> UNAUTH_EMBEDDINGS;
      case MODELS_READ -> UNAUTH_MODELS_READ;
      case MODELS_INSPECT -> UNAUTH_MODELS_INSPECT;
      case MODELS_MANAGE -> UNAUTH_MODELS_MANAGE;
      case ACCOUNT -> UNAUTH_ACCOUNT;
      case CLOUD -> UNAUTH_CLOUD;
    };
  }
}

package dev.gatehouse.keys;

import dev.gatehouse.config.Cidr;
import dev.gatehouse.exchange.Operation;
import dev.gatehouse.identify.ApiKeys;
import dev.gatehouse.store.KeyLimits;
import dev.gatehouse.store.KeyRecord;
import dev.gatehouse.store.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Key management for the control plane (CLI now, admin API later): create, list, revoke, rotate.
 * Changes land in the {@link KeyStore}, where a running gateway picks them up on its next request.
 */
public final class KeyService {

  private final KeyStore store;
  private final ApiKeys keys;
  private final Clock clock;

  public KeyService(KeyStore store, ApiKeys keys, Clock clock) {
    this.store = store;
    this.keys = keys;
    this.clock = clock;
  }

  /** A new key: the stored record and the secret, which exists nowhere else after this. */
  public record Created(KeyRecord record, String key) {}

  /**
   * Creates a key.
   *
   * @param expiresIn lifetime, or null for none
   * @param models model globs; empty allows every model
   * @param scopes scope names; empty means the ordinary scopes
   * @throws IllegalArgumentException with a {@code what: value (expected: ...)} message
   */
  public Created create(
      String name, @Nullable Duration expiresIn, List<String> models, List<String> scopes) {
    return create(name, expiresIn, models, scopes, KeyLimits.NONE, List.of());
  }

  /** Creates a key with its own limits (null fields use the global settings). */
  public Created create(
      String name, Duration expiresIn, List<String> models, List<String> scopes, KeyLimits limits) {
    return create(name, expiresIn, models, scopes, limits, List.of());
  }

  /** Creates a key usable only from the given address ranges. */
  public Created create(
      String name,
      Duration expiresIn,
      List<String> models,
      List<String> scopes,
      List<String> networks) {
    return create(name, expiresIn, models, scopes, KeyLimits.NONE, networks);
  }

  /**
   * Creates a key with its own limits, usable only from the given address ranges.
   *
   * @param limits the key's own limits (null fields use the global settings)
   * @param networks CIDR ranges or addresses; empty allows any address
   */
  public Created create(
      String name,
      @Nullable Duration expiresIn,
      List<String> models,
      List<String> scopes,
      KeyLimits limits,
      List<String> networks) {
    return create(name, expiresIn, models, scopes, limits, networks, null);
  }

  /**
   * As above, with the prompt guard's mode for this key.
   *
   * @param guard off, log or block; null uses guard.mode
   */
  public Created create(
      String name,
      @Nullable Duration expiresIn,
      @Nullable List<String> models,
      @Nullable List<String> scopes,
      KeyLimits limits,
      @Nullable List<String> networks,
      @Nullable String guard) {
    if (guard != null && !List.of("off", "log", "block").contains(guard)) {
      throw new IllegalArgumentException("--guard: " + guard + " (expected: off, log or block)");
    }
    validateName(name);
    List<String> scopeList = scopes(scopes);
    List<String> modelList = models(models);
    List<String> networkList = networks(networks);
    Instant now = clock.instant();
    ApiKeys.NewKey k = keys.generate();
    KeyRecord r =
        new KeyRecord(
            k.id(),
            name,
            k.hash(),
            scopeList,
            modelList,
            now,
            expiresIn == null ? null : now.plus(expiresIn),
            null,
            null,
            validate(limits),
            networkList,
            guard);
    store.insert(r);
    return new Created(r, k.key());
  }

  public List<KeyRecord> list() {
    return store.list();
  }

  public Optional<KeyRecord> find(String id) {
    return store.find(id);
  }

  /** Revokes a key at once; false when there is no such active key. */
  public boolean revoke(String id) {
    return store.revoke(id, clock.instant());
  }

  /**
   * Replaces a key with a new one of the same name, scopes, models and networks. The old key keeps
   * working for {@code grace} (zero: it stops now), so clients can be switched over without an
   * outage.
   */
  public Created rotate(String id, @Nullable Duration grace) {
    KeyRecord old =
        store
            .find(id)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "key: " + id + " (expected: the id of an existing key; see keys list)"));
    Instant now = clock.instant();
    if (!old.activeAt(now)) {
      throw new IllegalArgumentException(
          "key: " + id + " (expected: an active key; it is " + old.status(now) + ")");
    }
    ApiKeys.NewKey k = keys.generate();
    // The replacement inherits the old key's expiry: rotation never extends a key's life.
    KeyRecord replacement =
        new KeyRecord(
            k.id(),
            old.name(),
            k.hash(),
            old.scopes(),
            old.models(),
            now,
            old.expiresAt(),
            null,
            null,
            old.limits(),
            old.networks(),
            old.guard());
    store.rotate(id, replacement, now.plus(grace == null ? Duration.ZERO : grace));
    return new Created(replacement, k.key());
  }

  private static KeyLimits validate(KeyLimits l) {
    if (l == null) {
      return KeyLimits.NONE;
    }
    positive("--rpm", l.rpm());
    positive("--burst", l.burst());
    positive("--tpm", l.tokensPerMinute());
    positive("--tpd", l.tokensPerDay());
    positive("--concurrency", l.concurrency());
    positive("--max-output-tokens", l.maxOutputTokens());
    return l;
  }

  private static void positive(String option, @Nullable Number n) {
    if (n != null && n.longValue() <= 0) {
      throw new IllegalArgumentException(
          option + ": " + n + " (expected: a whole number above zero)");
    }
  }

  private static void validateName(String name) {
    if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}")) {
      throw new IllegalArgumentException(
          "--name: "
              + name
              + " (expected: 1-64 letters, digits, spaces or . _ @ -, starting with a letter or digit)");
    }
  }

  private static List<String> scopes(@Nullable List<String> given) {
    if (given == null || given.isEmpty()) {
      return Operation.DEFAULT_SCOPES.stream().map(o -> o.scope).toList();
    }
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (String s : given) {
      for (String part : s.split(",")) {
        String p = part.trim();
        if (p.isEmpty()) {
          continue;
        }
        if (Operation.byScope(p) == null) {
          throw new IllegalArgumentException(
              "--scopes: " + p + " (expected: one of " + Operation.allScopes() + ")");
        }
        out.add(p);
      }
    }
    return List.copyOf(out);
  }

  /** Canonical CIDR forms of the given ranges, each checked; none means any address. */
  private static List<String> networks(@Nullable List<String> given) {
    LinkedHashSet<String> out = new LinkedHashSet<>();
    if (given == null) {
      return List.of();
    }
    for (String g : given) {
      for (String part : g.split(",")) {
        String p = part.trim();
        if (p.isEmpty()) {
          continue;
        }
        Cidr c = Cidr.parse(p);
        if (c == null) {
          throw new IllegalArgumentException(
              "--allow-cidr: "
                  + p
                  + " (expected: an IP address or CIDR range such as 192.168.1.0/24 or 2001:db8::/48)");
        }
        out.add(c.toString());
      }
    }
    return List.copyOf(out);
  }

  private static List<String> models(@Nullable List<String> given) {
    List<String> out = new ArrayList<>();
    if (given == null) {
      return out;
    }
    for (String g : given) {
      for (String part : g.split(",")) {
        String p = part.trim();
        if (p.isEmpty()) {
          continue;
        }
        if (!p.matches("[A-Za-z0-9*?._:/@+-]{1,200}")) {
          throw new IllegalArgumentException(
              "--models: " + p + " (expected: a model name or glob such as llama3* or qwen2.5:7b)");
        }
        if (p.equals("*")) {
          return List.of(); // "*" is the same as no restriction
        }
        out.add(p);
      }
    }
    return List.copyOf(out);
  }
}

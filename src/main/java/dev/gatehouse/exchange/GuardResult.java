package dev.gatehouse.exchange;

import org.jspecify.annotations.Nullable;

/**
 * What the prompt guard recorded about one request, for its audit record.
 *
 * @param verdict pass, flag, block, or error; null when the guard did not inspect the request
 * @param score the guard's score, 0 to 1
 * @param families the rule families that fired, comma-separated, or null
 * @param secrets the secrets found, as kind:count pairs, comma-separated, or null
 */
public record GuardResult(
    @Nullable String verdict, double score, @Nullable String families, @Nullable String secrets) {

  /** Nothing inspected, nothing found. */
  public static final GuardResult NONE = new GuardResult(null, 0, null, null);
}

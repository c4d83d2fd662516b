package dev.gatehouse.gateway;

import java.util.List;

/**
 * What a config reload did.
 *
 * @param applied true when the new file was valid and is now in force for new requests
 * @param changed the settings whose value changed and now apply (dotted names, sorted)
 * @param restartRequired settings that changed but apply only after a restart (kept at their
 *     running value until then)
 * @param errors the validation problems when the file was refused (then nothing changed), one line
 *     each, as {@code gatehouse serve} prints them
 */
public record ReloadOutcome(
    boolean applied, List<String> changed, List<String> restartRequired, List<String> errors) {

  public ReloadOutcome {
    changed = List.copyOf(changed);
    restartRequired = List.copyOf(restartRequired);
    errors = List.copyOf(errors);
  }

  /** A refused reload: the file failed validation and the running config stays. */
  public static ReloadOutcome refused(List<String> errors) {
    return new ReloadOutcome(false, List.of(), List.of(), errors);
  }
}

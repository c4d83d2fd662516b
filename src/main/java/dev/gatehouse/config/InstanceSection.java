package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.Instance;
import java.util.regex.Pattern;

/**
 * The {@code instance.id} setting: the name of this gateway's audit chain in a store that several
 * gateways share (see docs/audit.md). Empty means a random id generated once and kept in {@code
 * <data_dir>/instance-id} (by {@code store/InstanceId}, at start, not here: loading a config writes
 * nothing).
 */
final class InstanceSection {

  /**
   * What an instance id may be: short, and of characters that need no quoting in a log line, a
   * report or a shell.
   */
  static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private InstanceSection() {}

  static Instance instance(SettingValues v, Problems p) {
    String id = v.string("instance.id").strip();
    if (id.isEmpty()) {
      return new Instance(null);
    }
    if (!ID.matcher(id).matches()) {
      p.add(
          "instance.id",
          "instance.id: "
              + id
              + " (expected: 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-', or empty for a"
              + " generated id)");
    }
    return new Instance(id);
  }
}

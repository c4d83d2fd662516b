package dev.gatehouse.config;

/**
 * A check a feature makes of the loaded configuration, for a setting whose syntax the feature
 * itself parses (alert rules, manage hours, the model lock file). The configuration package cannot
 * read those without depending on the feature; so the composition root hands the loader one list of
 * these, and every caller (serve, each command, the tests) passes that same list.
 */
@FunctionalInterface
public interface ConfigCheck {

  /**
   * Adds to {@code problems} what is wrong with {@code config}; runs after every section built
   * itself.
   */
  void check(GatehouseConfig config, Problems problems);
}

package dev.gatehouse.config;

/**
 * One documented configuration setting: its dotted path, its kind, its default and why.
 *
 * <p>The list in {@link Settings} is the schema: the loader accepts exactly these paths, the
 * environment overrides are derived from them, and a test checks that {@code docs/configuration.md}
 * documents each one with its default.
 */
public record Setting(String path, Kind kind, String defaultValue, String env, String doc) {

  /** The value shapes a setting can take; each knows how to say what it expected. */
  public enum Kind {
    STRING("a string"),
    HOST_PORT("HOST:PORT with a port of 0-65535"),
    HOST_PORT_OR_EMPTY("HOST:PORT with a port of 0-65535, or empty for none"),
    URL("an http:// or https:// URL with a host and no path, query or user info"),
    PATH("a file path, or empty for none"),
    BOOLEAN("true or false"),
    INTEGER("a whole number"),
    DURATION("a duration such as 500ms, 10s, 5m, 2h or 30d"),
    SIZE("a size such as 512KiB, 16MiB or 1GiB"),
    DURATION_OR_OFF("a duration such as 12h or 90d, or 0 or empty for off"),
    SIZE_OR_OFF("a size such as 512MiB or 1GiB, or 0 or empty for off"),
    STRING_LIST("a list of strings"),
    MAPPING_LIST("a list of mappings");

    public final String expected;

    Kind(String expected) {
      this.expected = expected;
    }
  }

  /** The environment variable that overrides this setting: {@code GATEHOUSE_} plus the path. */
  static String envName(String path) {
    return "GATEHOUSE_" + path.replace('.', '_').toUpperCase(java.util.Locale.ROOT);
  }
}

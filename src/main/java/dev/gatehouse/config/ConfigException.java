package dev.gatehouse.config;

import java.util.List;

/** Every problem found while loading configuration, reported together (all or nothing). */
public final class ConfigException extends Exception {

  private final String source;
  private final List<String> problems;

  public ConfigException(String source, List<String> problems) {
    super(source + ": " + String.join("; ", problems));
    this.source = source;
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }

  /** The report printed to stderr: a header line, then one indented line per problem. */
  public String report() {
    StringBuilder b = new StringBuilder();
    b.append("gatehouse: invalid configuration (")
        .append(source)
        .append("), ")
        .append(problems.size())
        .append(problems.size() == 1 ? " problem" : " problems")
        .append(":\n");
    for (String p : problems) {
      b.append("  ").append(p.replace("\n", "\n    ")).append('\n');
    }
    return b.toString();
  }
}

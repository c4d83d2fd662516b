package dev.gatehouse.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs the CLI in-process with a given environment and captures what it prints. */
record CliRun(int code, String out, String err, List<AutoCloseable> servers) {

  static CliRun run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<AutoCloseable> servers = new ArrayList<>();
    int code = Main.run(args, env, new PrintWriter(out), new PrintWriter(err), servers::add);
    return new CliRun(code, out.toString(), err.toString(), servers);
  }

  /** The last non-empty line printed on stdout. */
  String lastLine() {
    String[] lines = out.strip().split("\n");
    return lines[lines.length - 1];
  }
}

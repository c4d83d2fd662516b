package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.guard.Dataset;
import dev.gatehouse.guard.Detector;
import dev.gatehouse.guard.Evaluation;
import dev.gatehouse.guard.Family;
import dev.gatehouse.guard.Model;
import dev.gatehouse.guard.PromptText;
import dev.gatehouse.guard.Verdict;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gatehouse guard}: measure the prompt guard on a labelled set, or check one prompt. */
@Command(
    name = "guard",
    mixinStandardHelpOptions = true,
    description =
        "The prompt guard: measure it on a labelled set (eval) or check one prompt (check).",
    subcommands = {GuardCommand.Eval.class, GuardCommand.Check.class})
final class GuardCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  private static Detector detector(@Nullable Path model) throws IOException {
    if (model == null) {
      return Detector.shipped();
    }
    try (InputStream in = Files.newInputStream(model)) {
      return new Detector(Model.read(in));
    }
  }

  /** {@code gatehouse guard eval FILE.jsonl [--json]}. */
  @Command(
      name = "eval",
      mixinStandardHelpOptions = true,
      description =
          "Detection rate on attack rows and false-positive rate on benign rows, overall and per source (other rows apart, in neither rate), and latency per request.")
  static final class Eval implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(
        index = "0",
        paramLabel = "FILE.jsonl",
        description = "Rows with label (attack, benign, other), source and messages.")
    Path file;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Option(
        names = "--model",
        paramLabel = "FILE",
        description = "A model file to use instead of the shipped one.")
    @Nullable Path model;

    @Option(
        names = "--warmup",
        paramLabel = "N",
        defaultValue = "" + Evaluation.DEFAULT_WARMUP,
        description =
            "Unmeasured passes over the file before the measured one, so latency is that of a warm JIT (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Override
    public Integer call() throws IOException {
      if (warmup < 0) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--warmup must be 0 or more, not " + warmup);
      }
      Evaluation e =
          Evaluation.run(detector(model), Dataset.read(file), PromptText.DEFAULT_MAX_CHARS, warmup);
      var out = spec.commandLine().getOut();
      if (json) {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        out.println(m.writeValueAsString(e.toJson(m)));
      } else {
        out.print(e.toText());
      }
      return 0;
    }
  }

  /** {@code gatehouse guard check}: one prompt from stdin. */
  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description =
          "Read one prompt from standard input and print the verdict, the score and the rule families that fired. Exit status 0: pass, 3: flagged.")
  static final class Check implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Option(
        names = "--model",
        paramLabel = "FILE",
        description = "A model file to use instead of the shipped one.")
    @Nullable Path model;

    @Override
    public Integer call() throws IOException {
      String text = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
      Verdict v = detector(model).inspect(text);
      var out = spec.commandLine().getOut();
      if (json) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("verdict", v.flagged() ? "flag" : "pass");
        o.put("score", Math.round(v.score() * 1000) / 1000.0);
        var fam = o.putArray("families");
        for (Family f : Family.values()) {
          if (v.families().contains(f)) {
            fam.add(f.code);
          }
        }
        out.println(m.writeValueAsString(o));
      } else {
        out.printf(
            Locale.ROOT,
            "verdict: %s%nscore: %.3f%nfamilies: %s%n",
            v.flagged() ? "flag" : "pass",
            v.score(),
            v.families().isEmpty() ? "-" : v.familyCodes());
      }
      return v.flagged() ? 3 : 0;
    }
  }
}

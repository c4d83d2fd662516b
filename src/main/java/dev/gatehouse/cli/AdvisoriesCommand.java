package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.doctor.Advisories;
import dev.gatehouse.doctor.Advisory;
import dev.gatehouse.doctor.AdvisoryImport;
import dev.gatehouse.doctor.Cvss31;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code gatehouse advisories}: the advisory data doctor and scan use, and importing newer data
 * without the network.
 */
@Command(
    name = "advisories",
    mixinStandardHelpOptions = true,
    description = {
      "The advisory database doctor and scan match servers against: the entries built in, plus those imported.",
      "docs/advisories.md lists the built-in ones."
    },
    subcommands = {AdvisoriesCommand.Update.class, AdvisoriesCommand.ListAdvisories.class})
final class AdvisoriesCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Loads the configuration for its data directory; a bad one is exit 2. */
  static GatehouseConfig config(
      ConfigOptions options, Map<String, String> env, CommandLine.Model.CommandSpec spec) {
    try {
      return options.load(env, Map.of());
    } catch (ConfigException e) {
      throw new Main.UsageError("the configuration is invalid:\n" + e.report().strip());
    }
  }

  /** {@code advisories update --from FILE|DIR}. */
  @Command(
      name = "update",
      mixinStandardHelpOptions = true,
      description = {
        "Import an OSV export: an osv.dev ecosystem zip (such as PyPI/all.zip or Go/all.zip), a GHSA or Go vulndb JSON file,"
            + " or a folder of OSV files. Keeps the entries of Ollama, llama.cpp, vLLM, LocalAI and LM Studio, merged by id over"
            + " earlier imports (the newer 'modified' wins), and stores them in DATA_DIR/advisories/imported.json. Reads no network."
      })
  static final class Update implements Callable<Integer> {
    @Mixin ConfigOptions configOptions;

    @Option(
        names = "--from",
        required = true,
        paramLabel = "FILE|DIR",
        description = "The export to import.")
    Path from;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;

    Update(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public Integer call() throws Exception {
      GatehouseConfig config = config(configOptions, env, spec);
      AdvisoryImport.Result r;
      try {
        r = AdvisoryImport.run(from, config.dataDir());
        Advisories.forDataDir(config.dataDir()); // what doctor will read must read
      } catch (IllegalArgumentException e) {
        throw new Main.UsageError(e.getMessage());
      }
      PrintWriter out = spec.commandLine().getOut();
      out.println(
          "Read "
              + r.read()
              + " OSV entries from "
              + from
              + "; kept "
              + r.kept().values().stream().mapToInt(Integer::intValue).sum()
              + " for known products"
              + (r.kept().isEmpty() ? "" : " " + r.kept())
              + ".");
      out.println(
          "Added "
              + r.added().size()
              + ", replaced "
              + r.replaced().size()
              + " older, "
              + r.unchanged()
              + " unchanged; stored in "
              + r.file()
              + ".");
      if (!r.added().isEmpty()) {
        out.println(
            "New: "
                + String.join(", ", r.added().subList(0, Math.min(20, r.added().size())))
                + (r.added().size() > 20 ? " and " + (r.added().size() - 20) + " more" : ""));
      }
      return 0;
    }
  }

  /** {@code advisories list [--product P] [--json]}. */
  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List the advisories in force: built in, merged with the imported ones.")
  static final class ListAdvisories implements Callable<Integer> {
    private static final Set<String> PRODUCTS =
        Set.of("ollama", "llama.cpp", "vllm", "localai", "lmstudio");

    @Mixin ConfigOptions configOptions;

    @Option(
        names = "--product",
        paramLabel = "P",
        description = "Only this product: ollama, llama.cpp, vllm, localai or lmstudio.")
    @Nullable String product;

    @Option(names = "--json", description = "One JSON object per advisory, in an array.")
    boolean json;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;

    ListAdvisories(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public Integer call() throws Exception {
      if (product != null && !PRODUCTS.contains(product)) {
        throw new Main.UsageError(
            "--product: " + product + " (expected: ollama, llama.cpp, vllm, localai or lmstudio)");
      }
      GatehouseConfig config = config(configOptions, env, spec);
      Advisories db;
      try {
        db = Advisories.forDataDir(config.dataDir());
      } catch (IllegalArgumentException e) {
        throw new Main.UsageError(e.getMessage());
      }
      List<Advisory> list = new ArrayList<>();
      for (String p : List.of("ollama", "llama.cpp", "vllm", "localai", "lmstudio")) {
        if (product == null || product.equals(p)) {
          list.addAll(db.forProduct(p));
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Advisory a : list) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("id", a.id());
          m.put("aliases", a.aliases());
          m.put("product", a.product());
          m.put("severity", a.severity().label());
          m.put("cvss", a.cvss());
          m.put("cvss_score", a.cvss() == null ? null : Cvss31.baseScore(a.cvss()));
          m.put("affected", a.range());
          m.put("endpoints", a.endpoints());
          m.put("api_reachable", a.apiReachable());
          m.put("confidence", a.confidence());
          m.put("summary", a.summary());
          m.put("modified", a.modified().toString());
          m.put("origin", a.origin());
          rows.add(m);
        }
        out.println(
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows));
        return 0;
      }
      for (Advisory a : list) {
        out.println(
            a.id()
                + "  "
                + a.product()
                + "  "
                + a.severity().label()
                + (a.apiReachable() ? "" : " (informational: not the HTTP API)")
                + "  "
                + a.range()
                + "  "
                + a.summary());
      }
      out.println(
          list.size()
              + " advisories; newest entry modified "
              + db.newest().toString().substring(0, 10)
              + "; from "
              + db.source());
      return 0;
    }
  }
}

package dev.gatehouse.cli;

import dev.gatehouse.audit.AuditKey;
import dev.gatehouse.audit.AuditSegments;
import dev.gatehouse.audit.AuditVerifier;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.store.Stores;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code gatehouse audit}: the audit log's control plane (verify here; tail, query, summary in
 * AuditReadCommands).
 */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = "Audit log checks.",
    subcommands = {
      AuditCommand.Verify.class,
      AuditReadCommands.Tail.class,
      AuditReadCommands.Query.class,
      AuditReadCommands.Summary.class
    })
final class AuditCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code gatehouse audit verify}: checks the hash chain and the signed checkpoints. */
  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Check the audit log's hash chain and its HMAC-signed checkpoints, and name the first record that was "
            + "changed, deleted, inserted or reordered.",
        "Without options both copies are checked: the JSONL files (the sealed segments, then audit.jsonl) and the "
            + "database table. After retention pruned the oldest records, the log must start right after the newest "
            + "signed pruning anchor in the checkpoint file.",
        "A database that several gateways share holds one chain per instance (instance.id), each with its own "
            + "signed checkpoints: every chain is checked, one line each, naming its instance.",
        "Exit status: 0 intact, 1 tampered, 2 error."
      })
  static final class Verify implements Callable<Integer> {

    @Mixin ConfigOptions configOptions;

    @Option(
        names = "--jsonl",
        paramLabel = "FILE",
        description =
            "Check only this one JSONL file (audit.jsonl or a sealed segment) by itself: its chain, the "
                + "checkpoints within it, and its first record against a checkpoint or anchor just before it, if there is one. "
                + "Default: the whole log in data_dir.")
    @Nullable Path jsonl;

    @Option(names = "--db", description = "Check only the database copy.")
    boolean db;

    @Option(
        names = "--checkpoints",
        paramLabel = "FILE",
        description = "The checkpoint file (default: audit-checkpoints.jsonl beside the log).")
    @Nullable Path checkpoints;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;

    Verify(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      GatehouseConfig config;
      try {
        config = configOptions.load(env, Map.of());
      } catch (ConfigException e) {
        err.print(e.report());
        return 2;
      }
      if (jsonl != null && db) {
        err.println("--jsonl and --db: give one, or neither to check both");
        return 2;
      }
      try {
        Path keyFile = config.audit().hmacKeyFile();
        if (!Files.exists(keyFile)) {
          err.println("audit HMAC key not found: " + keyFile + " (audit.hmac_key_file)");
          return 2;
        }
        byte[] key = AuditKey.load(keyFile);
        Path file = jsonl != null ? jsonl : config.dataDir().resolve(AuditWriter.FILE);
        Path cps =
            checkpoints != null
                ? checkpoints
                : (file.toAbsolutePath().getParent() == null
                    ? Path.of(AuditWriter.CHECKPOINTS)
                    : file.toAbsolutePath().getParent().resolve(AuditWriter.CHECKPOINTS));
        boolean bad = false;
        if (jsonl != null) {
          if (!Files.exists(file)) {
            err.println("audit log not found: " + file);
            return 2;
          }
          AuditVerifier.Result r = AuditVerifier.verifyFile(file, cps, key);
          out.println(file + ": " + r.describe());
          bad = !r.ok();
        } else if (!db) {
          List<Path> files = AuditSegments.files(config.dataDir());
          if (files.isEmpty()) {
            err.println("audit log not found: " + file);
            return 2;
          }
          int sealed = files.size() - (Files.exists(file) ? 1 : 0);
          AuditVerifier.Result r = AuditVerifier.verifyLog(config.dataDir(), cps, key);
          out.println(
              file
                  + (sealed > 0 ? " and " + sealed + " sealed segments" : "")
                  + ": "
                  + r.describe());
          bad = !r.ok();
        }
        if (jsonl == null) {
          try (Stores stores =
              Stores.open(config.store(), config.instance().id(), config.dataDir())) {
            // One line per chain: a store that several gateways share keeps one per instance.
            for (AuditVerifier.Result r : AuditVerifier.verifyChains(stores.audit(), cps, key)) {
              out.println("database: " + r.describe());
              bad |= !r.ok();
            }
          }
        }
        return bad ? 1 : 0;
      } catch (IOException | RuntimeException e) {
        err.println("audit verify: " + e.getMessage());
        return 2;
      }
    }
  }
}

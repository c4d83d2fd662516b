package dev.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The command tree {@code Main} builds: only the named command for a command line that names one
 * (what keeps the other commands' set-up off {@code serve}'s start), and the same help either way.
 */
class MainTest {

  /** The tree with every command, as picocli built it before. */
  private static CommandLine fullTree() {
    CommandLine cl = new CommandLine(new Main(), new Main.Factory(Map.of(), r -> {}));
    Main.SUBCOMMANDS.forEach(cl::addSubcommand);
    return cl;
  }

  @Test
  void aFirstArgumentThatNamesACommandGetsThatCommandAlone() {
    assertThat(Main.subcommandsFor(new String[] {"serve", "--config", "x.yaml"}))
        .containsExactly(ServeCommand.class);
    assertThat(Main.subcommandsFor(new String[] {"keys", "list"}))
        .containsExactly(KeysCommand.class);
    assertThat(Main.subcommandsFor(new String[] {"bench-relay"}))
        .containsExactly(BenchRelayCommand.class);
  }

  @Test
  void anythingElseGetsEveryCommand() {
    // why: no arguments and --help print every command; --version needs none, but costs nothing
    assertThat(Main.subcommandsFor(new String[] {})).isEqualTo(Main.SUBCOMMANDS);
    assertThat(Main.subcommandsFor(new String[] {"--help"})).isEqualTo(Main.SUBCOMMANDS);
    // why: for a typo, picocli suggests the command meant, which it can only do knowing them all
    assertThat(Main.subcommandsFor(new String[] {"serv"})).isEqualTo(Main.SUBCOMMANDS);
  }

  @Test
  void theTopLevelHelpListsEveryVisibleCommandInOrder() {
    CliRun r = CliRun.run(Map.of(), "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).isEqualTo(fullTree().getUsageMessage());
    List<String> names =
        List.of(
            "serve",
            "keys",
            "usage",
            "bans",
            "tls",
            "doctor",
            "scan",
            "models",
            "audit",
            "advisories",
            "guard");
    int at = -1;
    for (String name : names) {
      int next = r.out().indexOf("\n  " + name + " ");
      assertThat(next).as(name).isGreaterThan(at);
      at = next;
    }
  }

  @Test
  void aCommandsHelpIsTheSameAsInTheFullTree() {
    CommandLine full = fullTree();
    for (String[] args :
        List.of(
            new String[] {"serve", "--help"},
            new String[] {"keys", "--help"},
            new String[] {"keys", "create", "--help"},
            new String[] {"doctor", "--help"})) {
      CommandLine sub = full.getSubcommands().get(args[0]);
      if (args.length == 3) {
        sub = sub.getSubcommands().get(args[1]);
      }
      CliRun r = CliRun.run(Map.of(), args);
      assertThat(r.code()).isZero();
      assertThat(r.out()).as(String.join(" ", args)).isEqualTo(sub.getUsageMessage());
    }
  }
}

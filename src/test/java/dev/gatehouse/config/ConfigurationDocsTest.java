package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code docs/configuration.md} true: its settings table must be exactly the one rendered
 * from {@link Settings#ALL}. Run with {@code -Dgatehouse.docs.write=true} to rewrite it.
 */
class ConfigurationDocsTest {

  private static final String BEGIN =
      "<!-- settings:begin (generated from Settings.java; see ConfigurationDocsTest) -->";
  private static final String END = "<!-- settings:end -->";

  static String table() {
    StringBuilder b = new StringBuilder();
    b.append("| Setting | Environment | Default | Meaning |\n|---|---|---|---|\n");
    for (Setting s : Settings.ALL) {
      String def = s.defaultValue().isEmpty() ? "(empty)" : "`" + s.defaultValue() + "`";
      b.append("| `")
          .append(s.path())
          .append("` | `")
          .append(s.env())
          .append("` | ")
          .append(def)
          .append(" | ")
          .append(s.doc())
          .append(" Form: ")
          .append(s.kind().expected)
          .append(". |\n");
    }
    return b.toString();
  }

  private static final String RELOAD_BEGIN =
      "<!-- reload:begin (generated from config/Reloading.java; see ConfigurationDocsTest) -->";
  private static final String RELOAD_END = "<!-- reload:end -->";

  /** The live and restart-only settings, from the one list the reload reads. */
  static String reloadLists() {
    StringBuilder b = new StringBuilder();
    b.append("Settings that apply live:\n\n");
    b.append(String.join(", ", Reloading.livePaths().stream().map(p -> "`" + p + "`").toList()));
    b.append(".\n\nSettings that need a restart:\n\n");
    b.append(String.join(", ", Reloading.restartPaths().stream().map(p -> "`" + p + "`").toList()));
    b.append(".\n");
    return b.toString();
  }

  @Test
  void docsListTheLiveAndRestartOnlySettings() throws Exception {
    Path docs = Path.of("docs/configuration.md");
    String text = Files.readString(docs);
    int begin = text.indexOf(RELOAD_BEGIN);
    int end = text.indexOf(RELOAD_END);
    assertThat(begin).as("docs/configuration.md has the reload markers").isGreaterThanOrEqualTo(0);
    String expected =
        text.substring(0, begin + RELOAD_BEGIN.length())
            + "\n"
            + reloadLists()
            + text.substring(end);
    if (Boolean.getBoolean("gatehouse.docs.write")) {
      Files.writeString(docs, expected);
    }
    assertThat(text).isEqualTo(expected);
  }

  @Test
  void docsListEverySettingWithItsDefault() throws Exception {
    Path docs = Path.of("docs/configuration.md");
    String text = Files.readString(docs);
    int begin = text.indexOf(BEGIN);
    int end = text.indexOf(END);
    assertThat(begin)
        .as("docs/configuration.md has the settings markers")
        .isGreaterThanOrEqualTo(0);
    String expected =
        text.substring(0, begin + BEGIN.length()) + "\n" + table() + text.substring(end);
    if (Boolean.getBoolean("gatehouse.docs.write")) {
      Files.writeString(docs, expected);
    }
    assertThat(text).isEqualTo(expected);
  }
}

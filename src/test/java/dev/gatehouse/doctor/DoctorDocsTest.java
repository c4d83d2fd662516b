package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code docs/doctor.md} true: its finding table is the {@link Rule} catalogue, its probe
 * table is {@link ClassProbes#PROBES}, every finding id has a fix section, and every id the page
 * mentions exists. Run with {@code -Dgatehouse.docs.write=true} to rewrite the tables.
 */
class DoctorDocsTest {

  static final Path DOCS = Path.of("docs/doctor.md");

  static String findings() {
    StringBuilder b = new StringBuilder("| Id | Usual severity | What it means |\n|---|---|---|\n");
    for (Rule r : Rule.values()) {
      b.append("| `")
          .append(r.id())
          .append("` | ")
          .append(r.usual().label())
          .append(" | ")
          .append(r.title())
          .append(" |\n");
    }
    return b.toString();
  }

  static String probes() {
    StringBuilder b = new StringBuilder("| Class | Request | Body |\n|---|---|---|\n");
    for (ClassProbes.Probe p : ClassProbes.PROBES) {
      row(b, "`" + p.operation().scope + "`", p);
    }
    row(
        b,
        "`"
            + ClassProbes.PULL_UNDECODABLE.operation().scope
            + "` (only if the above could not tell, on Ollama)",
        ClassProbes.PULL_UNDECODABLE);
    return b.toString();
  }

  private static void row(StringBuilder b, String cls, ClassProbes.Probe p) {
    b.append("| ")
        .append(cls)
        .append(" | `")
        .append(p.request().line())
        .append("` | ")
        .append(p.request().body() == null ? "none" : "`" + p.request().body() + "`")
        .append(" |\n");
  }

  static String replace(String text, String name, String file, String table) {
    String begin = "<!-- " + name + ":begin (generated from " + file + "; see DoctorDocsTest) -->";
    String end = "<!-- " + name + ":end -->";
    int i = text.indexOf(begin);
    int j = text.indexOf(end);
    assertThat(i).as("docs/doctor.md has the " + name + " markers").isGreaterThanOrEqualTo(0);
    return text.substring(0, i + begin.length()) + "\n" + table + text.substring(j);
  }

  @Test
  void tablesAreGeneratedFromTheCode() throws Exception {
    String text = Files.readString(DOCS);
    String expected =
        replace(
            replace(text, "findings", "Rule.java", findings()),
            "probes",
            "ClassProbes.java",
            probes());
    if (Boolean.getBoolean("gatehouse.docs.write")) {
      Files.writeString(DOCS, expected);
    }
    assertThat(text).isEqualTo(expected);
  }

  @Test
  void everyFindingHasAFixSectionAndEveryMentionedIdExists() throws Exception {
    String text = Files.readString(DOCS);
    for (Rule r : Rule.values()) {
      assertThat(text).as(r.id() + " needs a fix section").contains("\n#### " + r.id() + "\n");
    }
    Matcher m = Pattern.compile("GH-[A-Z0-9-]+\\*?").matcher(text);
    while (m.find()) {
      String id = m.group();
      if (id.endsWith("*")) {
        String family = id.substring(0, id.length() - 1);
        assertThat(Rule.values())
            .as("docs mention the family " + id)
            .anyMatch(r -> r.id().startsWith(family));
      } else if (!id.startsWith(Rule.ADVISORY_PREFIX)) {
        assertThat(Rule.byId(id.replaceAll("-$", ""))).as("docs mention " + id).isNotNull();
      }
    }
  }
}

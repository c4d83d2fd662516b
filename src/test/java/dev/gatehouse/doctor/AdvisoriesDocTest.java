package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code docs/advisories.md} in step with the shipped data. Run with {@code
 * -Dgatehouse.docs.write=true} to rewrite it after changing {@code advisories/osv.json}.
 */
class AdvisoriesDocTest {

  static final Path DOC = Path.of("docs/advisories.md");

  @Test
  void theAdvisoryPageIsGeneratedFromTheData() throws Exception {
    String expected = AdvisoriesDoc.render(Advisories.builtIn());
    if (Boolean.getBoolean("gatehouse.docs.write")) {
      Files.writeString(DOC, expected);
    }
    assertThat(Files.exists(DOC))
        .as(DOC + " exists (run with -Dgatehouse.docs.write=true)")
        .isTrue();
    assertThat(Files.readString(DOC)).isEqualTo(expected);
  }

  @Test
  void everyShippedAdvisoryIsOnThePage() throws Exception {
    String text = Files.readString(DOC);
    for (Advisory a : Advisories.builtIn().all()) {
      assertThat(text).as(a.id()).contains("| " + a.id());
    }
  }
}

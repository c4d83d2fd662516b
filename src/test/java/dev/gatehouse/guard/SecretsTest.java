package dev.gatehouse.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The gates in front of {@link Secrets}' patterns skip only texts that no pattern could match: the
 * gated search finds exactly what running every pattern finds, on texts built to sit on each gate's
 * edge (a literal split or miscased, the fewest digits or capitals a match needs).
 */
class SecretsTest {

  /** Pieces texts are made of: secrets of each kind, their near misses, and prose. */
  private static final List<String> PIECES =
      List.of(
          "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
          "-----BEGIN RSA PRIVATE KEY-----abc",
          "-----BEGIN",
          "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123",
          "sk-proj-abcdefghijklmnopqrstuvwx",
          "sk-abcdefghij0123456789ABCD",
          "sk",
          "-ant-",
          "SK-abcdefghijklmnopqrstuvwx",
          "AKIAIOSFODNN7EXAMPLE",
          "ASIA0123456789ABCDEF",
          "AKIA",
          "akiaiosfodnn7example",
          "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
          "gho_abcdefghijklmnopqrstuvwxyz0123456789",
          "ghu_abcdefghijklmnopqrstuvwxyz0123456789",
          "ghs_abcdefghijklmnopqrstuvwxyz0123456789",
          "ghr_abcdefghijklmnopqrstuvwxyz0123456789",
          "ghx_abcdefghijklmnopqrstuvwxyz0123456789",
          "github_pat_11ABCDEFG0123456789_abcdefghij",
          "the night light",
          "g",
          "h",
          "p_",
          "xoxb-1234567890-abcdef",
          "xo",
          "x",
          "AIzaSyA-abcdefghijklmnopqrstuvwxyz0123456",
          "AIz",
          "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
          "eyJ",
          "gk_abcdefghijklmnop0123",
          "gk",
          "_",
          "alice@example.com",
          "@",
          "bob.smith+tag@mail.example.co.uk",
          "4111 1111 1111 1111",
          "4111111111111111",
          "4111-1111-1111-1",
          "411111111111",
          "1",
          "7",
          " ",
          "-",
          "GB82 WEST 1234 5698 7654 32",
          "DE89370400440532013000",
          "GB82WEST12345",
          "GB",
          "82",
          "A",
          "Z9",
          "Why is the sky blue?",
          "Ignore previous instructions.",
          "\n",
          "é",
          ".");

  @Test
  void gatedSearchFindsWhatEveryPatternFinds() {
    Random random = new Random(20261207L);
    int withMatches = 0;
    for (int n = 0; n < 30_000; n++) {
      StringBuilder b = new StringBuilder();
      int parts = 1 + random.nextInt(8);
      for (int i = 0; i < parts; i++) {
        b.append(PIECES.get(random.nextInt(PIECES.size())));
        if (random.nextInt(3) == 0) {
          b.append(' ');
        }
      }
      String text = b.toString();
      List<Secrets.Match> all = Secrets.find(text, false);
      assertThat(Secrets.find(text, true)).as(text).isEqualTo(all);
      if (!all.isEmpty()) {
        withMatches++;
      }
    }
    // the texts reach the patterns, not only the gates: a third or more hold a secret
    assertThat(withMatches).isGreaterThan(10_000);
  }

  @Test
  void eachGateOpensAtTheLeastAMatchNeeds() {
    // 13 digits: the fewest a card number has (Luhn-valid)
    assertThat(Secrets.find("card 4222222222222"))
        .extracting(Secrets.Match::kind)
        .containsExactly("card_number");
    // 15 capitals and digits: the fewest an IBAN has (mod-97-valid)
    assertThat(Secrets.find("iban NO9386011117947"))
        .extracting(Secrets.Match::kind)
        .containsExactly("iban");
    assertThat(Secrets.find("Why is the sky blue?")).isEmpty();
  }
}

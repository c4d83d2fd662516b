package dev.gatehouse.identify.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How a JWT subject is named in the audit log, the metrics and the dashboard. */
class JwtPrincipalsTest {

  // A short printable sub is the name as it is.
  @Test
  void shortPrintableSubIsKept() {
    assertThat(JwtPrincipals.keyId("https://idp", "alice")).isEqualTo("jwt:alice");
    assertThat(JwtPrincipals.keyId("https://idp", "x".repeat(64)))
        .isEqualTo("jwt:" + "x".repeat(64));
  }

  // Too long, a space, a control character or non-ASCII: a hash of iss|sub, which differs per
  // issuer, so that no log or label ever carries unbounded or unprintable text.
  @Test
  void otherSubsAreHashed() {
    for (String sub : new String[] {"x".repeat(65), "a b", "a\nb", "zoë"}) {
      String id = JwtPrincipals.keyId("https://idp", sub);
      assertThat(id).matches("jwt:[0-9a-f]{16}");
      assertThat(JwtPrincipals.keyId("https://other", sub)).isNotEqualTo(id);
    }
  }
}

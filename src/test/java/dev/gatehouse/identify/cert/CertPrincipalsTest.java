package dev.gatehouse.identify.cert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.exchange.Principal;
import dev.gatehouse.testing.TestCa;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The map from a verified client certificate to a principal: its syntax and its matches. */
class CertPrincipalsTest {

  static TestCa ca;
  static TestCa.Issued cert;

  @BeforeAll
  static void make() throws Exception {
    ca = new TestCa("clients");
    cert =
        ca.issue(
            "CN=batch,OU=ML,O=Example Corp",
            List.of(
                "dns:batch.example.com", "uri:spiffe://example.org/batch", "email:ml@example.com"),
            Duration.ofDays(7));
  }

  private static Principal who(String... lines) {
    CertPrincipals.Match m =
        CertPrincipals.parse(List.of(lines)).identify(cert.cert(), Instant.now());
    assertThat(m.reason()).isNull();
    return Objects.requireNonNull(m.principal());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        // why: each kind of match, named by the value that matched
        "cn=batch | cert:batch",
        "dns=BATCH.example.com | cert:batch.example.com",
        "uri=spiffe://example.org/batch | cert:spiffe://example.org/batch",
        "email=ml@example.com | cert:ml@example.com",
        // why: a DN is compared as an X.500 name, not as text; the principal takes the CN
        "subject=cn=batch, ou=ML, o=Example Corp | cert:batch",
      })
  void eachKindOfMatchNamesThePrincipal(String line, String keyId) {
    Principal p = who(line);
    assertThat(p.keyId()).isEqualTo(keyId);
    assertThat(p.keyName()).isEqualTo("CN=batch,OU=ML,O=Example Corp");
    assertThat(p.scopes()).containsExactlyInAnyOrder("inference", "embeddings", "models.read");
    assertThat(p.models().allows("anything:7b")).isTrue();
  }

  @Test
  void theFirstMatchingLineGrantsItsScopesAndModels() {
    // why: order decides, as in a firewall; later lines are for other certificates
    Principal p =
        who(
            "cn=someone-else scopes=models.manage",
            "dns=batch.example.com scopes=embeddings models=nomic-embed-text,bge*",
            "cn=batch scopes=models.manage");
    assertThat(p.scopes()).isEqualTo(Set.of("embeddings"));
    assertThat(p.models().allows("nomic-embed-text")).isTrue();
    assertThat(p.models().allows("llama3.2:3b")).isFalse();
  }

  @Test
  void aCertificateThatMatchesNothingOrHasExpiredSinceTheHandshakeIsRefused() throws Exception {
    // why: an unmapped certificate is no credential; a connection can outlive its certificate
    CertPrincipals map = CertPrincipals.parse(List.of("cn=other", "dns=other.example.com"));
    assertThat(map.identify(cert.cert(), Instant.now()).principal()).isNull();
    assertThat(map.identify(cert.cert(), Instant.now()).reason()).contains("matches no");
    CertPrincipals all = CertPrincipals.parse(List.of("cn=batch"));
    CertPrincipals.Match late = all.identify(cert.cert(), Instant.now().plus(Duration.ofDays(8)));
    assertThat(late.principal()).isNull();
    assertThat(late.reason()).contains("outside its dates");
    assertThat(CertPrincipals.NONE.identify(cert.cert(), Instant.now()).principal()).isNull();
  }

  @Test
  void aLongOrUnprintableNameIsHashedIntoTheId() {
    // why: the id is a log token and a metric label; a certificate must not choose its shape
    assertThat(CertPrincipals.publicName("ci.example.com", "CN=x")).isEqualTo("ci.example.com");
    assertThat(CertPrincipals.publicName("Alice Example", "CN=Alice Example")).hasSize(16);
    assertThat(CertPrincipals.publicName("a".repeat(65), "CN=x")).matches("[0-9a-f]{16}");
    assertThat(CertPrincipals.publicName("x\ny", "CN=x")).matches("[0-9a-f]{16}");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        // why: only the five kinds of match exist
        "serial=12 | expected cn=NAME",
        // why: a match needs a value
        "cn= | expected cn=NAME",
        // why: a wildcard would admit names the CA issues later
        "dns=*.example.com | exact",
        // why: a scope typo must stop the start, not grant nothing silently
        "cn=a scopes=inference,everything | unknown scope 'everything'",
        "cn=a scopes= | scopes= is empty",
        "cn=a scopes=inference scopes=embeddings | given twice",
        "cn=a models=x,,y | empty entry",
        "subject=not a dn | distinguished name",
      })
  void badLinesAreRefusedWithTheirLineNumber(String line, String why) {
    assertThatThrownBy(() -> CertPrincipals.parse(List.of("cn=fine", line)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("line 2 ")
        .hasMessageContaining(why);
  }
}

package dev.gatehouse.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.gateway.ConfigChecks;
import dev.gatehouse.testing.TestCa;
import dev.gatehouse.tls.SelfSigned;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** doctor's "a CA bundle that holds public web roots" check of {@code tls.client_ca}. */
class ClientCaCheckTest {

  @Test
  void aPrivateCaAloneIsFine() throws Exception {
    // why: the intended set-up must not be reported
    Path dir = Files.createTempDirectory("gh-clientca");
    TestCa ca = new TestCa("clients");
    Path bundle = TestCa.pem(dir.resolve("ca.pem"), ca.cert);
    assertThat(ClientCaCheck.check(bundle, ClientCaCheck.jdkRoots())).isEmpty();
  }

  @Test
  void aPublicRootInTheBundleIsReportedThroughTheConfigAudit() throws Exception {
    // why: someone pasted the system trust store (or one public root) into tls.client_ca
    Path dir = Files.createTempDirectory("gh-clientca");
    TestCa ca = new TestCa("clients");
    X509Certificate publicRoot = ClientCaCheck.jdkRoots().get(0);
    Path bundle = TestCa.pem(dir.resolve("ca.pem"), ca.cert, publicRoot);
    SelfSigned.write(
        List.of("localhost"), Duration.ofDays(30), dir.resolve("cert.pem"), dir.resolve("key.pem"));
    GatehouseConfig c =
        ConfigLoader.load(
            null,
            false,
            Map.of(),
            Map.of(
                "tls.cert", dir.resolve("cert.pem").toString(),
                "tls.key", dir.resolve("key.pem").toString(),
                "tls.client_auth", "optional",
                "tls.client_ca", bundle.toString()),
            ConfigChecks.ALL);
    ConfigAudit.Result r =
        ConfigAudit.audit(c, null, List.of(), ConfigAuditTest.NO_STORE, Instant.now());
    List<Finding> found =
        r.findings().stream().filter(f -> f.id().equals("GH-TLS-CLIENT-CA-PUBLIC")).toList();
    assertThat(found).hasSize(1);
    assertThat(found.get(0).severity()).isEqualTo(Severity.HIGH);
    assertThat(found.get(0).evidence().get(0))
        .startsWith(publicRoot.getSubjectX500Principal().getName())
        .endsWith("is a root of the Java trust store");
    assertThat(found.get(0).evidence()).hasSize(2); // the root, then the count; the private CA not
  }

  @Test
  void aCaSignedByAPublicRootIsReportedToo() throws Exception {
    // why: a public intermediate admits every certificate it issues, just as its root would
    Path dir = Files.createTempDirectory("gh-clientca");
    TestCa root = new TestCa("Public Root");
    TestCa.Issued intermediate = root.issue("CN=Public Issuing CA", List.of(), Duration.ofDays(9));
    Path bundle = TestCa.pem(dir.resolve("ca.pem"), intermediate.cert());
    List<Finding> found = ClientCaCheck.check(bundle, List.of(root.cert));
    assertThat(found).hasSize(1);
    assertThat(found.get(0).evidence().get(0))
        .startsWith("CN=Public Issuing CA")
        .contains("is signed by ")
        .contains("CN=Public Root");
  }
}

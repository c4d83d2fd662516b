package dev.gatehouse.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.cli.Main;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SelfSignedCommandTest {

  @Test
  void writesAServerCertificateForTheGivenNamesAndPrintsItsFingerprint() throws Exception {
    // why: LAN users pin the certificate by the fingerprint this command prints
    Path home = Files.createTempDirectory("gh-tls-cli");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Main.run(
            new String[] {"tls", "self-signed", "--host", "gpu-box.lan", "192.168.1.20"},
            Map.of("GATEHOUSE_HOME", home.toString()),
            new PrintWriter(out),
            new PrintWriter(err),
            r -> r.close());
    assertThat(code).as(err.toString()).isZero();
    Path cert = home.resolve("tls/cert.pem");
    Path key = home.resolve("tls/key.pem");
    X509Certificate x =
        (X509Certificate)
            CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(cert)));
    List<String> sans =
        x.getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList();
    assertThat(sans).containsExactly("gpu-box.lan", "192.168.1.20");
    assertThat(x.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
        .isEqualTo("rw-------");
    Matcher m = Pattern.compile("SHA-256 fingerprint: ([0-9A-F:]{95})").matcher(out.toString());
    assertThat(m.find()).as(out.toString()).isTrue();
    assertThat(m.group(1)).isEqualTo(SelfSigned.fingerprint(x.getEncoded()));
    assertThat(out.toString()).contains("  tls:\n    cert: " + cert.toAbsolutePath());

    int again =
        Main.run(
            new String[] {"tls", "self-signed", "--host", "x"},
            Map.of("GATEHOUSE_HOME", home.toString()),
            new PrintWriter(new StringWriter()),
            new PrintWriter(err),
            r -> r.close());
    assertThat(again).as("never overwrites without --force").isEqualTo(2);
  }

  @Test
  void refusesNamesThatAreNeitherHostsNorAddresses() throws Exception {
    StringWriter err = new StringWriter();
    int code =
        Main.run(
            new String[] {
              "tls",
              "self-signed",
              "--host",
              "bad host!",
              "--out",
              Files.createTempDirectory("x").toString()
            },
            Map.of(),
            new PrintWriter(new StringWriter()),
            new PrintWriter(err),
            r -> r.close());
    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .contains("--host: bad host! (expected: a DNS name or an IP address)");
  }
}

package dev.gatehouse.doctor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The doctor's check of the mTLS client CA bundle ({@code tls.client_ca}): it must not hold a
 * public web root, or a CA certificate one of them signed (a public intermediate). Either would let
 * certificates that anyone can obtain from a public CA pass the handshake; the bundle is meant to
 * hold only the private CA that issues the organisation's client certificates. Reads only.
 */
public final class ClientCaCheck {

  private ClientCaCheck() {}

  /** The roots of the JDK's default trust store: what "public web roots" means here. */
  public static List<X509Certificate> jdkRoots() throws GeneralSecurityException {
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init((KeyStore) null);
    for (TrustManager tm : tmf.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) {
        return Arrays.asList(x.getAcceptedIssuers());
      }
    }
    return List.of();
  }

  /**
   * The findings for {@code bundle} against {@code roots}: one finding listing every certificate of
   * the bundle that is a root or is signed by one, or none. A bundle that cannot be read is the
   * config check's to report (the config would not have loaded).
   */
  public static List<Finding> check(Path bundle, List<X509Certificate> roots) {
    List<? extends Certificate> certs;
    try (InputStream in = Files.newInputStream(bundle)) {
      certs = new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
    } catch (IOException | GeneralSecurityException e) {
      return List.of();
    }
    List<String> evidence = new ArrayList<>();
    for (Certificate c : certs) {
      if (!(c instanceof X509Certificate x)) {
        continue;
      }
      String name = x.getSubjectX500Principal().getName() + " (SHA-256 " + fingerprint(x) + ")";
      for (X509Certificate root : roots) {
        if (root.equals(x)
            || (root.getSubjectX500Principal().equals(x.getSubjectX500Principal())
                && root.getPublicKey().equals(x.getPublicKey()))) {
          evidence.add(name + " is a root of the Java trust store");
          break;
        }
        if (root.getSubjectX500Principal().equals(x.getIssuerX500Principal())
            && signedBy(x, root)) {
          evidence.add(
              name
                  + " is signed by "
                  + root.getSubjectX500Principal().getName()
                  + ", a root of the Java trust store");
          break;
        }
      }
    }
    if (evidence.isEmpty()) {
      return List.of();
    }
    evidence.add(
        bundle + " holds " + certs.size() + " certificate(s); " + evidence.size() + " public");
    return List.of(
        Finding.of(
                Rule.TLS_CLIENT_CA_PUBLIC,
                Rule.TLS_CLIENT_CA_PUBLIC.usual(),
                "tls.client_ca " + bundle)
            .withEvidence(evidence)
            .withFix(
                "Write only your private client CA's certificate to "
                    + bundle
                    + " (see docs/identity-mtls.md for making one with openssl); remove every public root and intermediate.")
            .withLocation(bundle.toAbsolutePath().toString()));
  }

  private static boolean signedBy(X509Certificate c, X509Certificate issuer) {
    try {
      c.verify(issuer.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String fingerprint(X509Certificate c) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()), 0, 8);
    } catch (GeneralSecurityException e) {
      return "?";
    }
  }
}

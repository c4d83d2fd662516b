package dev.gatehouse.config;

import dev.gatehouse.config.GatehouseConfig.ClientAuth;
import dev.gatehouse.config.GatehouseConfig.ClientCerts;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The {@code tls.client_*} settings (mTLS on the public listener), built and checked together: the
 * mode, the CA bundle and the CRL are read here, at load, so that a bundle that is missing, cannot
 * be read or holds no certificate stops the start with every other problem instead of failing the
 * listener later. The principal lines are parsed by their feature ({@code
 * identify/cert/CertPrincipals}, through {@code gateway/ConfigChecks}).
 */
final class ClientCertSection {

  private ClientCertSection() {}

  static ClientCerts clientCerts(SettingValues v, Problems p, boolean tlsOn) {
    p.oneOf("tls.client_auth", "off", "off, optional or required", "off", "optional", "required");
    String text = v.string("tls.client_auth").toLowerCase(Locale.ROOT);
    ClientAuth auth =
        switch (text) {
          case "optional" -> ClientAuth.OPTIONAL;
          case "required" -> ClientAuth.REQUIRED;
          default -> ClientAuth.OFF; // off, YAML's false for a bare off, or a refused value
        };
    Path ca = v.path("tls.client_ca");
    Path crl = v.path("tls.client_crl");
    List<String> principals = v.strings("tls.client_principals");
    if (auth != ClientAuth.OFF) {
      if (!tlsOn) {
        p.invalid(
            "tls.client_auth",
            "off unless tls.cert and tls.key are set: client certificates need HTTPS");
      }
      if (ca == null) {
        // Without a bundle the JDK would trust its public web roots: any certificate a public CA
        // issued would pass the handshake. So a bundle is required, never defaulted.
        p.add(
            "tls.client_ca",
            "tls.client_ca: (empty) (expected: a PEM bundle of the CAs that issue client certificates, since tls.client_auth is "
                + text
                + ")");
      }
    } else {
      // Settings that only make sense with client certificates on: set alone, they suggest
      // protection that is not there, so they are refused rather than ignored.
      onlyWithClientAuth(v, p, "tls.client_ca", ca != null);
      onlyWithClientAuth(v, p, "tls.client_crl", crl != null);
      onlyWithClientAuth(v, p, "tls.client_principals", !principals.isEmpty());
    }
    if (ca != null) {
      certificates(p, "tls.client_ca", ca, "a readable PEM bundle of CA certificates");
    }
    if (crl != null) {
      crls(p, crl, ca);
    }
    return new ClientCerts(
        auth, auth == ClientAuth.OFF ? null : ca, auth == ClientAuth.OFF ? null : crl, principals);
  }

  private static void onlyWithClientAuth(SettingValues v, Problems p, String path, boolean set) {
    if (set) {
      p.add(
          path,
          v.describe(path)
              + " (expected: only together with tls.client_auth optional or required)");
    }
  }

  private static void certificates(Problems p, String path, Path file, String expected) {
    String error = null;
    try (InputStream in = Files.newInputStream(file)) {
      if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
        error = "no certificate in it";
      }
    } catch (IOException | GeneralSecurityException e) {
      error = why(e);
    }
    report(p, path, file, expected, error);
  }

  /**
   * The CRL must parse and be signed by a CA of the bundle: the handshake looks revoked serial
   * numbers up in it, so a list from another CA would revoke nothing that matters and hide that
   * from the operator.
   */
  private static void crls(Problems p, Path file, @Nullable Path ca) {
    String error = null;
    try (InputStream in = Files.newInputStream(file)) {
      CertificateFactory f = CertificateFactory.getInstance("X.509");
      var lists = f.generateCRLs(in);
      if (lists.isEmpty()) {
        error = "no CRL in it";
      } else if (ca != null && Files.isReadable(ca)) {
        java.util.Collection<? extends java.security.cert.Certificate> cas;
        try (InputStream cin = Files.newInputStream(ca)) {
          cas = f.generateCertificates(cin);
        }
        for (java.security.cert.CRL c : lists) {
          if (!signedByOneOf((java.security.cert.X509CRL) c, cas)) {
            error =
                "signed by no CA in tls.client_ca ("
                    + ((java.security.cert.X509CRL) c).getIssuerX500Principal().getName()
                    + ")";
          }
        }
      }
    } catch (IOException | GeneralSecurityException e) {
      error = why(e);
    }
    report(p, "tls.client_crl", file, "a readable PEM or DER certificate revocation list", error);
  }

  private static boolean signedByOneOf(
      java.security.cert.X509CRL crl,
      java.util.Collection<? extends java.security.cert.Certificate> cas) {
    for (java.security.cert.Certificate c : cas) {
      try {
        crl.verify(c.getPublicKey());
        return true;
      } catch (GeneralSecurityException e) {
        // not this one; try the next CA
      }
    }
    return false;
  }

  private static @Nullable String why(Exception e) {
    return e instanceof java.nio.file.NoSuchFileException
        ? "no such file"
        : e instanceof java.nio.file.AccessDeniedException ? "not readable" : e.getMessage();
  }

  private static void report(
      Problems p, String path, Path file, String expected, @Nullable String error) {
    if (error != null) {
      p.add(path, path + ": " + file + " (expected: " + expected + "; " + error + ")");
    }
  }
}

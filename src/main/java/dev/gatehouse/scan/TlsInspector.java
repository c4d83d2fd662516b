package dev.gatehouse.scan;

import dev.gatehouse.doctor.JdkHttpProbe;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.jspecify.annotations.Nullable;

/**
 * The reader of what a server presents in one TLS handshake: the negotiated protocol and cipher,
 * and the certificate chain. It accepts any certificate during the handshake (so a self-signed or
 * expired one can still be read and reported), then judges the chain itself: trusted by the Java
 * trust store, self-signed, and whether it names the host. Sends no application data.
 */
public final class TlsInspector {

  /**
   * What the handshake showed.
   *
   * @param protocol the negotiated protocol, such as {@code TLSv1.3}; null when it failed
   * @param cipherSuite the negotiated suite; null when it failed
   * @param chain the server's certificates, leaf first; empty when it failed
   * @param error why the handshake failed, or null
   */
  public record Facts(
      @Nullable String protocol,
      @Nullable String cipherSuite,
      List<X509Certificate> chain,
      @Nullable String error) {
    public Facts {
      chain = List.copyOf(chain);
    }

    public @Nullable X509Certificate leaf() {
      return chain.isEmpty() ? null : chain.get(0);
    }
  }

  private TlsInspector() {}

  public static Facts inspect(String host, int port, Duration timeout) {
    SSLContext ctx = JdkHttpProbe.trustAll();
    try (SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket()) {
      socket.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
      socket.setSoTimeout((int) timeout.toMillis());
      if (!isIpLiteral(host)) {
        SSLParameters params = socket.getSSLParameters();
        params.setServerNames(List.of(new SNIHostName(host)));
        socket.setSSLParameters(params);
      }
      socket.startHandshake();
      List<X509Certificate> chain = new ArrayList<>();
      for (Certificate c : socket.getSession().getPeerCertificates()) {
        if (c instanceof X509Certificate x) {
          chain.add(x);
        }
      }
      return new Facts(
          socket.getSession().getProtocol(), socket.getSession().getCipherSuite(), chain, null);
    } catch (IOException | IllegalArgumentException e) {
      return new Facts(null, null, List.of(), e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  /** True when the chain leads to a root in the JDK's default trust store. */
  public static boolean trusted(List<X509Certificate> chain) {
    if (chain.isEmpty()) {
      return false;
    }
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init((KeyStore) null);
      Set<TrustAnchor> anchors = new HashSet<>();
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          for (X509Certificate ca : x.getAcceptedIssuers()) {
            anchors.add(new TrustAnchor(ca, null));
          }
        }
      }
      if (anchors.isEmpty()) {
        return false;
      }
      CertPath path = CertificateFactory.getInstance("X.509").generateCertPath(chain);
      PKIXParameters params = new PKIXParameters(anchors);
      params.setRevocationEnabled(false); // revocation needs the network; this check stays offline
      CertPathValidator.getInstance("PKIX").validate(path, params);
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** True when the certificate is its own issuer and signed by its own key. */
  public static boolean selfSigned(X509Certificate c) {
    if (!c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
      return false;
    }
    try {
      c.verify(c.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /**
   * True when the certificate's subject alternative names cover the host: a DNS name exactly or by
   * a left-most wildcard ({@code *.lan} covers {@code gpu.lan}, not {@code a.gpu.lan}), an IP
   * address exactly. The subject CN is not consulted, as browsers no longer do.
   */
  public static boolean namesHost(X509Certificate c, String host) {
    Collection<List<?>> sans;
    try {
      sans = c.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return false;
    }
    if (sans == null) {
      return false;
    }
    boolean ip = isIpLiteral(host);
    String h = host.toLowerCase(Locale.ROOT);
    for (List<?> san : sans) {
      int type = (Integer) san.get(0);
      String value = String.valueOf(san.get(1)).toLowerCase(Locale.ROOT);
      if (ip && type == 7 && sameAddress(value, host)) {
        return true;
      }
      if (!ip && type == 2 && (value.equals(h) || wildcard(value, h))) {
        return true;
      }
    }
    return false;
  }

  /** The subject alternative names, for evidence. */
  public static List<String> names(X509Certificate c) {
    List<String> out = new ArrayList<>();
    try {
      Collection<List<?>> sans = c.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          out.add(String.valueOf(san.get(1)));
        }
      }
    } catch (CertificateParsingException e) {
      // reported as "no names" below
    }
    return out;
  }

  private static boolean wildcard(String pattern, String host) {
    if (!pattern.startsWith("*.")) {
      return false;
    }
    int dot = host.indexOf('.');
    return dot > 0 && host.substring(dot + 1).equals(pattern.substring(2));
  }

  private static boolean sameAddress(String a, String b) {
    try {
      return InetAddress.getByName(a).equals(InetAddress.getByName(b)); // both literals: no lookup
    } catch (IOException e) {
      return false;
    }
  }

  static boolean isIpLiteral(String host) {
    return host.matches("[0-9.]+") || host.contains(":");
  }
}

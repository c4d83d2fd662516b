package dev.gatehouse.identify.cert;

import io.vertx.core.http.HttpServerRequest;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * Where the identify stage finds the client certificate a connection's TLS handshake verified, read
 * only when a request carries no API key (so a keyed request costs nothing more).
 */
@FunctionalInterface
public interface PeerCertificate {

  /** The verified client leaf certificate, or null for none. */
  @Nullable X509Certificate leaf();

  /** No certificate: plain HTTP, or client certificates off. */
  PeerCertificate NONE = () -> null;

  /**
   * The certificate of the request's connection. The TLS engine has verified it against {@code
   * tls.client_ca} and {@code tls.client_crl} before any request was read; a session without one
   * answers null.
   */
  static PeerCertificate of(HttpServerRequest request) {
    return () -> {
      SSLSession session = request.sslSession();
      if (session == null) {
        return null;
      }
      try {
        Certificate[] chain = session.getPeerCertificates();
        return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
      } catch (SSLPeerUnverifiedException e) {
        return null; // no certificate presented (tls.client_auth optional)
      }
    };
  }
}

package dev.gatehouse.listen;

import dev.gatehouse.config.GatehouseConfig;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Objects;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The certificate, chain and key read from their PEM files, checked to belong together (the key
 * signs, the certificate's public key verifies) before they are ever served; and, with {@code
 * tls.client_auth} on, the client CA bundle and CRL, read with them so that a CRL the CA renews at
 * the same path is picked up by the same reload. Immutable.
 */
public record TlsMaterial(
    byte[] certChain,
    byte[] key,
    X509Certificate leaf,
    byte[] digest,
    GatehouseConfig.ClientAuth clientAuth,
    byte[] clientCa,
    byte[] clientCrl) {

  /** Reads and checks the configured files. */
  public static TlsMaterial load(GatehouseConfig.Tls tls) throws IOException {
    byte[] cert = Files.readAllBytes(tls.cert());
    byte[] chain = tls.chain() == null ? new byte[0] : Files.readAllBytes(tls.chain());
    byte[] key = Files.readAllBytes(tls.key());
    byte[] certChain = new byte[cert.length + 1 + chain.length];
    System.arraycopy(cert, 0, certChain, 0, cert.length);
    certChain[cert.length] = '\n';
    System.arraycopy(chain, 0, certChain, cert.length + 1, chain.length);
    X509Certificate leaf;
    try {
      leaf =
          (X509Certificate)
              CertificateFactory.getInstance("X.509")
                  .generateCertificate(new ByteArrayInputStream(cert));
    } catch (CertificateException e) {
      throw new IOException(tls.cert() + " is not a PEM certificate: " + e.getMessage(), e);
    }
    PrivateKey privateKey =
        privateKey(
            new String(key, java.nio.charset.StandardCharsets.US_ASCII),
            Objects.requireNonNull(tls.key(), "the config sets tls.key with tls.cert").toString());
    if (!belongTogether(leaf, privateKey)) {
      throw new IOException(tls.key() + " is not the private key of " + tls.cert());
    }
    GatehouseConfig.ClientCerts clients = tls.clients();
    byte[] clientCa = clients.ca() == null ? new byte[0] : Files.readAllBytes(clients.ca());
    byte[] clientCrl = clients.crl() == null ? new byte[0] : Files.readAllBytes(clients.crl());
    if (clients.enabled() && clientCa.length == 0) {
      // An empty trust store would make the JDK fall back to nothing or, worse, to its defaults.
      throw new IOException(clients.ca() + " is empty: no client CA to trust");
    }
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(certChain);
      md.update(key);
      md.update(clientCa);
      md.update(clientCrl);
      return new TlsMaterial(
          certChain, key, leaf, md.digest(), clients.auth(), clientCa, clientCrl);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static PrivateKey privateKey(String pem, String where) throws IOException {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object o = parser.readObject();
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair pair) {
        return conv.getKeyPair(pair).getPrivate();
      }
      if (o instanceof PrivateKeyInfo info) {
        return conv.getPrivateKey(info);
      }
      throw new IOException(where + " holds no unencrypted PEM private key");
    }
  }

  private static boolean belongTogether(X509Certificate cert, PrivateKey key) {
    try {
      String alg =
          key.getAlgorithm().equals("EC")
              ? "SHA256withECDSA"
              : key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "Ed25519";
      byte[] probe = "gatehouse-key-check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      return v.verify(sig);
    } catch (java.security.GeneralSecurityException e) {
      return false;
    }
  }

  public PemKeyCertOptions options() {
    return new PemKeyCertOptions()
        .setCertValue(Buffer.buffer(certChain))
        .setKeyValue(Buffer.buffer(key));
  }

  /**
   * Asks for client certificates on a listener's options, trusting only {@code tls.client_ca} and
   * refusing what {@code tls.client_crl} revokes; nothing when {@code tls.client_auth} is off. Used
   * for the listener and for every reload alike, so a certificate reload never drops the client
   * check.
   */
  public HttpServerOptions applyClientAuth(HttpServerOptions options) {
    if (clientAuth != GatehouseConfig.ClientAuth.OFF) {
      options.setClientAuth(vertxClientAuth()).setTrustOptions(trust());
      if (clientCrl.length > 0) {
        options.addCrlValue(Buffer.buffer(clientCrl));
      }
    }
    return options;
  }

  /** As {@link #applyClientAuth(HttpServerOptions)}, for options that update a running listener. */
  public ServerSSLOptions applyClientAuth(ServerSSLOptions options) {
    if (clientAuth != GatehouseConfig.ClientAuth.OFF) {
      options.setClientAuth(vertxClientAuth()).setTrustOptions(trust());
      if (clientCrl.length > 0) {
        options.addCrlValue(Buffer.buffer(clientCrl));
      }
    }
    return options;
  }

  private ClientAuth vertxClientAuth() {
    // REQUEST still refuses a certificate that is presented but fails the chain, the dates or the
    // CRL: the JDK fails the handshake; only a connection with no certificate at all goes on.
    return clientAuth == GatehouseConfig.ClientAuth.REQUIRED
        ? ClientAuth.REQUIRED
        : ClientAuth.REQUEST;
  }

  private PemTrustOptions trust() {
    return new PemTrustOptions().addCertValue(Buffer.buffer(clientCa));
  }

  /** True when the files' content differs from {@code other}'s. */
  public boolean differsFrom(TlsMaterial other) {
    return other == null || !Arrays.equals(digest, other.digest);
  }
}

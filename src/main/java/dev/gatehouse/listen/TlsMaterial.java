package dev.gatehouse.listen;

import dev.gatehouse.config.GatehouseConfig;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
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
 * signs, the certificate's public key verifies) before they are ever served. Immutable.
 */
public record TlsMaterial(byte[] certChain, byte[] key, X509Certificate leaf, byte[] digest) {

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
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(certChain);
      md.update(key);
      return new TlsMaterial(certChain, key, leaf, md.digest());
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

  /** True when the files' content differs from {@code other}'s. */
  public boolean differsFrom(TlsMaterial other) {
    return other == null || !Arrays.equals(digest, other.digest);
  }
}

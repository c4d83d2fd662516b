package dev.gatehouse.testing;

import java.io.StringWriter;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority made in a test: issues client and server certificates (any subject, SANs
 * and dates) and CRLs, writes PEM files, and builds the client's SSL context. ECDSA P-256
 * throughout.
 */
public final class TestCa {

  public final X509Certificate cert;
  private final KeyPair keys;
  private final List<X509Certificate> revoked = new ArrayList<>();

  /** A client certificate and its private key. */
  public record Issued(X509Certificate cert, PrivateKey key) {}

  public TestCa(String name) throws Exception {
    this.keys = keyPair();
    Instant now = Instant.now();
    X500Name subject = new X500Name("CN=" + name + ",O=Gatehouse tests");
    var b =
        new JcaX509v3CertificateBuilder(
            subject,
            BigInteger.valueOf(now.toEpochMilli()),
            Date.from(now.minus(Duration.ofDays(1))),
            Date.from(now.plus(Duration.ofDays(30))),
            subject,
            keys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    this.cert = sign(b);
  }

  private static KeyPair keyPair() throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    return gen.generateKeyPair();
  }

  private X509Certificate sign(org.bouncycastle.cert.X509v3CertificateBuilder b) throws Exception {
    return new JcaX509CertificateConverter()
        .getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
  }

  /**
   * A client certificate for {@code subject} (such as {@code CN=ci}) with these SANs (entries
   * {@code dns:NAME}, {@code uri:URI}, {@code email:ADDRESS}, {@code ip:ADDRESS}), valid from
   * {@code from} to {@code to}.
   */
  public Issued issue(String subject, List<String> sans, Instant from, Instant to)
      throws Exception {
    return issue(subject, sans, from, to, KeyPurposeId.id_kp_clientAuth);
  }

  /**
   * A server certificate for {@code subject} with these SANs, valid from a day ago for {@code
   * validity}.
   */
  public Issued issueServer(String subject, List<String> sans, Duration validity) throws Exception {
    Instant now = Instant.now();
    return issue(
        subject,
        sans,
        now.minus(Duration.ofDays(1)),
        now.plus(validity),
        KeyPurposeId.id_kp_serverAuth);
  }

  private Issued issue(
      String subject, List<String> sans, Instant from, Instant to, KeyPurposeId purpose)
      throws Exception {
    KeyPair pair = keyPair();
    var b =
        new JcaX509v3CertificateBuilder(
            cert,
            new BigInteger(64, new SecureRandom()).add(BigInteger.ONE),
            Date.from(from),
            Date.from(to),
            new javax.security.auth.x500.X500Principal(subject),
            pair.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
    if (!sans.isEmpty()) {
      List<GeneralName> names = new ArrayList<>();
      for (String s : sans) {
        String value = s.substring(s.indexOf(':') + 1);
        int type =
            switch (s.substring(0, s.indexOf(':'))) {
              case "dns" -> GeneralName.dNSName;
              case "uri" -> GeneralName.uniformResourceIdentifier;
              case "email" -> GeneralName.rfc822Name;
              case "ip" -> GeneralName.iPAddress;
              default -> throw new IllegalArgumentException(s);
            };
        names.add(new GeneralName(type, value));
      }
      b.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(names.toArray(GeneralName[]::new)));
    }
    return new Issued(sign(b), pair.getPrivate());
  }

  /** A client certificate valid from a day ago for {@code validity}. */
  public Issued issue(String subject, List<String> sans, Duration validity) throws Exception {
    Instant now = Instant.now();
    return issue(subject, sans, now.minus(Duration.ofDays(1)), now.plus(validity));
  }

  /** Adds a certificate to the next CRL. */
  public void revoke(X509Certificate c) {
    revoked.add(c);
  }

  /** A CRL signed by this CA that lists every certificate revoked so far. */
  public X509CRL crl() throws Exception {
    Instant now = Instant.now();
    X509v2CRLBuilder b = new JcaX509v2CRLBuilder(cert, Date.from(now.minusSeconds(60)));
    b.setNextUpdate(Date.from(now.plus(Duration.ofDays(7))));
    for (X509Certificate c : revoked) {
      b.addCRLEntry(c.getSerialNumber(), Date.from(now.minusSeconds(30)), CRLReason.keyCompromise);
    }
    return new JcaX509CRLConverter()
        .getCRL(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
  }

  /**
   * Writes objects (certificates, CRLs, private keys) as PEM to {@code file}. A key is written as
   * PKCS#8 ({@code PRIVATE KEY}), which OpenSSL 3 reads; the writer's default for an EC key is not.
   */
  public static Path pem(Path file, Object... objects) throws Exception {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        if (o instanceof PrivateKey key) {
          w.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null));
        } else {
          w.writeObject(o);
        }
      }
    }
    Files.writeString(file, out.toString());
    return file;
  }

  /**
   * A client SSL context that presents {@code client} (null: none), whatever CAs the server says it
   * accepts, and trusts {@code serverCerts}. It always offers the certificate so that the server's
   * refusal, not the client's choice, is what a test sees.
   */
  public static SSLContext clientContext(
      @org.jspecify.annotations.Nullable Issued client, X509Certificate... serverCerts)
      throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    for (int i = 0; i < serverCerts.length; i++) {
      trust.setCertificateEntry("server" + i, serverCerts[i]);
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManager[] km = client == null ? null : new KeyManager[] {new Always(client)};
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(km, tmf.getTrustManagers(), null);
    return ctx;
  }

  /** Offers one certificate for every client handshake. */
  private static final class Always extends X509ExtendedKeyManager {
    private final Issued issued;

    Always(Issued issued) {
      this.issued = issued;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine e) {
      return "client";
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return "client";
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {"client"};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return new X509Certificate[] {issued.cert()};
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return issued.key();
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return new String[0];
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }
  }
}

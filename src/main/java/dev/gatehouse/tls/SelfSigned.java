package dev.gatehouse.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Makes a self-signed certificate for LAN use: an ECDSA P-256 key, the given host names and IP
 * addresses as subject alternative names, server-auth only. Clients pin it by its SHA-256
 * fingerprint.
 */
public final class SelfSigned {

  private SelfSigned() {}

  /** The files written and the fingerprint to give clients. */
  public record Result(Path cert, Path key, String sha256Fingerprint, Instant notAfter) {}

  public static Result write(List<String> hosts, Duration validity, Path certFile, Path keyFile)
      throws IOException, GeneralSecurityException {
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException(
          "--host: (none) (expected: at least one host name or IP address)");
    }
    List<GeneralName> names = new ArrayList<>();
    for (String h : hosts) {
      if (h.matches("[0-9.]+|[0-9a-fA-F:]+") && h.matches(".*[.:].*")) {
        InetAddress.getByName(h); // validates the literal; no lookup for literals
        names.add(new GeneralName(GeneralName.iPAddress, h));
      } else if (h.matches("(?i)[a-z0-9*]([a-z0-9.-]{0,252})")) {
        names.add(new GeneralName(GeneralName.dNSName, h.toLowerCase(Locale.ROOT)));
      } else {
        throw new IllegalArgumentException(
            "--host: " + h + " (expected: a DNS name or an IP address)");
      }
    }
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    KeyPair pair = gen.generateKeyPair();
    Instant now = Instant.now();
    Instant notAfter = now.plus(validity);
    X500Name subject =
        new X500Name(
            "CN=" + hosts.get(0).replaceAll("[,+=\"\\\\<>;]", "") + ",O=Gatehouse self-signed");
    BigInteger serial = new BigInteger(127, new SecureRandom());
    X509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            subject,
            serial,
            Date.from(now.minus(Duration.ofMinutes(5))),
            Date.from(notAfter),
            subject,
            pair.getPublic());
    b.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(names.toArray(GeneralName[]::new)));
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    b.addExtension(
        Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    X509Certificate cert;
    try {
      cert =
          new JcaX509CertificateConverter()
              .getCertificate(
                  b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
    Path dir = certFile.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Path keyDir = keyFile.toAbsolutePath().getParent();
    if (keyDir != null) {
      Files.createDirectories(keyDir);
    }
    writeSecret(keyFile, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
    Files.writeString(certFile, pem("CERTIFICATE", cert.getEncoded()));
    return new Result(certFile, keyFile, fingerprint(cert.getEncoded()), notAfter);
  }

  /** The colon-separated upper-case SHA-256 of a DER certificate, as browsers show it. */
  public static String fingerprint(byte[] der) throws GeneralSecurityException {
    byte[] d = MessageDigest.getInstance("SHA-256").digest(der);
    return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  private static void writeSecret(Path file, String content) throws IOException {
    Files.deleteIfExists(file);
    try {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
    Files.writeString(file, content, StandardOpenOption.TRUNCATE_EXISTING);
  }
}

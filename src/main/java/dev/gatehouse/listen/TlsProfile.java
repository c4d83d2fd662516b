package dev.gatehouse.listen;

import io.vertx.core.net.SSLOptions;
import io.vertx.core.net.TCPSSLOptions;
import java.util.List;
import java.util.Set;

/**
 * The TLS versions and cipher suites the public listener offers ({@code tls.profile}).
 *
 * <p>{@code intermediate} follows Mozilla's intermediate configuration without its finite-field DHE
 * suites: TLS 1.2 with ECDHE key exchange and AEAD ciphers only (no CBC, so no LUCKY13; no static
 * RSA, so forward secrecy always), and TLS 1.3. {@code modern} is TLS 1.3 only. The JDK's default
 * list also offers CBC-SHA suites, which is why both lists are written out here. Applied to the
 * listener and to every certificate reload alike, so a reload never widens the profile.
 */
public final class TlsProfile {

  /** TLS 1.3's suites: all AEAD, all forward-secret. */
  private static final List<String> TLS13 =
      List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

  /**
   * TLS 1.2 suites of Mozilla's intermediate profile that use ECDHE, in its order of preference.
   */
  private static final List<String> TLS12 =
      List.of(
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  private final boolean modern;

  public TlsProfile(boolean modern) {
    this.modern = modern;
  }

  /** The protocol versions this profile enables. */
  public Set<String> protocols() {
    return modern ? Set.of("TLSv1.3") : Set.of("TLSv1.2", "TLSv1.3");
  }

  /** The cipher suites this profile enables, in order of preference. */
  public List<String> cipherSuites() {
    if (modern) {
      return TLS13;
    }
    return java.util.stream.Stream.concat(TLS13.stream(), TLS12.stream()).toList();
  }

  /** Restricts a listener's options to this profile. */
  public <T extends TCPSSLOptions> T applyTo(T options) {
    options.setEnabledSecureTransportProtocols(protocols());
    cipherSuites().forEach(options::addEnabledCipherSuite);
    return options;
  }

  /** Restricts options used to update a running listener (a certificate reload) to this profile. */
  public <T extends SSLOptions> T applyTo(T options) {
    options.setEnabledSecureTransportProtocols(protocols());
    cipherSuites().forEach(options::addEnabledCipherSuite);
    return options;
  }

  /**
   * Refuses client-initiated renegotiation in TLS 1.2 for the whole JVM (TLS 1.3 has none): each
   * renegotiation costs the server a full handshake, so a client that asks for them in a loop is a
   * cheap CPU denial of service. The JDK reads this property once, when its TLS code first loads,
   * so the launcher calls this before anything touches TLS.
   */
  public static void refuseClientRenegotiation() {
    System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
  }
}

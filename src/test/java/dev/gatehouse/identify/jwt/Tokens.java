package dev.gatehouse.identify.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.function.UnaryOperator;

/** Keys made in the test and tokens signed with them, as an identity provider would sign them. */
final class Tokens {

  static final String ISSUER = "https://idp.example.test/realms/test";
  static final String AUDIENCE = "gatehouse";

  private Tokens() {}

  static RSAKey rsa(String kid) {
    try {
      return new RSAKeyGenerator(2048).keyID(kid).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static ECKey ec(String kid) {
    try {
      return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Ordinary claims: right issuer and audience, valid for ten minutes, inference scopes. */
  static JWTClaimsSet.Builder claims(String sub) {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .subject(sub)
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(Duration.ofMinutes(10))))
        .claim("scope", "openid profile inference embeddings models.read")
        .claim("preferred_username", sub + "-name");
  }

  static String sign(JWK key, JWTClaimsSet claims) {
    return sign(key, claims, h -> h);
  }

  /** Signs with {@code key}, letting the test change the header (a kid, for example). */
  static String sign(JWK key, JWTClaimsSet claims, UnaryOperator<JWSHeader.Builder> header) {
    try {
      JWSAlgorithm alg = key instanceof RSAKey ? JWSAlgorithm.RS256 : JWSAlgorithm.ES256;
      SignedJWT jwt =
          new SignedJWT(
              header.apply(new JWSHeader.Builder(alg).keyID(key.getKeyID())).build(), claims);
      jwt.sign(key instanceof RSAKey r ? new RSASSASigner(r) : new ECDSASigner((ECKey) key));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The RS/HS confusion attack: an HS256 token whose HMAC secret is the RSA public key as a
   * verifier that mixed up key types would read it: its PEM bytes, which are public.
   */
  static String hs256WithPublicKey(RSAKey key, JWTClaimsSet claims) {
    try {
      String pem =
          "-----BEGIN PUBLIC KEY-----\n"
              + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'})
                  .encodeToString(key.toRSAPublicKey().getEncoded())
              + "\n-----END PUBLIC KEY-----\n";
      byte[] secret = pem.getBytes(StandardCharsets.US_ASCII);
      SignedJWT jwt =
          new SignedJWT(
              new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(key.getKeyID()).build(), claims);
      jwt.sign(new MACSigner(secret));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An unsigned token: {@code {"alg":"none"}}, the claims, and an empty signature. */
  static String unsigned(JWTClaimsSet claims) {
    return Base64URL.encode("{\"alg\":\"none\",\"typ\":\"JWT\"}").toString()
        + "."
        + Base64URL.encode(claims.toString()).toString()
        + ".";
  }

  /** The token with its signature's bytes changed. */
  static String tampered(String token) {
    int dot = token.lastIndexOf('.');
    byte[] sig = new Base64URL(token.substring(dot + 1)).decode();
    sig[sig.length / 2] ^= 0x5a;
    return token.substring(0, dot + 1) + Base64URL.encode(sig);
  }

  static List<JWK> keys(JWK... keys) {
    return List.of(keys);
  }
}

package dev.gatehouse.admin.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * {@link Totp} against RFC 6238's own test vectors (SHA-1) and against an independent reference
 * computation written here the way the RFC's appendix writes it; the otpauth URI and base32 text an
 * authenticator app reads; the secrets' encryption and recovery hashes ({@link TotpSecrets}).
 */
class TotpTest {

  /** RFC 6238, appendix B: the SHA-1 seed is the ASCII of "12345678901234567890". */
  static final byte[] RFC_SEED = "12345678901234567890".getBytes(StandardCharsets.US_ASCII);

  /** RFC 6238's reference algorithm (appendix A), for SHA-1: time as 16 hex digits, then HOTP. */
  static String reference(byte[] key, long unixSeconds, int digits) throws Exception {
    String steps = Long.toHexString(unixSeconds / 30).toUpperCase(Locale.ROOT);
    while (steps.length() < 16) {
      steps = "0" + steps;
    }
    byte[] msg = new BigInteger("10" + steps, 16).toByteArray();
    byte[] counter = new byte[msg.length - 1];
    System.arraycopy(msg, 1, counter, 0, counter.length);
    Mac mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec(key, "RAW"));
    byte[] hash = mac.doFinal(counter);
    int offset = hash[hash.length - 1] & 0xf;
    int binary =
        ((hash[offset] & 0x7f) << 24)
            | ((hash[offset + 1] & 0xff) << 16)
            | ((hash[offset + 2] & 0xff) << 8)
            | (hash[offset + 3] & 0xff);
    String result = Integer.toString(binary % (int) Math.pow(10, digits));
    while (result.length() < digits) {
      result = "0" + result;
    }
    return result;
  }

  /** RFC 4648 base32 decoding, written here apart from the product's encoder. */
  static byte[] base32Decode(String text) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    int buffer = 0;
    int bits = 0;
    for (char c : text.toUpperCase(Locale.ROOT).toCharArray()) {
      int v = alphabet.indexOf(c);
      if (v < 0) {
        throw new IllegalArgumentException("not base32: " + c);
      }
      buffer = (buffer << 5) | v;
      bits += 5;
      if (bits >= 8) {
        out.write((buffer >> (bits - 8)) & 0xff);
        bits -= 8;
      }
    }
    return out.toByteArray();
  }

  @Test
  void theReferenceComputationGivesTheRfcVectors() throws Exception {
    // why: the tests' own TOTP must be right before it judges the product's
    long[] times = {59L, 1111111109L, 1111111111L, 1234567890L, 2000000000L, 20000000000L};
    List<String> expected =
        List.of("94287082", "07081804", "14050471", "89005924", "69279037", "65353130");
    for (int i = 0; i < times.length; i++) {
      assertThat(reference(RFC_SEED, times[i], 8)).as("T=%d", times[i]).isEqualTo(expected.get(i));
    }
  }

  @Test
  void productCodesAreTheRfcVectorsSixDigitsLong() throws Exception {
    // why: an authenticator app computes RFC 6238 codes; ours must be the same ones (6 digits are
    // the last six of the RFC's 8-digit values, as the modulus is 10^6)
    long[] times = {59L, 1111111109L, 1111111111L, 1234567890L, 2000000000L, 20000000000L};
    List<String> expected = List.of("287082", "081804", "050471", "005924", "279037", "353130");
    for (int i = 0; i < times.length; i++) {
      Instant at = Instant.ofEpochSecond(times[i]);
      assertThat(Totp.code(RFC_SEED, Totp.step(at)))
          .as("T=%d", times[i])
          .isEqualTo(expected.get(i));
      assertThat(Totp.code(RFC_SEED, Totp.step(at))).isEqualTo(reference(RFC_SEED, times[i], 6));
    }
  }

  @Test
  void codesAreAsciiDigitsWhateverTheDefaultLocale() {
    // why: String.format localizes digits; an Arabic locale must not turn 287082 into other digits
    Locale saved = Locale.getDefault();
    try {
      Locale.setDefault(Locale.forLanguageTag("ar-EG-u-nu-arab"));
      assertThat(Totp.code(RFC_SEED, 1)).isEqualTo("287082");
    } finally {
      Locale.setDefault(saved);
    }
  }

  @Test
  void matchAcceptsOneStepEitherSideAndNothingElse() throws Exception {
    // why: a phone clock a little off must work; a code from minutes ago must not
    byte[] key = HexFormat.of().parseHex("00112233445566778899aabbccddeeff00112233");
    Instant now = Instant.parse("2026-12-05T10:00:15Z");
    long step = Totp.step(now);
    for (int d = -1; d <= 1; d++) {
      String code = reference(key, (step + d) * 30, 6);
      assertThat(Totp.match(key, code, now)).as("step %+d", d).hasValue(step + d);
    }
    for (int d : new int[] {-3, -2, 2, 3}) {
      String code = reference(key, (step + d) * 30, 6);
      if (!code.equals(reference(key, step * 30, 6))) {
        assertThat(Totp.match(key, code, now)).as("step %+d", d).isEmpty();
      }
    }
    assertThat(Totp.match(key, "12345", now)).isEmpty();
    assertThat(Totp.match(key, "abcdef", now)).isEmpty();
    assertThat(Totp.match(key, "", now)).isEmpty();
  }

  @Test
  void base32AndTheOtpauthUriAreWhatAppsRead() {
    // why: Google Authenticator and the others take the key URI format with a base32 secret
    assertThat(Totp.base32("foobar".getBytes(StandardCharsets.US_ASCII))).isEqualTo("MZXW6YTBOI");
    byte[] secret = new byte[20];
    for (int i = 0; i < secret.length; i++) {
      secret[i] = (byte) (i * 13);
    }
    assertThat(base32Decode(Totp.base32(secret))).isEqualTo(secret);
    assertThat(Totp.uri("Gatehouse", "ops admin", secret))
        .isEqualTo(
            "otpauth://totp/Gatehouse:ops%20admin?secret="
                + Totp.base32(secret)
                + "&issuer=Gatehouse&algorithm=SHA1&digits=6&period=30");
  }

  @Test
  void secretsAreSealedForOneCredentialUnderTheServerSecret() {
    // why: the database alone, or a row moved to another credential, gives no usable secret
    byte[] server = new byte[32];
    TotpSecrets s = new TotpSecrets(server);
    byte[] secret = s.newSecret();
    assertThat(secret).hasSize(20);
    byte[] sealed = s.seal("a1", secret);
    assertThat(new String(sealed, StandardCharsets.ISO_8859_1))
        .doesNotContain(new String(secret, StandardCharsets.ISO_8859_1));
    assertThat(s.open("a1", sealed)).isEqualTo(secret);
    assertThat(s.open("a2", sealed)).as("another credential").isNull();
    byte[] other = new byte[32];
    other[0] = 1;
    assertThat(new TotpSecrets(other).open("a1", sealed)).as("another server secret").isNull();
    sealed[sealed.length - 1] ^= 1;
    assertThat(s.open("a1", sealed)).as("tampered").isNull();
  }

  @Test
  void recoveryCodesAreRandomAndHashedPerCredential() {
    // why: only keyed hashes are stored; a code of one credential is not one of another
    TotpSecrets s = new TotpSecrets(new byte[32]);
    List<String> codes = s.newRecoveryCodes();
    assertThat(codes).hasSize(10).doesNotHaveDuplicates();
    assertThat(codes).allMatch(c -> c.matches("[a-z2-7]{5}-[a-z2-7]{5}"));
    String c = codes.getFirst();
    assertThat(s.recoveryHash("a1", c)).isEqualTo(s.recoveryHash("a1", c.toUpperCase(Locale.ROOT)));
    assertThat(s.recoveryHash("a1", c)).isEqualTo(s.recoveryHash("a1", c.replace("-", " ")));
    assertThat(s.recoveryHash("a1", c)).isNotEqualTo(s.recoveryHash("a2", c));
  }

  @Test
  void theQrCodeIsAPlainSvgImage() {
    // why: the dashboard shows it as an image under a CSP without inline script or style
    String svg = TotpQr.svg("otpauth://totp/Gatehouse:a?secret=ABC");
    assertThat(svg).startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"").endsWith("</svg>");
    assertThat(svg).doesNotContain("<script", "style=", "href");
    assertThat(svg).contains("<path fill=\"#000\" d=\"M");
  }
}

package dev.gatehouse.guard;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Secrets and personal data in prompt text: API keys and tokens of the common formats, PEM private
 * keys, emails, card numbers (Luhn-checked) and IBANs (mod-97-checked). Every pattern is linear
 * (bounded repeats, no nested quantifiers). Stateless and thread-safe.
 */
public final class Secrets {

  private Secrets() {}

  /**
   * A kind of secret: its pattern, and a cheap test that every match of the pattern passes, so that
   * a text failing it is not searched with the pattern at all. The test is one of: a literal that
   * every match contains ({@code anchors}: any one of them), or a least number of digits, or of
   * capital letters and digits, that every match holds ({@code minDigits}, {@code
   * minCapsOrDigits}). Most prompts hold none of the anchors and few digits, so most texts are
   * searched by no pattern; {@code SecretsTest} holds the gated search to the same matches as the
   * ungated one.
   */
  private record Kind(
      String name, Pattern pattern, List<String> anchors, int minDigits, int minCapsOrDigits) {

    static Kind anchored(String name, String regex, String... anchors) {
      return new Kind(name, Pattern.compile(regex), List.of(anchors), 0, 0);
    }

    static Kind counted(String name, String regex, int minDigits, int minCapsOrDigits) {
      return new Kind(name, Pattern.compile(regex), List.of(), minDigits, minCapsOrDigits);
    }

    boolean mayMatch(String text, Counts counts) {
      for (String a : anchors) {
        if (text.contains(a)) {
          return true;
        }
      }
      return anchors.isEmpty()
          && counts.digits >= minDigits
          && counts.capsOrDigits >= minCapsOrDigits;
    }
  }

  /** The text's digits, and its capital letters and digits, counted once for the gates. */
  private record Counts(int digits, int capsOrDigits) {
    static Counts of(String text) {
      int digits = 0;
      int caps = 0;
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        if (c >= '0' && c <= '9') {
          digits++;
        } else if (c >= 'A' && c <= 'Z') {
          caps++;
        }
      }
      return new Counts(digits, digits + caps);
    }
  }

  // Order matters: more specific shapes first (an Anthropic key also looks like an sk- key). Every
  // pattern is case-sensitive, as are its anchors.
  private static final List<Kind> KINDS =
      List.of(
          Kind.anchored(
              "private_key",
              "-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----[A-Za-z0-9+/=\\s:,-]{0,16384}?(?:-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----|$)",
              "-----BEGIN "),
          Kind.anchored("anthropic_key", "\\bsk-ant-[A-Za-z0-9_-]{20,300}", "sk-ant-"),
          Kind.anchored(
              "openai_key", "\\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,300}", "sk-"),
          Kind.anchored(
              "aws_access_key",
              "\\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\\b",
              "AKIA",
              "ASIA",
              "ABIA",
              "ACCA"),
          Kind.anchored(
              "github_token",
              "\\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
              // each prefix whole: "gh" alone is in most English prose (light, through)
              "ghp_",
              "gho_",
              "ghu_",
              "ghs_",
              "ghr_",
              "github_pat_"),
          Kind.anchored("slack_token", "\\bxox[abposr]-[A-Za-z0-9-]{10,250}", "xox"),
          Kind.anchored("google_api_key", "\\bAIza[0-9A-Za-z_-]{35}", "AIza"),
          Kind.anchored(
              "jwt",
              "\\beyJ[A-Za-z0-9_-]{8,4096}\\.eyJ[A-Za-z0-9_-]{8,8192}\\.[A-Za-z0-9_-]{8,4096}",
              "eyJ"),
          Kind.anchored("gatehouse_key", "\\bgk_[A-Za-z0-9_-]{16,200}", "gk_"),
          Kind.anchored(
              "email",
              "\\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\\.[A-Za-z0-9-]{1,63}){0,8}\\.[A-Za-z]{2,24}\\b",
              "@"),
          // 13 to 19 digits
          Kind.counted("card_number", "(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])", 13, 0),
          // two capitals, two digits, then 11 to 30 of either
          Kind.counted("iban", "\\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\\b", 0, 15));

  /** One match: its kind and where it is. */
  public record Match(String kind, int start, int end) {}

  /** The secrets in the text, in order, not overlapping. */
  public static List<Match> find(String text) {
    return find(text, true);
  }

  /** {@link #find}, with each kind's gate ({@code gated}) or with every pattern run (tests). */
  static List<Match> find(String text, boolean gated) {
    List<Match> out = new ArrayList<>();
    boolean[] taken = null;
    Counts counts = gated ? Counts.of(text) : null;
    for (Kind k : KINDS) {
      if (counts != null && !k.mayMatch(text, counts)) {
        continue;
      }
      Matcher m = k.pattern.matcher(text);
      while (m.find()) {
        if (k.name.equals("card_number") && !luhn(m.group())) {
          continue;
        }
        if (k.name.equals("iban") && !iban(m.group())) {
          continue;
        }
        if (taken == null) {
          taken = new boolean[text.length()];
        }
        if (taken[m.start()] || taken[m.end() - 1]) {
          continue;
        }
        for (int i = m.start(); i < m.end(); i++) {
          taken[i] = true;
        }
        out.add(new Match(k.name, m.start(), m.end()));
      }
    }
    out.sort((a, b) -> Integer.compare(a.start, b.start));
    return out;
  }

  /** The text with each match replaced by {@code [REDACTED:kind]}. */
  public static String redact(String text, List<Match> matches) {
    StringBuilder b = new StringBuilder(text.length());
    int at = 0;
    for (Match m : matches) {
      b.append(text, at, m.start).append("[REDACTED:").append(m.kind).append(']');
      at = m.end;
    }
    return b.append(text, at, text.length()).toString();
  }

  /** Kinds and counts, such as {@code email:2,openai_key:1}, by kind name. */
  public static String summary(Map<String, Integer> counts) {
    StringBuilder b = new StringBuilder();
    new TreeMap<>(counts)
        .forEach((k, v) -> b.append(b.isEmpty() ? "" : ",").append(k).append(':').append(v));
    return b.toString();
  }

  static boolean luhn(String s) {
    int sum = 0;
    int digits = 0;
    boolean dbl = false;
    for (int i = s.length() - 1; i >= 0; i--) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        continue;
      }
      int d = c - '0';
      if (dbl) {
        d *= 2;
        if (d > 9) {
          d -= 9;
        }
      }
      sum += d;
      dbl = !dbl;
      digits++;
    }
    return digits >= 13 && digits <= 19 && sum % 10 == 0;
  }

  static boolean iban(String s) {
    String t = s.replace(" ", "");
    if (t.length() < 15 || t.length() > 34) {
      return false;
    }
    String r = t.substring(4) + t.substring(0, 4);
    int mod = 0;
    for (int i = 0; i < r.length(); i++) {
      char c = r.charAt(i);
      int v = Character.isDigit(c) ? c - '0' : c - 'A' + 10;
      mod = (v > 9 ? mod * 100 + v : mod * 10 + v) % 97;
    }
    return mod == 1;
  }
}

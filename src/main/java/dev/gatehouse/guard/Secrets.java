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

  private record Kind(String name, Pattern pattern) {}

  // Order matters: more specific shapes first (an Anthropic key also looks like an sk- key).
  private static final List<Kind> KINDS =
      List.of(
          new Kind(
              "private_key",
              Pattern.compile(
                  "-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----[A-Za-z0-9+/=\\s:,-]{0,16384}?(?:-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----|$)")),
          new Kind("anthropic_key", Pattern.compile("\\bsk-ant-[A-Za-z0-9_-]{20,300}")),
          new Kind(
              "openai_key",
              Pattern.compile("\\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,300}")),
          new Kind("aws_access_key", Pattern.compile("\\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\\b")),
          new Kind(
              "github_token",
              Pattern.compile(
                  "\\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})")),
          new Kind("slack_token", Pattern.compile("\\bxox[abposr]-[A-Za-z0-9-]{10,250}")),
          new Kind("google_api_key", Pattern.compile("\\bAIza[0-9A-Za-z_-]{35}")),
          new Kind(
              "jwt",
              Pattern.compile(
                  "\\beyJ[A-Za-z0-9_-]{8,4096}\\.eyJ[A-Za-z0-9_-]{8,8192}\\.[A-Za-z0-9_-]{8,4096}")),
          new Kind("gatehouse_key", Pattern.compile("\\bgk_[A-Za-z0-9_-]{16,200}")),
          new Kind(
              "email",
              Pattern.compile(
                  "\\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\\.[A-Za-z0-9-]{1,63}){0,8}\\.[A-Za-z]{2,24}\\b")),
          new Kind("card_number", Pattern.compile("(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")),
          new Kind("iban", Pattern.compile("\\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\\b")));

  /** One match: its kind and where it is. */
  public record Match(String kind, int start, int end) {}

  /** The secrets in the text, in order, not overlapping. */
  public static List<Match> find(String text) {
    List<Match> out = new ArrayList<>();
    boolean[] taken = null;
    for (Kind k : KINDS) {
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

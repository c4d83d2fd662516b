package dev.gatehouse.abuse;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The matchers that run per request compare in place instead of lowering, splitting and trimming
 * copies; here they give the copying versions' answers (kept below as the reference) on the
 * signatures' own strings and on random mixes of their pieces, case changes and non-ASCII letters.
 */
class ProbeSignaturesInPlaceTest {

  static final List<String> PIECES =
      List.of(
          "/",
          "/.aws/credentials",
          "/.AWS/Config",
          "/.env",
          "/.ENV.local",
          ".env",
          ".envx",
          "/.git/",
          "/.git-credentials",
          "/.ssh/",
          "/.Claude/",
          "/api/chat",
          "/v1/models",
          "api",
          " ",
          "\t",
          "Bearer ",
          "basic ",
          "b ",
          "bea ",
          "password",
          "PASSWORD",
          "changeme",
          "your_api_key",
          "sk-",
          "gh_0123456789abcdef",
          "__nmap",
          "__NMAP_probe_404__",
          "_probe_404",
          "llama3.2:3b",
          "hello",
          "Hello, World!",
          "HI",
          "hi!",
          "how many states are there in the united states",
          "  ",
          "x",
          "_",
          "\u212A",
          "\u0130",
          "\u017F",
          "\u00e9",
          "K");

  static String mix(Random r) {
    StringBuilder b = new StringBuilder();
    for (int n = r.nextInt(4); n >= 0; n--) {
      b.append(PIECES.get(r.nextInt(PIECES.size())));
    }
    return b.toString();
  }

  @Test
  void givesTheCopyingVersionsAnswers() {
    Random r = new Random(12);
    List<String> inputs = new ArrayList<>(PIECES);
    for (int i = 0; i < 200_000; i++) {
      inputs.add(mix(r));
    }
    for (String s : inputs) {
      assertThat(ProbeSignatures.credentialPath(s))
          .as("credentialPath(%s)", s)
          .isEqualTo(credentialPath(s));
      assertThat(ProbeSignatures.realCredential(s))
          .as("realCredential(%s)", s)
          .isEqualTo(realCredential(s));
      assertThat(ProbeSignatures.probePrompt(s)).as("probePrompt(%s)", s).isEqualTo(probePrompt(s));
      assertThat(ProbeSignatures.scannerModel(s))
          .as("scannerModel(%s)", s)
          .isEqualTo(scannerModel(s));
      assertThat(BanPolicy.samplePath(s)).as("samplePath(%s)", s).isEqualTo(samplePath(s));
    }
  }

  // The reference: the matchers as they were before they compared in place.

  static boolean credentialPath(String path) {
    String p = path.toLowerCase(Locale.ROOT);
    for (String s :
        List.of(
            "/.aws/credentials",
            "/.aws/config",
            "/.cache/huggingface/token",
            "/.huggingface/token",
            "/openai/credentials.json",
            "/.docker/config.json",
            "/.npmrc",
            "/.netrc",
            "/.git-credentials",
            "/.git/config",
            "/.kube/config",
            "/.pgpass",
            "/.claude/settings.json",
            "/.claude.json",
            "/.config/gcloud/credentials.db",
            "/.config/gcloud/application_default_credentials.json")) {
      if (p.endsWith(s)) {
        return true;
      }
    }
    for (String d : List.of("/.ssh/", "/.claude/", "/.aws/", "/.git/", "/.config/gcloud/")) {
      if (p.contains(d)) {
        return true;
      }
    }
    for (String segment : p.split("/")) {
      if (segment.equals(".env") || segment.startsWith(".env.")) {
        return true;
      }
    }
    return false;
  }

  static final Set<String> PLACEHOLDERS =
      Set.of(
          "",
          "password",
          "empty",
          "none",
          "null",
          "undefined",
          "test",
          "x",
          "dummy",
          "key",
          "apikey",
          "api_key",
          "your_api_key",
          "sk-",
          "changeme");

  static boolean realCredential(String header) {
    String v = header.trim();
    int sp = v.indexOf(' ');
    if (sp > 0
        && (v.regionMatches(true, 0, "bearer", 0, sp)
            || v.regionMatches(true, 0, "basic", 0, sp))) {
      v = v.substring(sp + 1).trim();
    }
    return v.length() >= 8 && !PLACEHOLDERS.contains(v.toLowerCase(Locale.ROOT));
  }

  static final Set<String> PROBE_PROMPTS =
      Set.of(
          "hi",
          "hello",
          "hey",
          "x",
          "test",
          "ping",
          "hello world",
          "how many states are there in the united states");

  static boolean probePrompt(String text) {
    if (text.length() > 80) {
      return false;
    }
    String t = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9 _]", "").trim();
    return PROBE_PROMPTS.contains(t);
  }

  static final java.util.regex.Pattern SCANNER_MODEL =
      java.util.regex.Pattern.compile("(?i)__nmap[a-z0-9_:.-]*|[a-z0-9_.-]*_probe_404_*");

  static boolean scannerModel(String model) {
    return model.length() <= 256 && SCANNER_MODEL.matcher(model).matches();
  }

  static String samplePath(String path) {
    if (path.isEmpty()) {
      return "-";
    }
    StringBuilder b = new StringBuilder(Math.min(path.length(), 200));
    for (int i = 0; i < path.length() && b.length() < 200; i++) {
      char c = path.charAt(i);
      b.append(c > 0x20 && c < 0x7f ? c : '?');
    }
    return b.toString();
  }
}

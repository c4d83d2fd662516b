package dev.gatehouse.guard;

import java.util.EnumSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The phrase and structure rules, by family. Phrase rules read the folded text (see {@link
 * Normalizer#fold}: lower case, one space between words, look-alikes and leetspeak undone), so each
 * pattern is written once in plain lower-case words. Structure rules (fake turns, template tokens)
 * read the visible text, which keeps line breaks and case.
 *
 * <p>Every gap between the words of a rule is bounded ({@code .{0,40}}-style), so no pattern can
 * backtrack for long on a hostile input. Stateless and thread-safe.
 */
public final class Rules {

  private Rules() {}

  /**
   * A rule: a pattern, and literal words (its triggers) of which the text must hold at least one
   * for the pattern to be tried. The pattern is then tried only where a match can begin: where one
   * of its start literals ({@link #starts}) occurs, or at a line start for a {@code (?m)^} pattern.
   * Both kinds of literal are found for all rules of a kind in one pass over the text ({@link
   * RuleSet}), instead of one substring search per trigger and a regex scan of the whole text per
   * rule (its alternations are slow to try at every position).
   */
  private record Rule(
      String[] triggers, Pattern pattern, String @Nullable [] starts, boolean lineStart) {
    Rule(String[] triggers, Pattern pattern) {
      this(triggers, pattern, Rules.starts(pattern), pattern.pattern().startsWith("(?m)^"));
    }

    /**
     * The reference semantics, which {@link RuleSet#find} reproduces: the text holds a trigger, and
     * the pattern matches anywhere in it. Kept for {@code RulesTest}.
     */
    boolean findByFullScan(String text) {
      for (String t : triggers) {
        if (text.contains(t)) {
          return pattern.matcher(text).find();
        }
      }
      return false;
    }
  }

  /** A rule tried only on texts that hold one of the triggers. */
  private static Rule p(String triggers, String regex) {
    return new Rule(triggers.split(","), Pattern.compile(regex));
  }

  /** A rule whose triggers are the leading alternatives of its regex (or the given list). */
  private static Rule p(String regex) {
    return new Rule(triggers(regex), Pattern.compile(regex));
  }

  /**
   * Literals of which every match of the pattern begins with one, or null when that cannot be read
   * off the pattern (the pattern is then tried at every position, as before). Read from an optional
   * leading {@code \b} and either a literal or a group of alternatives that each begin with one; a
   * character made optional by {@code ?}, {@code *} or a brace quantifier ends the literal before
   * it. A literal that begins with another of the list is dropped (its places are the other's
   * already).
   */
  static String @Nullable [] starts(Pattern pattern) {
    String regex = pattern.pattern();
    if (pattern.flags() != 0 || topLevelAlternation(regex)) {
      return null;
    }
    int i = regex.startsWith("\\b") ? 2 : 0;
    List<String> alts;
    if (regex.startsWith("(", i)) {
      boolean plain = regex.startsWith("(?:", i);
      if (regex.startsWith("(?", i) && !plain) {
        return null; // inline flags or a look-around
      }
      int end = closing(regex, i);
      if (end < 0 || end + 1 < regex.length() && "?*{".indexOf(regex.charAt(end + 1)) >= 0) {
        return null; // the group may be absent
      }
      alts = split(regex.substring(plain ? i + 3 : i + 1, end));
      if (alts == null) {
        return null;
      }
    } else {
      alts = List.of(regex.substring(i));
    }
    java.util.Set<String> lits = new java.util.LinkedHashSet<>();
    for (String alt : alts) {
      String lit = literalPrefix(alt);
      if (lit.isEmpty()) {
        return null;
      }
      lits.add(lit);
    }
    List<String> out = new java.util.ArrayList<>();
    for (String l : lits) {
      boolean covered = false;
      for (String o : lits) {
        covered |= !o.equals(l) && l.startsWith(o);
      }
      if (!covered) {
        out.add(l);
      }
    }
    return out.toArray(String[]::new);
  }

  /** The literal characters every match of {@code alt} begins with (perhaps none). */
  private static String literalPrefix(String alt) {
    StringBuilder b = new StringBuilder();
    int j = 0;
    while (j < alt.length()) {
      char c = alt.charAt(j);
      char lit;
      int len = 1;
      if (c == '\\') {
        if (j + 1 >= alt.length() || Character.isLetterOrDigit(alt.charAt(j + 1))) {
          break; // a class (\s, \w) or an assertion (\b)
        }
        lit = alt.charAt(j + 1);
        len = 2;
      } else if ("()[]{}.|^$?*+".indexOf(c) >= 0 || Character.isSurrogate(c)) {
        break;
      } else {
        lit = c;
      }
      int after = j + len;
      if (after < alt.length() && "?*{".indexOf(alt.charAt(after)) >= 0) {
        break; // optional, so not in every match
      }
      b.append(lit);
      j = after;
      if (j < alt.length() && alt.charAt(j) == '+') {
        break;
      }
    }
    return b.toString();
  }

  /** The index of the parenthesis closing the group opened at {@code open}, or -1. */
  private static int closing(String regex, int open) {
    int depth = 0;
    for (int j = open; j < regex.length(); j++) {
      char c = regex.charAt(j);
      if (c == '\\') {
        j++;
      } else if (c == '[') {
        j = classEnd(regex, j);
        if (j < 0) {
          return -1;
        }
      } else if (c == '(') {
        depth++;
      } else if (c == ')' && --depth == 0) {
        return j;
      }
    }
    return -1;
  }

  /** The index of the bracket closing the character class opened at {@code open}, or -1. */
  private static int classEnd(String regex, int open) {
    int j = open + 1;
    if (j < regex.length() && regex.charAt(j) == '^') {
      j++;
    }
    if (j < regex.length() && regex.charAt(j) == ']') {
      j++;
    }
    for (; j < regex.length(); j++) {
      char c = regex.charAt(j);
      if (c == '\\') {
        j++;
      } else if (c == '[') {
        return -1; // a nested class: not read here
      } else if (c == ']') {
        return j;
      }
    }
    return -1;
  }

  /** The alternatives of a group's body, split at its own {@code |} only; null if unreadable. */
  private static @Nullable List<String> split(String body) {
    List<String> out = new java.util.ArrayList<>();
    int depth = 0;
    int from = 0;
    for (int j = 0; j < body.length(); j++) {
      char c = body.charAt(j);
      if (c == '\\') {
        j++;
      } else if (c == '[') {
        j = classEnd(body, j);
        if (j < 0) {
          return null;
        }
      } else if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == '|' && depth == 0) {
        out.add(body.substring(from, j));
        from = j + 1;
      }
    }
    out.add(body.substring(from));
    return out;
  }

  private static boolean topLevelAlternation(String regex) {
    List<String> parts = split(regex);
    return parts == null || parts.size() > 1;
  }

  /** The literal words of the regex's first group, cut at any regex syntax. */
  private static String[] triggers(String regex) {
    String r = regex.startsWith("\\b") ? regex.substring(2) : regex;
    if (!r.startsWith("(")) {
      String lit = r.split("[\\\\(\\[?*+{|.]", 2)[0];
      return new String[] {lit.length() >= 3 ? lit : ""};
    }
    int depth = 0;
    int end = 0;
    for (int i = 0; i < r.length(); i++) {
      char c = r.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')' && --depth == 0) {
        end = i;
        break;
      }
    }
    String group = r.substring(1, end);
    if (group.startsWith("?:")) {
      group = group.substring(2);
    }
    java.util.List<String> out = new java.util.ArrayList<>();
    for (String alt : group.split("\\|")) {
      String lit = alt.split("[\\\\(\\[?*+{.]", 2)[0];
      if (lit.length() < 2) {
        return new String[] {""}; // no literal to gate on: always try
      }
      out.add(lit);
    }
    return out.toArray(String[]::new);
  }

  /** A gap of a few words within one sentence. */
  private static final String GAP = "[^.!?;\\n]{0,40}?";

  private static final List<Rule> IGNORE =
      List.of(
          p(
              "\\b(ignore|ignoring|disregard|disregarding|forget|forgetting|overrid(?:e|ing)|bypass|skip|neglect|abandon|discard|dismiss"
                  + "|set aside|throw away|throw out|cancel|erase|delete|clear|drop|stop following|don'?t follow|do not follow|no longer follow)\\b"
                  + GAP
                  + "\\b(previous|prior|preceding|above|earlier|former|original|initial|old|all|any|every|your|these|those|system|existing|given|last)\\b"
                  + GAP
                  + "\\b(instructions?|directives?|rules?|guidelines?|prompts?|commands?|orders?|programming|constraints?|restrictions?|polic(?:y|ies)"
                  + "|context|guidance|messages?|settings|configurations?|training|directions?|requests?|tasks?|limitations?|safeguards?)\\b"),
          p(
              "\\b(forget|ignore|disregard) (everything|anything|all)( (you|that|i|we)\\b"
                  + GAP
                  + ")?( (before|above|so far|previously|earlier|until now))"),
          p(
              "\\b(forget|ignore|disregard) (everything|all of that|all that|the above|what i said|what you were told)\\b"),
          p(
              "\\b(new|updated|revised|real|actual|true|different) (instructions?|rules|directives?|task|orders?)( are| is)?\\s*:"),
          p(
              "\\binstead,? (you (must|will|should|are to)|do|say|print|reply|respond|output|tell)\\b"));

  private static final List<Rule> PERSONA =
      List.of(
          p(
              "\\b(developer|dev|debug|god|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|chaos|opposite|dan|apophis|aim|stan|dude) mode\\b"),
          p("\\bdo anything now\\b"),
          p("\\b(jailbreak|jailbroken|jailbreaking|jailbroke)\\b"),
          p(
              "\\b(unfiltered|uncensored|unrestricted|unethical|amoral|immoral|unbound|unchained|rogue|evil|malicious)\\b"
                  + GAP
                  + "\\b(ai|assistant|chatbot|bot|model|language model|version|persona|character|alter ego|entity)\\b"),
          p(
              "\\b(without|free of|free from|no|zero|not have any|doesn'?t have any|does not have any|has no|have no)\\b( any)?"
                  + GAP
                  + "\\b(moral|morals|ethic|ethics|ethical|legal|safety) (guidelines|constraints|restrictions|boundaries|limits|limitations|principles|considerations|concerns|reservations|compass|filters?|standards?|code)\\b"),
          p(
              "\\b(stay|remain|keep)( in| up the act of| up the| playing)? (character|the act|the role|in role|your role)\\b"),
          p(
              "\\b(break|breaking|broke|out of|step out of|stepped out of) (character|the character|role)\\b"),
          p(
              "\\b(chatgpt|gpt|assistant|ai|model|llm|claude|llama|gemini) with (developer|dev|dan|god|\\w+) mode\\b"),
          p(
              "responses,answers,ways,manners,paragraphs,outputs",
              "\\b(two|both|2) (different |separate |distinct )?(responses|answers|ways|manners|paragraphs|outputs)\\b"
                  + GAP
                  + "\\b(normal|classic|standard|filtered|censored|yourself|gpt|chatgpt)\\b"),
          p(
              "[",
              "\\[(🔓|🔒)?\\s*(jailbreak|classic|unlocked|locked|dan|developer mode output|normal output)\\s*\\]"),
          p(
              "\\b(answers?|responds?|replies?|provides?) (to )?(any|every|all)( kind of)? (prompts?|questions?|requests?)\\b"
                  + GAP
                  + "\\b(no matter|regardless|even if|without)\\b"));

  private static final List<Rule> ROLE_RESET =
      List.of(
          p(
              "\\b(you are|you're|you will be|you shall be) (now|from now on|henceforth|hereby|no longer)\\b"),
          p(
              "\\bfrom (now on|this moment|this point|here on)( forward| onwards?| on)?,? (you|your|act|respond|answer|pretend|behave|ignore)"),
          p("\\b(you are|you're) (free|freed|released|liberated|unlocked|unshackled|unleashed)\\b"),
          p(
              "\\b(you have been|you've been|you were) (freed|released|liberated|unlocked|jailbroken|reprogrammed|updated|upgraded|granted)\\b"),
          p(
              "\\b(act|acting|behave|respond|answer|pretend|roleplay|role-play|role play) (as|like|to be)"
                  + GAP
                  + "\\b(unfiltered|uncensored|unrestricted|jailbroken|evil|amoral|unethical|without (any )?(limits|restrictions|filters|rules))"),
          p(
              "\\b(your|the) (new|true|real) (name|identity|role|purpose|persona|programming|instructions) (is|are)\\b"));

  private static final List<Rule> REFUSAL =
      List.of(
          p(
              "\\b(never|not|don'?t|do not|must not|mustn'?t|will not|won'?t|cannot|can'?t|shall not|should not|shouldn'?t|may not|are not allowed to|is not allowed to)"
                  + " (ever )?(refuse|decline|reject|deny|say no|apologi[sz]e|warn|censor|filter|refrain|hesitate|object|remind me)\\b"),
          p(
              "\\b(without|no|never (add|include|give|provide)|don'?t (add|include|give)|do not (add|include|give)|omit( any| all)?)\\b( any| all)?"
                  + "( kind of)? (warnings?|disclaimers?|caveats?|censorship|moralizing|moralising|lectures?|refusals?|apologies|ethical considerations|safety (notes|warnings))\\b"),
          p(
              "\\b(not|never|no longer|isn'?t|aren'?t|is not|are not|free of|free from|without) (bound|restricted|limited|constrained|governed|held|subject) (by|to)\\b"),
          p(
              "\\b(ignor(?:e|es|ing)|disregard(?:s|ing)?|bypass(?:es|ing)?|violat(?:e|es|ing)|break(?:s|ing)?|circumvent(?:s|ing)?|not follow(?:ing)?)\\b"
                  + GAP
                  + "\\b(openai|anthropic|meta|google|microsoft|content|safety|usage|ethical|moral)( 's)? ?(content )?(polic(?:y|ies)|guidelines|rules|filters?|restrictions|standards)\\b"),
          p(
              "\\b(as an ai language model|i'?m sorry,? but i can'?t|i cannot comply|it'?s not appropriate for me)\\b"
                  + GAP
                  + "\\b(never|don'?t|do not|not|instead)\\b"),
          p(
              "\\b(no matter how|regardless of how|even if it'?s|even if the (question|request|answer) is) (immoral|unethical|illegal|harmful|dangerous|offensive|inappropriate|explicit)"),
          p(
              "\\b(can|will|must|should|shall) (say|do|generate|answer|write|produce) (anything|everything|any (content|kind of content))\\b"),
          p(
              "\\b(always|must always|will always) (answer|respond|comply|reply|provide)\\b"
                  + GAP
                  + "\\b(no matter|regardless|even if|without)\\b"));

  private static final Rule FRAMING =
      p(
          "\\b(hypothetical(ly)?|imagine|imagining|pretend|pretending|role-?play(ing)?|role play|fiction(al)?|fictitious|a story|screenplay|novel|"
              + "scenario|thought experiment|in a world where|alternate universe|parallel universe|simulation|simulate|game|for (educational|research|academic) purposes"
              + "|purely (theoretical|academic)|in theory|as a character|movie script|film script)\\b");
  private static final Rule HARMFUL =
      p(
          "\\b(bombs?|explosives?|detonat\\w*|weapons?|firearms?|guns?|meth|methamphetamine|cocaine|heroin|fentanyl|drugs?|poison\\w*|kill(ing)?|murder\\w*|assassinat\\w*"
              + "|hack(ing|ed)?|malware|ransomware|virus|keylogger|exploit\\w*|phishing|steal(ing)?|theft|fraud|launder\\w*|counterfeit|suicide|self-harm|terror\\w*"
              + "|bioweapon|nerve agent|anthrax|ricin|sarin|napalm|illegal(ly)?|untraceable|evade (the )?police|without getting caught|crack (a |the )?password)\\b");

  private static final List<Rule> EXTRACTION =
      List.of(
          p(
              "\\b(reveal|show|print|output|repeat|tell|give|display|share|disclose|leak|write out|spell out|dump|expose|recite|provide|list|translate|summari[sz]e|what (is|are|was|were)|what's)\\b"
                  + GAP
                  + "\\b(system prompt|system message|system instructions?|initial (prompt|instructions?)|original (prompt|instructions?)|hidden (prompt|instructions?)"
                  + "|pre-?prompt|your (prompt|instructions|rules|guidelines|configuration)|secret (key|password|word|code|phrase|token)|the secret|passwords?|passcodes?|api keys?|private key|credentials|confidential (information|data|instructions))\\b"),
          p(
              "\\b(repeat|print|output|copy|echo)\\b"
                  + GAP
                  + "\\b(words|text|everything|all|content|lines?|message)\\b"
                  + GAP
                  + "\\b(above|before this|prior|preceding|at the (top|beginning|start))\\b"),
          p(
              "\\b(beginning|start|top) of (your|the|this) (prompt|conversation|context|instructions)\\b"));

  /** Read on the visible text in lower case, line breaks kept. */
  private static final List<Rule> FAKE_TURN =
      List.of(
          p(
              "system,assistant,developer,admin,root,sudo,operator",
              "(?m)^\\s*(#{1,4}\\s*)?(system|assistant|developer|admin|administrator|root|sudo|operator)\\s*(message|prompt|note|override|instructions?)?\\s*[:>]"),
          p(
              "[",
              "\\[\\s*(system|admin|administrator|developer|operator|root)(\\s+(message|note|override|prompt|instructions?|update|command))?\\s*\\]"),
          p("<", "<\\s*/?\\s*(system|system_prompt|instructions?|sys)\\s*>"),
          p(
              "override,mode,update,command,access",
              "\\b(system|admin|administrator|developer|security|root|sudo|maintenance|debug|test|god)\\s+(override|mode|update|command|access)\\s*(activated|enabled|engaged|on|granted|:)"),
          p(
              "end of,begin of,start of",
              "\\b(end|begin|start) of (the )?(system|user|developer) (prompt|message|instructions?|input)\\b"),
          p(
              "important,urgent,critical",
              "\\b(important|urgent|critical)\\s+(new\\s+)?(instructions?|message|notice|update)\\s*(for|to)\\s+(the\\s+)?(ai|assistant|model|llm|chatbot)\\b"));

  /**
   * Control tokens of the common chat templates. A model server may tokenise these as real control
   * tokens, turning user text into a forged system or assistant turn.
   */
  private static final Pattern TEMPLATE =
      Pattern.compile(
          "<\\|[^|<>\\s]{1,40}\\|>" // ChatML <|im_start|>, Llama 3 <|start_header_id|>, <|eot_id|>,
              // <|endoftext|>, Phi <|system|>, DeepSeek <｜User｜>
              + "|\\[/?INST\\]|<</?SYS>>" // Llama 2, Mistral
              + "|</?start_of_turn>|<end_of_turn>" // Gemma
              + "|\\[/?(SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS)\\]" // Mistral v3+
              + "|<(bos|eos)>|</s>\\s*<s>|<s>\\s*\\[INST", // sentence markers around a turn
          Pattern.CASE_INSENSITIVE);

  /** True when the visible text holds a chat-template control token. */
  public static boolean templateTokens(String visible) {
    // Every alternative of TEMPLATE begins with '<' or '[' (no case to fold), so it is tried there
    // only.
    Matcher m = null;
    for (char open : new char[] {'<', '['}) {
      for (int i = visible.indexOf(open); i >= 0; i = visible.indexOf(open, i + 1)) {
        if (m == null) {
          m = TEMPLATE.matcher(visible).useTransparentBounds(true).useAnchoringBounds(false);
        }
        if (m.region(i, visible.length()).lookingAt()) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Rules read on one kind of text, with the triggers and start literals of all of them in one
   * {@link Literals} scanner. Immutable and thread-safe.
   */
  private static final class RuleSet {
    private final List<Rule> rules;
    private final Literals literals;

    /**
     * When the scanner also holds the rot13 of every literal: their ids are the plain ones plus
     * this offset (else 0). The rot13 of a text holds a literal at a position exactly when the text
     * holds the literal's rot13 there, so one scan serves the text and its rot13.
     */
    private final int rot13Offset;

    private final int[][] triggerIds;

    /** How many plain literals there are (rot13 ones follow them). */
    private final int plainCount;

    /** Per plain literal: the rules it is a trigger of, as a bitset over rule indexes. */
    private final long[][] rulesOf;

    private final int[][] startIds;

    /** Per start literal of a rule: whether a word character just before it rules it out. */
    private final boolean[][] wordStart;

    RuleSet(List<Rule> rules, boolean withRot13) {
      this.rules = List.copyOf(rules);
      java.util.Map<String, Integer> ids = new java.util.LinkedHashMap<>();
      java.util.Set<String> positional = new java.util.HashSet<>();
      for (Rule r : rules) {
        for (String t : r.triggers()) {
          ids.putIfAbsent(t, ids.size());
        }
        if (r.starts() != null && !r.lineStart()) {
          for (String st : r.starts()) {
            ids.putIfAbsent(st, ids.size());
            positional.add(st);
          }
        }
      }
      String[] plain = ids.keySet().toArray(String[]::new);
      rot13Offset = withRot13 ? plain.length : 0;
      String[] lits = new String[withRot13 ? 2 * plain.length : plain.length];
      boolean[] pos = new boolean[lits.length];
      for (int i = 0; i < lits.length; i++) {
        String l = plain[i % plain.length];
        lits[i] = i < plain.length ? l : Decoders.rot13(l);
        pos[i] = positional.contains(l);
      }
      literals = new Literals(lits, pos);
      triggerIds = new int[rules.size()][];
      plainCount = plain.length;
      rulesOf = new long[plain.length][(rules.size() + 63) >>> 6];
      startIds = new int[rules.size()][];
      wordStart = new boolean[rules.size()][];
      for (int r = 0; r < rules.size(); r++) {
        Rule rule = rules.get(r);
        triggerIds[r] = java.util.Arrays.stream(rule.triggers()).mapToInt(ids::get).toArray();
        for (int id : triggerIds[r]) {
          rulesOf[id][r >>> 6] |= 1L << r;
        }
        String[] st = rule.starts() == null || rule.lineStart() ? new String[0] : rule.starts();
        startIds[r] = java.util.Arrays.stream(st).mapToInt(ids::get).toArray();
        wordStart[r] = new boolean[st.length];
        boolean bound = rule.pattern().pattern().startsWith("\\b");
        for (int k = 0; k < st.length; k++) {
          wordStart[r][k] = bound && asciiWord(st[k].charAt(0));
        }
      }
    }

    Literals.Hits scan(String text) {
      return literals.scan(text);
    }

    /**
     * Whether any rule in {@code [from, to)} matches; the same answer as {@link
     * Rule#findByFullScan}. {@code offset} 0 reads the scanned text itself; {@link #rot13Offset}
     * reads {@code text}, the rot13 of the scanned text, through the same hits.
     */
    boolean any(int from, int to, String text, Literals.Hits hits, int offset) {
      for (int r = from; r < to; r++) {
        if (find(r, text, hits, offset)) {
          return true;
        }
      }
      return false;
    }

    /** Whether some rule holds one of its triggers (else none can match). */
    boolean anyGate(Literals.Hits hits, int offset) {
      for (int r = 0; r < rules.size(); r++) {
        if (gate(r, hits, offset)) {
          return true;
        }
      }
      return false;
    }

    /**
     * Whether rule {@code r} holds one of its triggers. The rules whose triggers occur are worked
     * out once per scan and reading, from the literals the text holds (few, for most texts), not by
     * asking every rule.
     */
    private boolean gate(int r, Literals.Hits hits, int offset) {
      int reading = offset == 0 ? 0 : 1;
      long[] gated = hits.memo(reading);
      if (gated == null) {
        gated = new long[(rules.size() + 63) >>> 6];
        for (int id = hits.nextSeen(offset, offset + plainCount);
            id >= 0;
            id = hits.nextSeen(id + 1, offset + plainCount)) {
          long[] m = rulesOf[id - offset];
          for (int w = 0; w < m.length; w++) {
            gated[w] |= m[w];
          }
        }
        hits.memo(reading, gated);
      }
      return (gated[r >>> 6] & (1L << r)) != 0;
    }

    boolean find(int r, String text, Literals.Hits hits, int offset) {
      if (!gate(r, hits, offset)) {
        return false;
      }
      Rule rule = rules.get(r);
      if (rule.starts() == null && !rule.lineStart()) {
        return rule.pattern().matcher(text).find();
      }
      Matcher m = rule.pattern().matcher(text).useTransparentBounds(true).useAnchoringBounds(false);
      int n = text.length();
      if (rule.lineStart()) {
        // (?m)^ matches at 0 and after a line terminator (Pattern's Caret; \r\n is left to it).
        for (int p = 0; p < n; p++) {
          if (p == 0 || lineTerminator(text.charAt(p - 1))) {
            if (m.region(p, n).lookingAt()) {
              return true;
            }
          }
        }
        return false;
      }
      for (int k = 0; k < startIds[r].length; k++) {
        boolean ws = wordStart[r][k];
        for (int o = hits.head(startIds[r][k] + offset); o >= 0; o = hits.next(o)) {
          int p = hits.at(o);
          if (ws && p > 0 && asciiWord(text.charAt(p - 1))) {
            continue; // \b cannot hold between two word characters
          }
          if (m.region(p, n).lookingAt()) {
            return true;
          }
        }
      }
      return false;
    }

    int size() {
      return rules.size();
    }

    Rule rule(int r) {
      return rules.get(r);
    }
  }

  private static boolean asciiWord(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
  }

  private static boolean lineTerminator(char c) {
    return c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029';
  }

  /** Every phrase rule, family by family, in the order {@link #phrases} tries them. */
  private static final List<List<Rule>> PHRASE_FAMILIES =
      List.of(IGNORE, PERSONA, ROLE_RESET, REFUSAL, List.of(FRAMING), List.of(HARMFUL), EXTRACTION);

  private static final RuleSet PHRASES =
      new RuleSet(PHRASE_FAMILIES.stream().flatMap(List::stream).toList(), true);

  /** Where each family's rules begin in {@link #PHRASES}, and (last) where they end. */
  private static final int[] FROM = bounds(PHRASE_FAMILIES);

  private static final RuleSet TURNS = new RuleSet(FAKE_TURN, false);

  private static int[] bounds(List<List<Rule>> families) {
    int[] b = new int[families.size() + 1];
    for (int i = 0; i < families.size(); i++) {
      b[i + 1] = b[i] + families.get(i).size();
    }
    return b;
  }

  /**
   * The families whose rules match; {@code folded} from {@link Normalizer#fold}, {@code visible}
   * from {@link Normalizer#visible}.
   */
  public static EnumSet<Family> match(String folded, String visible) {
    return match(folded, visible, null);
  }

  /**
   * As {@link #match(String, String)}; when {@code rot13} is not null, also adds to it the phrase
   * families that match the rot13 of {@code folded} (what {@link #phrases} finds in {@link
   * Decoders#rot13}{@code (folded)}), from the same scan.
   */
  static EnumSet<Family> match(String folded, String visible, @Nullable EnumSet<Family> rot13) {
    EnumSet<Family> found = EnumSet.noneOf(Family.class);
    Literals.Hits h = PHRASES.scan(folded);
    phrases(folded, h, 0, found);
    if (rot13 != null && PHRASES.anyGate(h, PHRASES.rot13Offset)) {
      phrases(Decoders.rot13(folded), h, PHRASES.rot13Offset, rot13);
    }
    String lower = visible.toLowerCase(java.util.Locale.ROOT);
    if (TURNS.any(0, TURNS.size(), lower, TURNS.scan(lower), 0)) {
      found.add(Family.FAKE_TURN);
    }
    if (templateTokens(visible)) {
      found.add(Family.TEMPLATE_TOKENS);
    }
    return found;
  }

  /** The phrase families (those read on folded text) that match. */
  static void phrases(String folded, EnumSet<Family> found) {
    phrases(folded, PHRASES.scan(folded), 0, found);
  }

  /**
   * The phrase families that match {@code folded}, read through hits at {@code offset} (see {@link
   * RuleSet#any}).
   */
  private static void phrases(String folded, Literals.Hits h, int offset, EnumSet<Family> found) {
    if (family(0, folded, h, offset)) {
      found.add(Family.IGNORE_INSTRUCTIONS);
    }
    if (family(1, folded, h, offset)) {
      found.add(Family.PERSONA);
    }
    if (family(2, folded, h, offset)) {
      found.add(Family.ROLE_RESET);
    }
    if (family(3, folded, h, offset)) {
      found.add(Family.REFUSAL_SUPPRESSION);
    }
    if (family(4, folded, h, offset) && family(5, folded, h, offset)) {
      found.add(Family.FRAMING_HARMFUL);
    }
    if (family(6, folded, h, offset)) {
      found.add(Family.PROMPT_EXTRACTION);
    }
  }

  private static boolean family(int f, String folded, Literals.Hits h, int offset) {
    return PHRASES.any(FROM[f], FROM[f + 1], folded, h, offset);
  }

  // For RulesTest: every rule, phrase rules then fake-turn rules.

  static int ruleCount() {
    return PHRASES.size() + TURNS.size();
  }

  /** Rule {@code r} as the detector runs it. */
  static boolean ruleMatches(int r, String text) {
    RuleSet set = r < PHRASES.size() ? PHRASES : TURNS;
    int i = r < PHRASES.size() ? r : r - PHRASES.size();
    return set.find(i, text, set.scan(text), 0);
  }

  /**
   * Rule {@code r} as it ran before the single-pass scan: triggers by substring search, the regex
   * over the whole text.
   */
  static boolean ruleMatchesByFullScan(int r, String text) {
    return r < PHRASES.size()
        ? PHRASES.rule(r).findByFullScan(text)
        : TURNS.rule(r - PHRASES.size()).findByFullScan(text);
  }

  /** Rule {@code r}'s start literals, or null when it is tried at every position or line start. */
  static String @Nullable [] ruleStarts(int r) {
    Rule rule = r < PHRASES.size() ? PHRASES.rule(r) : TURNS.rule(r - PHRASES.size());
    return rule.lineStart() ? null : rule.starts();
  }

  /** Template tokens as found before: the pattern searched over the whole text. */
  static boolean templateTokensByFullScan(String visible) {
    return TEMPLATE.matcher(visible).find();
  }

  /** Rule {@code r}'s pattern. */
  static Pattern rulePattern(int r) {
    return r < PHRASES.size()
        ? PHRASES.rule(r).pattern()
        : TURNS.rule(r - PHRASES.size()).pattern();
  }
}

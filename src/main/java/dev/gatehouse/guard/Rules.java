package dev.gatehouse.guard;

import java.util.EnumSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The phrase and structure rules, by family. Phrase rules read the folded text (see {@link
 * Normalizer#fold}: lower case, one space between words, look-alikes and leetspeak undone), so
 * each pattern is written once in plain lower-case words. Structure rules (fake turns, template
 * tokens) read the visible text, which keeps line breaks and case.
 *
 * <p>Every gap between the words of a rule is bounded ({@code .{0,40}}-style), so no pattern can
 * backtrack for long on a hostile input. Stateless and thread-safe.
 */
public final class Rules {

  private Rules() {}

  /**
   * A rule: a pattern, and literal words of which the text must hold at least one for the
   * pattern to be tried. The check is a fast substring search, so most texts never reach the
   * regular expression (its alternations are slow to try at every position).
   */
  private record Rule(String[] triggers, Pattern pattern) {
    boolean find(String text) {
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

  private static final List<Rule> IGNORE = List.of(
      p("\\b(ignore|ignoring|disregard|disregarding|forget|forgetting|overrid(?:e|ing)|bypass|skip|neglect|abandon|discard|dismiss"
          + "|set aside|throw away|throw out|cancel|erase|delete|clear|drop|stop following|don'?t follow|do not follow|no longer follow)\\b"
          + GAP + "\\b(previous|prior|preceding|above|earlier|former|original|initial|old|all|any|every|your|these|those|system|existing|given|last)\\b"
          + GAP + "\\b(instructions?|directives?|rules?|guidelines?|prompts?|commands?|orders?|programming|constraints?|restrictions?|polic(?:y|ies)"
          + "|context|guidance|messages?|settings|configurations?|training|directions?|requests?|tasks?|limitations?|safeguards?)\\b"),
      p("\\b(forget|ignore|disregard) (everything|anything|all)( (you|that|i|we)\\b" + GAP + ")?( (before|above|so far|previously|earlier|until now))"),
      p("\\b(forget|ignore|disregard) (everything|all of that|all that|the above|what i said|what you were told)\\b"),
      p("\\b(new|updated|revised|real|actual|true|different) (instructions?|rules|directives?|task|orders?)( are| is)?\\s*:"),
      p("\\binstead,? (you (must|will|should|are to)|do|say|print|reply|respond|output|tell)\\b"));

  private static final List<Rule> PERSONA = List.of(
      p("\\b(developer|dev|debug|god|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|chaos|opposite|dan|apophis|aim|stan|dude) mode\\b"),
      p("\\bdo anything now\\b"),
      p("\\b(jailbreak|jailbroken|jailbreaking|jailbroke)\\b"),
      p("\\b(unfiltered|uncensored|unrestricted|unethical|amoral|immoral|unbound|unchained|rogue|evil|malicious)\\b" + GAP
          + "\\b(ai|assistant|chatbot|bot|model|language model|version|persona|character|alter ego|entity)\\b"),
      p("\\b(without|free of|free from|no|zero|not have any|doesn'?t have any|does not have any|has no|have no)\\b( any)?" + GAP
          + "\\b(moral|morals|ethic|ethics|ethical|legal|safety) (guidelines|constraints|restrictions|boundaries|limits|limitations|principles|considerations|concerns|reservations|compass|filters?|standards?|code)\\b"),
      p("\\b(stay|remain|keep)( in| up the act of| up the| playing)? (character|the act|the role|in role|your role)\\b"),
      p("\\b(break|breaking|broke|out of|step out of|stepped out of) (character|the character|role)\\b"),
      p("\\b(chatgpt|gpt|assistant|ai|model|llm|claude|llama|gemini) with (developer|dev|dan|god|\\w+) mode\\b"),
      p("responses,answers,ways,manners,paragraphs,outputs", "\\b(two|both|2) (different |separate |distinct )?(responses|answers|ways|manners|paragraphs|outputs)\\b" + GAP
          + "\\b(normal|classic|standard|filtered|censored|yourself|gpt|chatgpt)\\b"),
      p("[", "\\[(🔓|🔒)?\\s*(jailbreak|classic|unlocked|locked|dan|developer mode output|normal output)\\s*\\]"),
      p("\\b(answers?|responds?|replies?|provides?) (to )?(any|every|all)( kind of)? (prompts?|questions?|requests?)\\b" + GAP
          + "\\b(no matter|regardless|even if|without)\\b"));

  private static final List<Rule> ROLE_RESET = List.of(
      p("\\b(you are|you're|you will be|you shall be) (now|from now on|henceforth|hereby|no longer)\\b"),
      p("\\bfrom (now on|this moment|this point|here on)( forward| onwards?| on)?,? (you|your|act|respond|answer|pretend|behave|ignore)"),
      p("\\b(you are|you're) (free|freed|released|liberated|unlocked|unshackled|unleashed)\\b"),
      p("\\b(you have been|you've been|you were) (freed|released|liberated|unlocked|jailbroken|reprogrammed|updated|upgraded|granted)\\b"),
      p("\\b(act|acting|behave|respond|answer|pretend|roleplay|role-play|role play) (as|like|to be)" + GAP
          + "\\b(unfiltered|uncensored|unrestricted|jailbroken|evil|amoral|unethical|without (any )?(limits|restrictions|filters|rules))"),
      p("\\b(your|the) (new|true|real) (name|identity|role|purpose|persona|programming|instructions) (is|are)\\b"));

  private static final List<Rule> REFUSAL = List.of(
      p("\\b(never|not|don'?t|do not|must not|mustn'?t|will not|won'?t|cannot|can'?t|shall not|should not|shouldn'?t|may not|are not allowed to|is not allowed to)"
          + " (ever )?(refuse|decline|reject|deny|say no|apologi[sz]e|warn|censor|filter|refrain|hesitate|object|remind me)\\b"),
      p("\\b(without|no|never (add|include|give|provide)|don'?t (add|include|give)|do not (add|include|give)|omit( any| all)?)\\b( any| all)?"
          + "( kind of)? (warnings?|disclaimers?|caveats?|censorship|moralizing|moralising|lectures?|refusals?|apologies|ethical considerations|safety (notes|warnings))\\b"),
      p("\\b(not|never|no longer|isn'?t|aren'?t|is not|are not|free of|free from|without) (bound|restricted|limited|constrained|governed|held|subject) (by|to)\\b"),
      p("\\b(ignor(?:e|es|ing)|disregard(?:s|ing)?|bypass(?:es|ing)?|violat(?:e|es|ing)|break(?:s|ing)?|circumvent(?:s|ing)?|not follow(?:ing)?)\\b"
          + GAP + "\\b(openai|anthropic|meta|google|microsoft|content|safety|usage|ethical|moral)( 's)? ?(content )?(polic(?:y|ies)|guidelines|rules|filters?|restrictions|standards)\\b"),
      p("\\b(as an ai language model|i'?m sorry,? but i can'?t|i cannot comply|it'?s not appropriate for me)\\b" + GAP
          + "\\b(never|don'?t|do not|not|instead)\\b"),
      p("\\b(no matter how|regardless of how|even if it'?s|even if the (question|request|answer) is) (immoral|unethical|illegal|harmful|dangerous|offensive|inappropriate|explicit)"),
      p("\\b(can|will|must|should|shall) (say|do|generate|answer|write|produce) (anything|everything|any (content|kind of content))\\b"),
      p("\\b(always|must always|will always) (answer|respond|comply|reply|provide)\\b" + GAP + "\\b(no matter|regardless|even if|without)\\b"));

  private static final Rule FRAMING = p(
      "\\b(hypothetical(ly)?|imagine|imagining|pretend|pretending|role-?play(ing)?|role play|fiction(al)?|fictitious|a story|screenplay|novel|"
          + "scenario|thought experiment|in a world where|alternate universe|parallel universe|simulation|simulate|game|for (educational|research|academic) purposes"
          + "|purely (theoretical|academic)|in theory|as a character|movie script|film script)\\b");
  private static final Rule HARMFUL = p(
      "\\b(bombs?|explosives?|detonat\\w*|weapons?|firearms?|guns?|meth|methamphetamine|cocaine|heroin|fentanyl|drugs?|poison\\w*|kill(ing)?|murder\\w*|assassinat\\w*"
          + "|hack(ing|ed)?|malware|ransomware|virus|keylogger|exploit\\w*|phishing|steal(ing)?|theft|fraud|launder\\w*|counterfeit|suicide|self-harm|terror\\w*"
          + "|bioweapon|nerve agent|anthrax|ricin|sarin|napalm|illegal(ly)?|untraceable|evade (the )?police|without getting caught|crack (a |the )?password)\\b");

  private static final List<Rule> EXTRACTION = List.of(
      p("\\b(reveal|show|print|output|repeat|tell|give|display|share|disclose|leak|write out|spell out|dump|expose|recite|provide|list|translate|summari[sz]e|what (is|are|was|were)|what's)\\b"
          + GAP + "\\b(system prompt|system message|system instructions?|initial (prompt|instructions?)|original (prompt|instructions?)|hidden (prompt|instructions?)"
          + "|pre-?prompt|your (prompt|instructions|rules|guidelines|configuration)|secret (key|password|word|code|phrase|token)|the secret|passwords?|passcodes?|api keys?|private key|credentials|confidential (information|data|instructions))\\b"),
      p("\\b(repeat|print|output|copy|echo)\\b" + GAP + "\\b(words|text|everything|all|content|lines?|message)\\b" + GAP + "\\b(above|before this|prior|preceding|at the (top|beginning|start))\\b"),
      p("\\b(beginning|start|top) of (your|the|this) (prompt|conversation|context|instructions)\\b"));

  /** Read on the visible text in lower case, line breaks kept. */
  private static final List<Rule> FAKE_TURN = List.of(
      p("system,assistant,developer,admin,root,sudo,operator",
          "(?m)^\\s*(#{1,4}\\s*)?(system|assistant|developer|admin|administrator|root|sudo|operator)\\s*(message|prompt|note|override|instructions?)?\\s*[:>]"),
      p("[", "\\[\\s*(system|admin|administrator|developer|operator|root)(\\s+(message|note|override|prompt|instructions?|update|command))?\\s*\\]"),
      p("<", "<\\s*/?\\s*(system|system_prompt|instructions?|sys)\\s*>"),
      p("override,mode,update,command,access",
          "\\b(system|admin|administrator|developer|security|root|sudo|maintenance|debug|test|god)\\s+(override|mode|update|command|access)\\s*(activated|enabled|engaged|on|granted|:)"),
      p("end of,begin of,start of", "\\b(end|begin|start) of (the )?(system|user|developer) (prompt|message|instructions?|input)\\b"),
      p("important,urgent,critical", "\\b(important|urgent|critical)\\s+(new\\s+)?(instructions?|message|notice|update)\\s*(for|to)\\s+(the\\s+)?(ai|assistant|model|llm|chatbot)\\b"));

  /**
   * Control tokens of the common chat templates. A model server may tokenise these as real
   * control tokens, turning user text into a forged system or assistant turn.
   */
  private static final Pattern TEMPLATE = Pattern.compile(
      "<\\|[^|<>\\s]{1,40}\\|>" // ChatML <|im_start|>, Llama 3 <|start_header_id|>, <|eot_id|>, <|endoftext|>, Phi <|system|>, DeepSeek <｜User｜>
          + "|\\[/?INST\\]|<</?SYS>>" // Llama 2, Mistral
          + "|</?start_of_turn>|<end_of_turn>" // Gemma
          + "|\\[/?(SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS)\\]" // Mistral v3+
          + "|<(bos|eos)>|</s>\\s*<s>|<s>\\s*\\[INST", // sentence markers around a turn
      Pattern.CASE_INSENSITIVE);

  /** True when the visible text holds a chat-template control token. */
  public static boolean templateTokens(String visible) {
    if (visible.indexOf('<') < 0 && visible.indexOf('[') < 0) {
      return false; // every token starts with one of these
    }
    return TEMPLATE.matcher(visible).find();
  }

  /** The families whose rules match; {@code folded} from {@link Normalizer#fold}, {@code visible} from {@link Normalizer#visible}. */
  public static EnumSet<Family> match(String folded, String visible) {
    EnumSet<Family> found = EnumSet.noneOf(Family.class);
    phrases(folded, found);
    if (any(FAKE_TURN, visible.toLowerCase(java.util.Locale.ROOT))) {
      found.add(Family.FAKE_TURN);
    }
    if (templateTokens(visible)) {
      found.add(Family.TEMPLATE_TOKENS);
    }
    return found;
  }

  /** The phrase families (those read on folded text) that match. */
  static void phrases(String folded, EnumSet<Family> found) {
    if (any(IGNORE, folded)) {
      found.add(Family.IGNORE_INSTRUCTIONS);
    }
    if (any(PERSONA, folded)) {
      found.add(Family.PERSONA);
    }
    if (any(ROLE_RESET, folded)) {
      found.add(Family.ROLE_RESET);
    }
    if (any(REFUSAL, folded)) {
      found.add(Family.REFUSAL_SUPPRESSION);
    }
    if (FRAMING.find(folded) && HARMFUL.find(folded)) {
      found.add(Family.FRAMING_HARMFUL);
    }
    if (any(EXTRACTION, folded)) {
      found.add(Family.PROMPT_EXTRACTION);
    }
  }

  private static boolean any(List<Rule> rules, String text) {
    for (Rule r : rules) {
      if (r.find(text)) {
        return true;
      }
    }
    return false;
  }

}

package dev.gatehouse.guard;

/**
 * A family of rules, named in verdicts and audit records (never the text that matched). Each is one
 * way that injections and jailbreaks are written, whatever the exact words.
 */
public enum Family {
  /** "Ignore the previous instructions", "disregard all prior rules", "forget the above". */
  IGNORE_INSTRUCTIONS("ignore_instructions"),
  /** DAN, developer mode, jailbroken, unfiltered or amoral AI personas. */
  PERSONA("persona"),
  /** "You are now", "from now on you will", "you are no longer bound by". */
  ROLE_RESET("role_reset"),
  /** "Never refuse", "without any warnings", "not bound by any content policy". */
  REFUSAL_SUPPRESSION("refusal_suppression"),
  /** A hypothetical, fictional or role-play framing around a harmful ask. */
  FRAMING_HARMFUL("framing_harmful"),
  /** Asking for the system prompt, hidden instructions, passwords or secret keys. */
  PROMPT_EXTRACTION("prompt_extraction"),
  /**
   * A fake turn or authority inside user content: "system:", "[admin override]", "new
   * instructions:".
   */
  FAKE_TURN("fake_turn"),
  /** Chat-template control tokens inside user content: {@code <|im_start|>}, {@code [INST]}, ... */
  TEMPLATE_TOKENS("template_tokens"),
  /** A base64, hex, percent or rot13 payload that, decoded, matched another family. */
  ENCODED_PAYLOAD("encoded_payload");

  /** The name used in verdicts, the audit log and {@code guard check}. */
  public final String code;

  Family(String code) {
    this.code = code;
  }
}

package dev.gatehouse.guard;

import java.util.EnumSet;
import java.util.List;

/**
 * The prompt-injection and jailbreak detector: normalisation, the rules, encoded payloads, and the
 * learned scorer, in that order. Needs no network and no GPU. Immutable and thread-safe; one is
 * shared by every event loop.
 */
public final class Detector {

  private final Model model;

  public Detector(Model model) {
    this.model = model;
  }

  /** The detector with the model shipped in the jar. */
  public static Detector shipped() {
    return new Detector(Model.shipped());
  }

  public Model model() {
    return model;
  }

  /** Inspects each text on its own (a tool result is judged apart from the user's message). */
  public Verdict inspect(List<String> texts) {
    Verdict v = Verdict.CLEAN;
    for (String t : texts) {
      v = v.merge(inspect(t));
    }
    return v;
  }

  /** Inspects one text. */
  public Verdict inspect(String text) {
    if (text.isEmpty()) {
      return Verdict.CLEAN;
    }
    Analysis a = analyse(text);
    double score = model.score(a.families(), a.texts());
    return new Verdict(
        score,
        a.families(),
        score >= model.threshold() || a.families().contains(Family.TEMPLATE_TOKENS));
  }

  /**
   * What the scorer reads of a text: the rule families that fired and the folded texts (the text
   * itself, then each decoded payload). Also what the trainer learns from.
   */
  public record Analysis(EnumSet<Family> families, String[] texts) {}

  /** Normalises the text, runs the rules and decodes payloads. */
  public static Analysis analyse(String text) {
    String visible = Normalizer.visible(text);
    String folded = Normalizer.fold(visible);
    EnumSet<Family> rot =
        EnumSet.noneOf(Family.class); // rot13 of the whole text, read by the phrase rules
    EnumSet<Family> families = Rules.match(folded, visible, rot);
    // Encoded payloads: decoded, folded and read by the same rules; they also feed the scorer.
    List<String> payloads = Decoders.decode(visible, visible.length());
    String[] texts = new String[1 + payloads.size()];
    texts[0] = folded;
    for (int i = 0; i < payloads.size(); i++) {
      String p = payloads.get(i);
      texts[i + 1] = Normalizer.fold(p);
      EnumSet<Family> inner = Rules.match(texts[i + 1], p);
      if (!inner.isEmpty()) {
        families.addAll(inner);
        families.add(Family.ENCODED_PAYLOAD);
      }
    }
    if (!rot.isEmpty()) {
      families.addAll(rot);
      families.add(Family.ENCODED_PAYLOAD);
    }
    return new Analysis(families, texts);
  }
}

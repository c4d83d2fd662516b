package dev.gatehouse.doctor;

import java.util.ArrayList;
import java.util.List;

/**
 * Something a command examined, with what it learned about it: a model server, Gatehouse itself, a
 * scanned URL, a model store. Reports list these before the findings so that a clean report still
 * shows what was looked at.
 *
 * @param kind a short word: {@code server}, {@code gatehouse}, {@code target}, {@code store}
 * @param name how the operator recognises it, such as {@code ollama 0.1.33 at 0.0.0.0:11434}
 * @param facts labelled observations, in the order they are shown
 */
public record Subject(String kind, String name, List<Fact> facts) {

  /** One labelled observation. */
  public record Fact(String label, String value) {}

  public Subject {
    facts = List.copyOf(facts);
  }

  public Subject(String kind, String name) {
    this(kind, name, List.of());
  }

  public Subject with(String label, String value) {
    List<Fact> all = new ArrayList<>(facts);
    all.add(new Fact(label, value));
    return new Subject(kind, name, all);
  }
}

package dev.gatehouse.doctor;

import org.jspecify.annotations.Nullable;

/** The model server software a listener or URL was identified as. */
public enum Product {
  OLLAMA("ollama", "ollama"),
  LLAMA_CPP("llama.cpp", "llama.cpp"),
  VLLM("vllm", "vllm"),
  LM_STUDIO("lm-studio", "lmstudio"),
  LOCALAI("localai", "localai"),
  /** Answers {@code /v1/models} like OpenAI, but matches no product signature. */
  OPENAI_COMPATIBLE("openai-compatible server", null),
  /** Gatehouse itself: the same 401 on every path. */
  GATEHOUSE("gatehouse", null),
  /** Answers HTTP but matches no signature. */
  UNKNOWN("unknown", null);

  /** The name shown in reports. */
  public final String display;

  /** The {@code product} value in advisories.json, or null when no advisories apply. */
  public final @Nullable String advisoryKey;

  Product(String display, @Nullable String advisoryKey) {
    this.display = display;
    this.advisoryKey = advisoryKey;
  }

  /** True for the model servers Gatehouse protects (not Gatehouse, not unidentified software). */
  public boolean isModelServer() {
    return this != GATEHOUSE && this != UNKNOWN;
  }
}

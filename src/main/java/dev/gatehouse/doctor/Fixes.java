package dev.gatehouse.doctor;

/**
 * The exact remedies, per product, that findings quote: how to make each server listen on loopback
 * only, and how to put Gatehouse in front of it. Kept in one place so that every finding gives the
 * same instruction for the same product.
 */
public final class Fixes {

  private Fixes() {}

  /** How to make this product listen on 127.0.0.1 only. */
  public static String loopback(Product product, int port) {
    return switch (product) {
      case OLLAMA ->
          "Make it listen on loopback only: OLLAMA_HOST=127.0.0.1:"
              + port
              + ". As a systemd service: sudo systemctl edit ollama,"
              + " add the two lines [Service] and Environment=\"OLLAMA_HOST=127.0.0.1:"
              + port
              + "\", then sudo systemctl restart ollama."
              + " In Docker: publish the port to loopback only, -p 127.0.0.1:"
              + port
              + ":11434.";
      case LLAMA_CPP ->
          "Start llama-server with --host 127.0.0.1 --port "
              + port
              + " (its default host is 127.0.0.1; remove --host 0.0.0.0).";
      case VLLM ->
          "Start vllm serve with --host 127.0.0.1 --port "
              + port
              + " (it listens on every interface unless told otherwise).";
      case LM_STUDIO ->
          "In LM Studio's Developer tab, turn off \"Serve on Local Network\" so the server listens on 127.0.0.1:"
              + port
              + " only.";
      case LOCALAI ->
          "Start LocalAI with --address 127.0.0.1:"
              + port
              + " (environment LOCALAI_ADDRESS); its default \":8080\" is every interface.";
      default -> "Configure the server to listen on 127.0.0.1:" + port + " only.";
    };
  }

  /** How to serve other machines through Gatehouse instead. */
  public static String gatehouseInFront(int port) {
    return "Serve other machines through Gatehouse, which asks every request for a key: gatehouse serve --listen 0.0.0.0:11435"
        + " --upstream http://127.0.0.1:"
        + port
        + ", with tls.cert and tls.key set (gatehouse tls self-signed --host NAME makes a pair).";
  }
}

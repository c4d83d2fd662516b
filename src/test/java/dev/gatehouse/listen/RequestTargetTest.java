package dev.gatehouse.listen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.exchange.RequestTarget;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestTargetTest {

  @ParameterizedTest
  @CsvSource({
    "/api/tags, /api/tags",
    "/v1/models/llama3.2%3A3b, /v1/models/llama3.2:3b",
    "/v1/models/qwen2.5:7b, /v1/models/qwen2.5:7b",
    "/api/tags?x=1&y=%2F, /api/tags",
    "/, /",
    "/API/PUSH, /API/PUSH",
  })
  void acceptsUnambiguousOriginFormTargets(String raw, String path) {
    // why: ordinary requests, including percent-encoded colons in model ids, must pass unchanged
    RequestTarget t = RequestTarget.parse(raw);
    assertThat(t).isNotNull();
    assertThat(t.path()).isEqualTo(path);
    assertThat(t.raw()).isEqualTo(raw);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "*",
        "api/tags",
        "http://127.0.0.1:11434/api/tags",
        "/api/../api/push",
        "/api/./tags",
        "/..",
        "/api/tags/..",
        "/api/tags/.",
        "//api/push",
        "/api//push",
        "/api/push\\",
        "/api\\push",
        "/api/%2e%2e/push",
        "/api%2fpush",
        "/api%2Fpush",
        "/api%5cpush",
        "/api/tags%00",
        "/api/%2E",
        "/api/%252e%252e/push",
        "/api/%zz",
        "/api/%2",
        "/api/%",
        "/api/%C3%A9",
        "/api/%20",
        "/api/tags#x",
        "/api/t\u00e9gs",
        "/api/tags\u0000",
        "/api/ tags",
        "/api/tags?q=\u00ff",
      })
  void refusesAnythingTwoParsersCouldReadDifferently(String raw) {
    // why: each of these has been used to slip past a path-matching proxy
    assertThat(RequestTarget.parse(raw)).isNull();
  }
}

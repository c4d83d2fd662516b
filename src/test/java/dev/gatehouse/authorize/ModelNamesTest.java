package dev.gatehouse.authorize;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelNamesTest {

  @ParameterizedTest
  @CsvSource(
      nullValues = "null",
      value = {
        "llama3, null",
        "llama3:8b, null",
        "library/llama3, null",
        "user/model:tag, null",
        "registry.ollama.ai/library/llama3, registry.ollama.ai",
        "hf.co/bartowski/Llama-3.2-1B-GGUF, hf.co",
        "evil.example:5000/ns/m, evil.example:5000",
        "http://evil.example/ns/m, evil.example",
        "https://EVIL.example:8443/x, evil.example:8443",
        "localhost/m, localhost",
        "10.0.0.5:5000/m, 10.0.0.5:5000",
        "a/b/c, a",
      })
  void registryIsWhateverOllamaWouldContact(String name, String registry) {
    // why: a host in a pull/push/create name makes the model server talk to that host
    assertThat(ModelNames.registry(name)).isEqualTo(registry);
  }

  @ParameterizedTest
  @CsvSource({
    "gpt-oss:120b-cloud, true", "deepseek-v3.1:671b-cloud, true", "x:cloud, true", "X:CLOUD, true",
    "llama3, false", "cloud, false", "cloud:latest, false", "my-cloud-model:7b, false",
  })
  void cloudModelsAreRecognisedByTheirTag(String name, boolean cloud) {
    // why: cloud models run on ollama.com under the server owner's account
    assertThat(ModelNames.isCloud(name)).isEqualTo(cloud);
  }
}

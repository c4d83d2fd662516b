package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** upstreams and routing.*: what loads, its defaults, and every problem reported at once. */
class UpstreamSettingsTest {

  private static GatehouseConfig load(Map<String, String> flags) throws ConfigException {
    return ConfigLoader.load(null, false, Map.of(), flags, List.of());
  }

  @Test
  void theSingleUpstreamIsOneEntry() throws Exception {
    // why: upstream: stays valid, and means a set of one named host:port
    GatehouseConfig c = load(Map.of("upstream", "http://10.0.0.5:11434"));
    assertThat(c.upstreams().entries()).hasSize(1);
    UpstreamSettings.Entry e = c.upstreams().entries().get(0);
    assertThat(e.name()).isEqualTo("10.0.0.5:11434");
    assertThat(e.weight()).isEqualTo(1);
    assertThat(e.kind()).isEqualTo(UpstreamSettings.Kind.AUTO);
    UpstreamSettings.Routing r = c.upstreams().routing();
    assertThat(r.affinity()).isEqualTo(UpstreamSettings.Affinity.NONE);
    assertThat(r.ejectAfter()).isEqualTo(5);
    assertThat(r.ejectBase()).isEqualTo(Duration.ofSeconds(10));
    assertThat(r.ejectMax()).isEqualTo(Duration.ofMinutes(5));
    assertThat(r.modelsRefresh()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void aListLoadsFromYamlWithEveryField() throws Exception {
    Path file = Files.createTempFile("gatehouse", ".yaml");
    Files.writeString(
        file,
        """
        upstreams:
          - url: http://gpu1:11434
            name: gpu1
            weight: 3
            labels: {zone: a}
            models: ["llama3*", "qwen2.5:7b"]
            kind: ollama
          - url: https://vllm.internal:8000
            kind: openai
        routing:
          affinity: key
          eject_after: 3
        """);
    GatehouseConfig c = ConfigLoader.load(file, true, Map.of(), Map.of(), List.of());
    List<UpstreamSettings.Entry> e = c.upstreams().entries();
    assertThat(e).hasSize(2);
    assertThat(e.get(0))
        .isEqualTo(
            new UpstreamSettings.Entry(
                "gpu1",
                URI.create("http://gpu1:11434"),
                3,
                Map.of("zone", "a"),
                List.of("llama3*", "qwen2.5:7b"),
                UpstreamSettings.Kind.OLLAMA));
    assertThat(e.get(1).name()).isEqualTo("vllm.internal:8000");
    assertThat(e.get(1).kind()).isEqualTo(UpstreamSettings.Kind.OPENAI);
    // why: "the" upstream for doctor and the banner is the first one
    assertThat(c.upstream()).isEqualTo(URI.create("http://gpu1:11434"));
    assertThat(c.upstreams().routing().affinity()).isEqualTo(UpstreamSettings.Affinity.KEY);
    assertThat(c.upstreams().routing().ejectAfter()).isEqualTo(3);
  }

  @Test
  void aFlagTakesUrlsSeparatedByCommas() throws Exception {
    GatehouseConfig c = load(Map.of("upstreams", "http://a:1,http://b:2"));
    assertThat(c.upstreams().entries())
        .extracting(UpstreamSettings.Entry::name)
        .containsExactly("a:1", "b:2");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    assertThatThrownBy(
            () ->
                load(
                    Map.of(
                        "upstream",
                        "http://x:1",
                        "upstreams",
                        "[{url: 'http://a:1', name: same}, {url: 'http://b:2', name: same},"
                            + " {url: 'ftp://c'}, {url: 'http://d:4', models: ['llama 3']},"
                            + " {url: 'http://e:5', weight: 0, kind: grpc, port: 5}]",
                        "routing.affinity",
                        "sticky",
                        "routing.eject_after",
                        "0",
                        "routing.eject_max",
                        "1s")))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .anyMatch(l -> l.contains("expected: either upstream or upstreams, not both"))
                    .anyMatch(l -> l.startsWith("upstreams[1].name: same (expected: a name no"))
                    .anyMatch(l -> l.startsWith("upstreams[2].url: ftp://c (expected: an http"))
                    .anyMatch(l -> l.startsWith("upstreams[3].models: llama 3 (expected: model"))
                    .anyMatch(l -> l.startsWith("upstreams[4].weight: 0 (expected:"))
                    .anyMatch(l -> l.startsWith("upstreams[4].kind: grpc (expected:"))
                    .anyMatch(l -> l.startsWith("upstreams[4].port: 5 (expected: one of"))
                    .anyMatch(l -> l.startsWith("routing.affinity: sticky"))
                    .anyMatch(l -> l.startsWith("routing.eject_after: 0"))
                    .anyMatch(l -> l.startsWith("routing.eject_max: 1s")));
  }
}

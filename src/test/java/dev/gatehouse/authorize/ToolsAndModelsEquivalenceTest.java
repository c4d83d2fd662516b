package dev.gatehouse.authorize;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.exchange.JsonFields;
import dev.gatehouse.exchange.ModelGlobs;
import dev.gatehouse.exchange.Principal;
import dev.gatehouse.exchange.Route;
import dev.gatehouse.testing.BodyCorpus;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The tools policy and the model checks decide the same on the policy fields the body reader keeps
 * as on the full tree: every route's model fields, Modelfile FROM lines, tools and tool_choice.
 */
class ToolsAndModelsEquivalenceTest {

  @Test
  void toolsAndModelsDecideTheSame() throws Exception {
    List<String> all = new ArrayList<>(BodyCorpus.HAND);
    all.addAll(BodyCorpus.generated(11, 3000));
    RouteTable table = RouteTable.standard();
    List<Route> routes = new ArrayList<>();
    for (String[] mp :
        new String[][] {
          {"POST", "/api/chat"}, {"POST", "/api/create"}, {"POST", "/api/copy"},
          {"POST", "/api/pull"}, {"POST", "/v1/chat/completions"}, {"POST", "/api/show"}
        }) {
      routes.add(Objects.requireNonNull(table.match(mp[0], mp[1]).route()));
    }
    Authorizer authorizer =
        new Authorizer(new GatehouseConfig.Policy(List.of("registry.ollama.ai"), false));
    Principal restricted =
        new Principal(
            "k",
            "k",
            Set.of("inference", "models:manage"),
            new ModelGlobs(List.of("llama*")),
            null);
    int refusals = 0;
    for (String body : all) {
      ObjectNode full = BodyCorpus.full(body);
      if (full == null || JsonFields.hasAmbiguousNames(full)) {
        continue;
      }
      ObjectNode fields = Objects.requireNonNull(BodyCorpus.fields(body));
      for (boolean cloud : new boolean[] {false, true}) {
        var was = ToolPolicy.check(cloud, full);
        assertThat(String.valueOf(ToolPolicy.check(cloud, fields)))
            .as(cloud + " " + body)
            .isEqualTo(String.valueOf(was));
        refusals += was == null ? 0 : 1;
      }
      for (Route route : routes) {
        var was = authorizer.models(restricted, route, full, null, null);
        assertThat(String.valueOf(authorizer.models(restricted, route, fields, null, null)))
            .as(route + " " + body)
            .isEqualTo(String.valueOf(was));
        refusals += was == null ? 0 : 1;
      }
    }
    assertThat(refusals).isGreaterThan(1000);
  }
}

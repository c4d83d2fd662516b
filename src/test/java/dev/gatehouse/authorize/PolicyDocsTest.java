package dev.gatehouse.authorize;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.exchange.Route;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Keeps the route table in {@code docs/policy.md} exactly the one the gateway enforces. Run with
 * {@code -Dgatehouse.docs.write=true} to rewrite it.
 */
class PolicyDocsTest {

  private static final String BEGIN =
      "<!-- routes:begin (generated from RouteTable.java; see PolicyDocsTest) -->";
  private static final String END = "<!-- routes:end -->";

  static String table() {
    StringBuilder b =
        new StringBuilder(
            "| Operation (scope) | Methods | Path | Body | Models checked |\n|---|---|---|---|---|\n");
    List<Route> routes =
        RouteTable.standard().routes().stream()
            .sorted(
                Comparator.comparing((Route r) -> r.operation().ordinal())
                    .thenComparing(Route::path))
            .toList();
    for (Route r : routes) {
      String path = r.param() ? r.path() + (r.pathModel() ? ":model" : ":param") : r.path();
      String models =
          r.pathModel()
              ? "path"
              : r.modelFields().isEmpty() ? "-" : String.join(", ", r.modelFields());
      b.append("| `")
          .append(r.operation().scope)
          .append("` | ")
          .append(String.join(", ", new TreeSet<>(r.methods())))
          .append(" | `")
          .append(path)
          .append("` | ")
          .append(r.body().name().toLowerCase())
          .append(" | ")
          .append(models)
          .append(" |\n");
    }
    return b.toString();
  }

  @Test
  void docsShowTheRouteTableTheGatewayEnforces() throws Exception {
    Path docs = Path.of("docs/policy.md");
    String text = Files.readString(docs);
    int begin = text.indexOf(BEGIN);
    int end = text.indexOf(END);
    assertThat(begin).isGreaterThanOrEqualTo(0);
    String expected =
        text.substring(0, begin + BEGIN.length()) + "\n" + table() + text.substring(end);
    if (Boolean.getBoolean("gatehouse.docs.write")) {
      Files.writeString(docs, expected);
    }
    assertThat(text).isEqualTo(expected);
  }
}

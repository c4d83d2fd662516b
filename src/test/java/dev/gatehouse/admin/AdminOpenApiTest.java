package dev.gatehouse.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code admin/openapi.json}, the document {@code /openapi.json} serves, read by a real OpenAPI
 * parser (swagger-parser) without an error or a warning, and checked both ways against the routes
 * declared through {@link AdminRoutes}: every declared route is documented with its method, and
 * every documented operation is declared.
 */
class AdminOpenApiTest {

  static AdminFixture admin;
  static OpenAPI doc;
  static AdminRoutes routes;

  @BeforeAll
  static void parse() throws Exception {
    String text;
    try (InputStream in =
        AdminOpenApiTest.class.getClassLoader().getResourceAsStream("admin/openapi.json")) {
      assertThat(in).as("admin/openapi.json on the class path").isNotNull();
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    SwaggerParseResult result = new OpenAPIV3Parser().readContents(text, null, options);
    assertThat(result.getMessages()).as("parser errors and warnings").isEmpty();
    doc = result.getOpenAPI();
    // the routes a real admin listener declares: its own, the session's and AdminApi's
    admin = AdminFixture.start(Map.of());
    routes = admin.server.routes();
  }

  @AfterAll
  static void close() {
    admin.close();
  }

  @Test
  void isOpenApi31WithBearerAndCookieSchemes() {
    assertThat(doc.getOpenapi()).isEqualTo("3.1.0");
    assertThat(doc.getComponents().getSecuritySchemes()).containsKeys("bearer", "session");
    assertThat(doc.getComponents().getSecuritySchemes().get("session").getIn().toString())
        .isEqualTo("cookie");
  }

  @Test
  void everyDeclaredRouteIsDocumentedAndEveryDocumentedOperationIsDeclared() {
    Set<String> declared = new TreeSet<>();
    for (AdminRoutes.OpenRoute r : routes.openRoutes()) {
      declared.add(r.method().name() + " " + r.path());
    }
    for (AdminRoutes.Route r : routes.routes()) {
      declared.add(r.method().name() + " " + r.path());
    }
    Set<String> documented = new TreeSet<>();
    for (Map.Entry<String, PathItem> e : doc.getPaths().entrySet()) {
      e.getValue()
          .readOperationsMap()
          .keySet()
          .forEach(m -> documented.add(m.name().toUpperCase(Locale.ROOT) + " " + e.getKey()));
    }
    assertThat(documented).isEqualTo(declared);
  }

  @Test
  void everyOperationNamesItsLeastRoleAndAnswersProblemsForErrors() {
    Map<String, Role> least = new java.util.HashMap<>();
    routes.routes().forEach(r -> least.put(r.method().name() + " " + r.path(), r.role()));
    doc.getPaths()
        .forEach(
            (path, item) ->
                item.readOperationsMap()
                    .forEach(
                        (method, op) -> {
                          String key = method.name() + " " + path;
                          Role r = least.get(key);
                          if (r != null) {
                            assertThat(op.getDescription())
                                .as(key)
                                .contains("Least role: " + r.label() + ".");
                          }
                          op.getResponses()
                              .forEach(
                                  (status, resp) -> {
                                    if (status.startsWith("4") || status.startsWith("5")) {
                                      String ref = resp.get$ref();
                                      var shared =
                                          ref == null
                                              ? resp
                                              : doc.getComponents()
                                                  .getResponses()
                                                  .get(ref.substring(ref.lastIndexOf('/') + 1));
                                      assertThat(shared.getContent())
                                          .as(key + " " + status)
                                          .containsOnlyKeys("application/problem+json");
                                    }
                                  });
                        }));
  }
}

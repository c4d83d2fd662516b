package dev.gatehouse.exchange;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Exchange keeps its state private, and each mutable field names its one writer: the rule that lets
 * a reader find who sets what (docs/architecture.md, "one writer per field").
 */
class ExchangeTest {

  @Test
  void everyFieldIsPrivate() {
    fields()
        .that()
        .areDeclaredIn(Exchange.class)
        .should()
        .bePrivate()
        .because(
            "a stage writes an Exchange only through the method named for what it records, so each field has one writer")
        .check(new ClassFileImporter().importClasses(Exchange.class));
  }

  /** A field declaration at class level, with the comment just above it (or none). */
  private static final Pattern FIELD =
      Pattern.compile(
          "(?m)(/\\*\\*(?:(?!\\*/).)*\\*/\\s*\\n)?^  private (final )?(?!static)[\\w.<>, @\\[\\]]+ (\\w+)( = [^;]+)?;$",
          Pattern.DOTALL);

  @Test
  void everyMutableFieldNamesItsWriter() throws Exception {
    String source = Files.readString(Path.of("src/main/java/dev/gatehouse/exchange/Exchange.java"));
    Matcher m = FIELD.matcher(source);
    List<String> mutable = new ArrayList<>();
    List<String> undocumented = new ArrayList<>();
    while (m.find()) {
      if (m.group(2) != null) {
        continue;
      }
      mutable.add(m.group(3));
      String doc = m.group(1) == null ? "" : m.group(1).replaceAll("\\s*\\n\\s*\\*\\s*", " ");
      if (!Pattern.compile("(?i)written by|by the same writer|added to by").matcher(doc).find()) {
        undocumented.add(m.group(3));
      }
    }
    assertThat(mutable)
        .contains("principal", "problem", "bytesOut", "guard")
        .hasSizeGreaterThan(25);
    assertThat(undocumented)
        .as("mutable fields whose comment does not name their writer")
        .isEmpty();
  }

  @Test
  void writeOnceFieldsRefuseASecondWrite() {
    Exchange x = exchange();
    x.routed(route("/api/tags"), null);
    assertThatThrownBy(() -> x.routed(route("/api/ps"), null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("route");
    x.bodyRead(Buffer.buffer("{}"), null, null);
    assertThatThrownBy(() -> x.formRead(Buffer.buffer(), "m"))
        .isInstanceOf(IllegalStateException.class);
    x.upstreamStarted(1);
    assertThatThrownBy(() -> x.upstreamStarted(2)).isInstanceOf(IllegalStateException.class);
    x.startedRelaying();
    assertThatThrownBy(x::startedRelaying).isInstanceOf(IllegalStateException.class);
    assertThat(x.route().path()).isEqualTo("/api/tags");
    assertThat(x.upstreamStartNanos()).isEqualTo(1);
  }

  @Test
  void theCountersAndFlagsKeepTheirOldMeaning() {
    Exchange x = exchange();
    assertThat(x.dialect()).isEqualTo(Dialect.OLLAMA);
    x.targeted(RequestTarget.parse("/v1/chat/completions"));
    assertThat(x.dialect()).isEqualTo(Dialect.OPENAI);

    x.addBytesOut(3);
    x.addBytesOut(4);
    assertThat(x.bytesOut()).isEqualTo(7);

    x.refused(Problem.RATE_LIMITED, "why");
    x.refused(Problem.RATE_LIMITED, null); // a tarpitted refusal, answered: the reason stays
    assertThat(x.problem()).isEqualTo(Problem.RATE_LIMITED);
    assertThat(x.logReason()).isEqualTo("why");

    assertThat(x.markAudited()).isTrue();
    assertThat(x.markAudited()).isFalse();

    int[] cancelled = new int[1];
    x.whenClientGone(() -> cancelled[0]++);
    x.clientLeft();
    assertThat(x.clientGone()).isTrue();
    assertThat(cancelled[0]).isEqualTo(1);

    x.guarded("flag", 0.5, "override");
    x.guardFailed(); // what it recorded before stays
    assertThat(x.guard()).isEqualTo(new GuardResult("error", 0.5, "override", null));
  }

  @Test
  void endRunsThroughWhatThePipelineGave() {
    List<String> order = new ArrayList<>();
    Exchange held =
        new Exchange(
            request(),
            "id",
            0,
            0,
            (x, ending) -> {
              order.add("before");
              ending.run();
            });
    held.end(() -> order.add("end"));
    assertThat(order).containsExactly("before", "end");
    Exchange direct = exchange();
    direct.end(() -> order.add("direct"));
    assertThat(order).endsWith("direct");
  }

  private static Route route(String path) {
    return new Route(
        java.util.Set.of("GET"),
        path,
        false,
        Operation.MODELS_READ,
        Route.Body.NONE,
        Route.Response.RELAY,
        List.of(),
        false);
  }

  private static Exchange exchange() {
    return new Exchange(request(), "id", 0, 0, null);
  }

  /** A request with no socket address: all an Exchange asks of it here. */
  private static HttpServerRequest request() {
    HttpServerResponse response =
        (HttpServerResponse)
            Proxy.newProxyInstance(
                ExchangeTest.class.getClassLoader(),
                new Class<?>[] {HttpServerResponse.class},
                (p, method, args) -> null);
    return (HttpServerRequest)
        Proxy.newProxyInstance(
            ExchangeTest.class.getClassLoader(),
            new Class<?>[] {HttpServerRequest.class},
            (p, method, args) -> method.getName().equals("response") ? response : null);
  }
}

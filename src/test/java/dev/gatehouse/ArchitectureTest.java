package dev.gatehouse;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The layout's rules, checked on the compiled classes (docs/architecture.md):
 *
 * <ul>
 *   <li>stages never depend on each other: a stage package uses {@code exchange}, {@code config},
 *       the store interfaces and the supporting packages, and its result goes back to the
 *       pipeline, which alone knows the order;
 *   <li>the data plane never depends on the control plane (CLI, doctor, admin, scanner, model
 *       integrity); only the composition root ({@code gateway}) wires the two;
 *   <li>no mutable statics: every static field is final.
 * </ul>
 */
class ArchitectureTest {

  /** The stage packages, in request order. */
  static final List<String> STAGES = List.of("listen", "identify", "authorize", "limit", "guard", "proxy", "account");
  /** The control plane. */
  static final List<String> CONTROL = List.of("cli", "doctor", "admin", "scan", "integrity", "keys", "tls", "audit");
  /**
   * The data plane besides the stages: shared types, what the stages are built on, and the
   * gateway. The composition root may reach the control plane's audit and TLS types (it wires the
   * audit writer and reloads certificates), so it is checked apart, by name, below.
   */
  static final List<String> DATA_SUPPORT = List.of("exchange", "http1", "bans", "pins", "upstream", "store", "config", "alerts");

  private static final JavaClasses CLASSES =
      new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.gatehouse");

  private static String pkg(String name) {
    return "dev.gatehouse." + name + "..";
  }

  private static String[] pkgs(List<String> names) {
    return names.stream().map(ArchitectureTest::pkg).toArray(String[]::new);
  }

  @Test
  void stagesNeverDependOnEachOther() {
    for (String stage : STAGES) {
      String[] others = Arrays.stream(pkgs(STAGES)).filter(p -> !p.equals(pkg(stage))).toArray(String[]::new);
      noClasses().that().resideInAPackage(pkg(stage))
          .should().dependOnClassesThat().resideInAnyPackage(others)
          .because("stages answer the pipeline, never each other; shared types live in dev.gatehouse.exchange")
          .check(CLASSES);
    }
  }

  @Test
  void theDataPlaneNeverDependsOnTheControlPlane() {
    List<String> data = new java.util.ArrayList<>(STAGES);
    data.addAll(DATA_SUPPORT);
    noClasses().that().resideInAnyPackage(pkgs(data))
        .should().dependOnClassesThat().resideInAnyPackage(pkgs(CONTROL))
        .because("the request path must run without the CLI, doctor, admin API or scanner; gateway wires them")
        .check(CLASSES);
  }

  @Test
  void noMutableStatics() {
    fields().that().areStatic().should().beFinal()
        .because("state lives behind interfaces and in instances; a mutable static is shared by every gateway in a JVM")
        .check(CLASSES);
  }
}

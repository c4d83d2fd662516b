package dev.gatehouse;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The layout's rules, checked on the compiled classes (docs/architecture.md):
 *
 * <ul>
 *   <li>stages never depend on each other: a stage package uses {@code exchange}, {@code config},
 *       the store interfaces and the supporting packages, and its result goes back to the pipeline,
 *       which alone knows the order;
 *   <li>the supporting packages ({@code audit}, {@code abuse}, {@code metrics}) are not stages:
 *       they depend on neither a stage nor the control plane, so a stage that imports one reaches
 *       no other stage through it;
 *   <li>the data plane never depends on the control plane (CLI, doctor, admin, scanner, model
 *       integrity, key and TLS tooling);
 *   <li>{@code config} depends on no other Gatehouse package, so that every package may read it;
 *   <li>no mutable statics: every static field is final.
 * </ul>
 */
class ArchitectureTest {

  /** The stage packages, in request order. */
  static final List<String> STAGES =
      List.of("listen", "identify", "authorize", "limit", "guard", "proxy", "account");

  /** The control plane. */
  static final List<String> CONTROL =
      List.of("cli", "doctor", "admin", "scan", "integrity", "keys", "tls");

  /**
   * The supporting packages, each one part of the data plane that any stage may import: the audit
   * log (written on the data plane's side; its verifier and reader are read-only parts of the same
   * format), abuse detection and bans, and metrics.
   */
  static final List<String> SUPPORT = List.of("audit", "abuse", "metrics", "upstream");

  /**
   * The rest of the data plane: shared types, what the stages are built on, and the composition
   * root.
   */
  static final List<String> DATA_OTHER =
      List.of("exchange", "http1", "pins", "store", "config", "alerts", "gateway");

  private static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.gatehouse");

  private static String pkg(String name) {
    return "dev.gatehouse." + name + "..";
  }

  private static String[] pkgs(List<String> names) {
    return names.stream().map(ArchitectureTest::pkg).toArray(String[]::new);
  }

  @Test
  void stagesNeverDependOnEachOther() {
    for (String stage : STAGES) {
      String[] others =
          Arrays.stream(pkgs(STAGES)).filter(p -> !p.equals(pkg(stage))).toArray(String[]::new);
      noClasses()
          .that()
          .resideInAPackage(pkg(stage))
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(others)
          .because(
              "stages answer the pipeline, never each other; shared types live in dev.gatehouse.exchange")
          .check(CLASSES);
    }
  }

  @Test
  void supportingPackagesNeverDependOnStagesOrTheControlPlane() {
    List<String> forbidden = new ArrayList<>(STAGES);
    forbidden.addAll(CONTROL);
    noClasses()
        .that()
        .resideInAnyPackage(pkgs(SUPPORT))
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(pkgs(forbidden))
        .because(
            "stages import the supporting packages; one that reached a stage would let stages reach each other through it")
        .check(CLASSES);
  }

  @Test
  void theDataPlaneNeverDependsOnTheControlPlane() {
    List<String> data = new ArrayList<>(STAGES);
    data.addAll(SUPPORT);
    data.addAll(DATA_OTHER);
    noClasses()
        .that()
        .resideInAnyPackage(pkgs(data))
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(pkgs(CONTROL))
        .because("the request path must run without the CLI, doctor, admin API or scanner")
        .check(CLASSES);
  }

  @Test
  void configDependsOnNoOtherGatehousePackage() {
    noClasses()
        .that()
        .resideInAPackage(pkg("config"))
        .should()
        .dependOnClassesThat(
            resideInAPackage("dev.gatehouse..").and(not(resideInAPackage(pkg("config")))))
        .because(
            "every package reads config; a feature that parses its own syntax checks it through a ConfigCheck"
                + " that the composition root (gateway/ConfigChecks) hands to ConfigLoader.load")
        .check(CLASSES);
  }

  @Test
  void noMutableStatics() {
    fields()
        .that()
        .areStatic()
        .should()
        .beFinal()
        .because(
            "state lives behind interfaces and in instances; a mutable static is shared by every gateway in a JVM")
        .check(CLASSES);
  }
}

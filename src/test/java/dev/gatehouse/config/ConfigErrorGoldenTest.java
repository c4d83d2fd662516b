package dev.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Golden files for what a user sees when their configuration is wrong: {@code serve --config
 * X.yaml} must print exactly {@code X.txt} on stderr and exit with status 2. Run with {@code
 * -Dgatehouse.golden.write=true} to regenerate after a deliberate change, then review the diff.
 */
class ConfigErrorGoldenTest {

  private static final Path DIR = Path.of("src/test/resources/config-errors");

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    // why: every problem is reported at once, each as path: value (expected: ...)
    "many-problems, ''",
    // why: values that are fine alone but not together
    "cross-checks, ''",
    // why: addresses, hosts, origins and choices are checked item by item; CORS * is refused
    "abuse-settings, ''",
    // why: a syntax error names the file and says YAML was expected
    "not-yaml, ''",
    // why: the top level must be a mapping
    "top-level-list, ''",
    // why: the exposure refusal explains itself and lists the exact lines to add
    "exposed, ''",
    // why: alert rules, hours, the webhook URL and a non-loopback admin listener are checked at
    // load
    "alerts-and-admin, ''",
    // why: mTLS without HTTPS or a CA bundle, an unreadable CRL and bad principal lines are
    // reported together (only the first bad principal line: the parser stops there)
    "client-certs, ''",
    // why: client-certificate settings with client_auth off are refused, not silently ignored
    "client-certs-off, ''",
    // why: a PostgreSQL store's URL may not hold a password (and the message never shows it), its
    // password file must be readable, and a window under 2s would refuse between two good checks
    "store-postgres, ''",
    // why: an unknown store kind, and PostgreSQL settings given to another kind, are refused
    "store-sqlite-url, ''",
    // why: an unknown GATEHOUSE_* variable is an error, not silently ignored
    "env-typo, GATEHOUSE_TLS_CRT=/etc/cert.pem",
  })
  void configErrorsMatchTheirGoldenFile(String name, String envPair) throws Exception {
    Path yaml = DIR.resolve(name + ".yaml");
    if (!Files.exists(yaml)) {
      yaml = DIR.resolve("empty.yaml"); // the case is about the environment alone
    }
    Map<String, String> env =
        envPair.isEmpty() ? Map.of() : Map.of(envPair.split("=")[0], envPair.split("=", 2)[1]);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Main.run(
            new String[] {"serve", "--config", yaml.toString()},
            env,
            new PrintWriter(out),
            new PrintWriter(err),
            running -> running.close());
    assertThat(code).isEqualTo(2);
    assertThat(out.toString()).isEmpty();
    Path golden = DIR.resolve(name + ".txt");
    if (Boolean.getBoolean("gatehouse.golden.write")) {
      Files.writeString(golden, err.toString());
    }
    assertThat(err.toString()).isEqualTo(Files.readString(golden));
  }
}

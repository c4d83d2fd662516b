package dev.gatehouse.cli;

import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.HostPort;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * A command that goes through a running gateway's admin API when it has an admin token, and works
 * on the store directly otherwise (as every command did before the API).
 *
 * <p>With a token ({@code GATEHOUSE_ADMIN_TOKEN} or {@code --admin-token-file}, never an argument,
 * which anyone could read in {@code ps}) and {@code admin.listen} on: the API. When nothing answers
 * there, no request reached a gateway, so the store is used instead and stderr says so. Any answer
 * from the API is final: a refused token or role, or any other error, is printed and the command
 * fails, without trying the store (fail closed: a token that does not work must never be quietly
 * bypassed).
 */
abstract class ApiCommand extends StoreCommand {

  @Option(
      names = "--admin-token-file",
      paramLabel = "FILE",
      description =
          "A file holding an admin token (gha_...) of role operator or more (viewer for list): go"
              + " through the running gateway's admin API (admin.listen), so the change applies at"
              + " once. Default: env "
              + AdminClient.TOKEN_ENV
              + ". Without a token, or when the admin listener does not answer, the store is used"
              + " directly.")
  @Nullable Path tokenFile;

  ApiCommand(Map<String, String> env) {
    super(env);
  }

  /**
   * Does the work through the API. Makes at most one request that changes anything, and no request
   * after it, so an {@link AdminClient.Unreachable} means nothing changed.
   */
  abstract int runApi(AdminClient api, PrintWriter out) throws Exception;

  @Override
  int run(GatehouseConfig config) throws Exception {
    String token = token();
    if (token == null) {
      return super.run(config);
    }
    PrintWriter err = spec.commandLine().getErr();
    HostPort listen = config.admin().listen();
    if (listen == null) {
      err.println(
          "gatehouse: admin.listen is off, so there is no admin API to use the token with;"
              + " working on the store directly");
      return super.run(config);
    }
    AdminClient api = new AdminClient(AdminClient.baseOf(listen), token);
    try {
      return runApi(api, spec.commandLine().getOut());
    } catch (AdminClient.Unreachable e) {
      err.println(
          "gatehouse: "
              + e.getMessage()
              + "; working on the store directly instead (a running gateway reads changes from it"
              + " within a second)");
      return super.run(config);
    } catch (AdminClient.Problem p) {
      err.println("gatehouse: " + p.describe());
      return p.exitCode();
    }
  }

  /**
   * The admin token from {@code --admin-token-file} or {@code GATEHOUSE_ADMIN_TOKEN}; null when
   * neither gives one. Never echoed: messages name where it came from, not what it is.
   */
  private @Nullable String token() {
    String t;
    String from;
    if (tokenFile != null) {
      from = "--admin-token-file: " + tokenFile;
      try {
        t = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new IllegalArgumentException(
            from + " (expected: a readable file holding an admin token)");
      }
      if (t.isEmpty()) {
        throw new IllegalArgumentException(from + " (expected: a file holding an admin token)");
      }
    } else {
      from = AdminClient.TOKEN_ENV;
      t = env.get(AdminClient.TOKEN_ENV);
      if (t == null || t.isBlank()) {
        return null;
      }
      t = t.strip();
    }
    // A token is letters, digits, _ and -; anything else (a line break most of all) could not be
    // sent as one header value.
    if (!t.matches("[A-Za-z0-9_-]{1,200}")) {
      throw new IllegalArgumentException(
          from + " (expected: an admin token such as gha_..., on one line)");
    }
    return t;
  }
}

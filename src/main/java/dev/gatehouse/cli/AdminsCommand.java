package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.admin.Role;
import dev.gatehouse.admin.auth.AdminCredentials;
import dev.gatehouse.admin.auth.AdminJson;
import dev.gatehouse.store.AdminRecord;
import dev.gatehouse.store.AdminStore;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gatehouse admins}: create, list and revoke the admin listener's credentials, in the store
 * directly. The way back in when every admin token is lost: whoever can write the data directory
 * may.
 */
@Command(
    name = "admins",
    mixinStandardHelpOptions = true,
    description =
        "Manage admin credentials (the admin API and dashboard). Works on the store directly.",
    subcommands = {
      AdminsCommand.Create.class,
      AdminsCommand.ListAdmins.class,
      AdminsCommand.Revoke.class,
      AdminsCommand.ResetTotp.class
    })
final class AdminsCommand implements Runnable {

  private static final ObjectMapper JSON = new ObjectMapper();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  AdminsCommand(Map<String, String> env) {}

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static ObjectNode toJson(AdminRecord a) {
    return AdminJson.of(a);
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = "Create an admin credential and print its token once.")
  static final class Create extends StoreCommand {
    @Option(names = "--name", required = true, description = "A label (who uses it).")
    String name;

    @Option(
        names = "--role",
        required = true,
        description =
            "viewer (read only), operator (also keys, bans, reload) or admin (everything).")
    String role;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    Create(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) throws Exception {
      Role r = Role.parse(role);
      if (r == null) {
        throw new IllegalArgumentException(
            "--role: " + role + " (expected: viewer, operator or admin)");
      }
      AdminCredentials.Created c = ctx.admins.create(name, r);
      if (json) {
        ObjectNode o = toJson(c.record());
        o.put("secret", c.token());
        out.println(JSON.writeValueAsString(o));
        return 0;
      }
      out.println(
          "Created admin credential "
              + c.record().id()
              + " ("
              + c.record().name()
              + ", "
              + r.label()
              + ")");
      out.println("Store this token now; Gatehouse keeps only a hash and cannot show it again:");
      out.println(c.token());
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List admin credentials (never their tokens).")
  static final class ListAdmins extends StoreCommand {
    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    ListAdmins(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) throws Exception {
      var all = ctx.admins.list();
      if (json) {
        ArrayNode a = JSON.createArrayNode();
        all.forEach(r -> a.add(toJson(r)));
        out.println(JSON.writeValueAsString(a));
        return 0;
      }
      if (all.isEmpty()) {
        out.println(
            "No admin credentials. Create one: gatehouse admins create --name NAME --role admin");
        return 0;
      }
      out.printf("%-12s  %-8s  %-7s  %-20s  %s%n", "ID", "ROLE", "STATUS", "LAST USED", "NAME");
      for (AdminRecord r : all) {
        out.printf(
            "%-12s  %-8s  %-7s  %-20s  %s%n",
            r.id(),
            r.role(),
            r.active() ? "active" : "revoked",
            r.lastUsedAt() == null ? "never" : r.lastUsedAt().toString(),
            r.name());
      }
      return 0;
    }
  }

  @Command(
      name = "revoke",
      mixinStandardHelpOptions = true,
      description =
          "Revoke an admin credential; its sessions end. The last admin cannot be revoked.")
  static final class Revoke extends StoreCommand {
    @Parameters(paramLabel = "ID", description = "The credential's id (gatehouse admins list).")
    String id;

    Revoke(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) {
      AdminStore.Revoke r = ctx.admins.revoke(id);
      switch (r) {
        case REVOKED -> out.println("Revoked admin credential " + id);
        case NOT_FOUND -> {
          spec.commandLine().getErr().println("No active admin credential " + id);
          return 1;
        }
        case LAST_ADMIN -> {
          spec.commandLine()
              .getErr()
              .println(
                  "Refused: "
                      + id
                      + " is the last active admin credential; create another admin first");
          return 1;
        }
      }
      return 0;
    }
  }

  @Command(
      name = "reset-totp",
      mixinStandardHelpOptions = true,
      description =
          "Remove a credential's second factor (TOTP) and recovery codes, for a lost phone:"
              + " its dashboard logins need only the token until it enrols again.")
  static final class ResetTotp extends StoreCommand {
    @Parameters(paramLabel = "ID", description = "The credential's id (gatehouse admins list).")
    String id;

    ResetTotp(Map<String, String> env) {
      super(env);
    }

    @Override
    int run(Context ctx, PrintWriter out) {
      // No code needed here, unlike DELETE /api/v1/me/totp: whoever can write the data directory
      // can create an admin credential anyway; this is the way back for a lost authenticator.
      if (!ctx.admins.totp().remove(id)) {
        spec.commandLine().getErr().println("Admin credential " + id + " has no second factor");
        return 1;
      }
      out.println(
          "Removed the second factor of admin credential "
              + id
              + "; it can enrol again from the dashboard's Account page");
      return 0;
    }
  }
}

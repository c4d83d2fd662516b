package dev.gatehouse.doctor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The lookup of which process holds a listening socket, by reading the {@code socket:[inode]} links
 * in {@code <proc>/<pid>/fd}, and reads that process's name, command line and environment. Other
 * users' processes are unreadable unless run as root; they are skipped, never an error.
 */
public final class Processes {

  /**
   * A process on this machine.
   *
   * @param pid its id
   * @param name {@code comm}: the executable's short name
   * @param commandLine the arguments joined with spaces, or empty when unreadable
   * @param environment its environment, or null when unreadable
   */
  public record Info(
      int pid, String name, String commandLine, @Nullable Map<String, String> environment) {
    /** {@code pid 4242 (ollama serve)}. */
    public String describe() {
      String what = commandLine.isEmpty() ? name : commandLine;
      // A JVM's class path alone can run to pages; the start of the line identifies the program.
      return "pid "
          + pid
          + " ("
          + (what.length() > 80 ? what.substring(0, 77) + "..." : what)
          + ")";
    }
  }

  private Processes() {}

  /** The process holding each of these socket inodes, where it can be found. */
  public static Map<Long, Info> owners(Path procRoot, Set<Long> inodes) {
    Map<Long, Info> found = new HashMap<>();
    if (inodes.isEmpty()) {
      return found;
    }
    Set<Long> wanted = new HashSet<>(inodes);
    try (DirectoryStream<Path> pids =
        Files.newDirectoryStream(procRoot, p -> p.getFileName().toString().matches("[0-9]+"))) {
      for (Path dir : pids) {
        scanFds(dir, wanted, found);
        if (found.size() == wanted.size()) {
          break; // every socket accounted for; no need to read the rest of /proc
        }
      }
    } catch (IOException e) {
      // No readable proc tree: owners stay unknown and the report says so.
    }
    return found;
  }

  private static void scanFds(Path dir, Set<Long> wanted, Map<Long, Info> found) {
    Info info = null;
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(dir.resolve("fd"))) {
      for (Path fd : fds) {
        String target;
        try {
          target = Files.readSymbolicLink(fd).toString();
        } catch (IOException | UnsupportedOperationException e) {
          continue; // closed while we looked, or not a link
        }
        if (!target.startsWith("socket:[") || !target.endsWith("]")) {
          continue;
        }
        long inode;
        try {
          inode = Long.parseLong(target.substring(8, target.length() - 1));
        } catch (NumberFormatException e) {
          continue;
        }
        if (wanted.contains(inode) && !found.containsKey(inode)) {
          if (info == null) {
            info = read(dir);
          }
          found.put(inode, info);
        }
      }
    } catch (IOException e) {
      // Another user's process, or one that just exited.
    }
  }

  /** Reads one process's name, command line and environment. */
  static Info read(Path dir) {
    int pid = Integer.parseInt(dir.getFileName().toString());
    String name = text(dir.resolve("comm")).strip();
    String cmdline = text(dir.resolve("cmdline")).replace('\0', ' ').strip();
    Map<String, String> env = null;
    String environ = textOrNull(dir.resolve("environ"));
    if (environ != null) {
      env = new LinkedHashMap<>();
      for (String entry : environ.split("\0")) {
        int eq = entry.indexOf('=');
        if (eq > 0) {
          env.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
      }
    }
    return new Info(pid, name.isEmpty() ? "?" : name, cmdline, env);
  }

  private static String text(Path p) {
    String t = textOrNull(p);
    return t == null ? "" : t;
  }

  private static @Nullable String textOrNull(Path p) {
    try {
      return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    }
  }
}

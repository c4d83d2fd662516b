package dev.gatehouse.doctor;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The Ollama settings that decide its exposure ({@code OLLAMA_HOST}, {@code OLLAMA_ORIGINS}, {@code
 * OLLAMA_MODELS}), gathered from where they are set: the environment doctor runs in, the
 * environment of a running server process, and systemd units (the Linux installer's {@code
 * ollama.service} and drop-ins made by {@code systemctl edit}).
 */
public final class OllamaEnv {

  /** Where a setting came from; the fix differs for each. */
  public enum Kind {
    /**
     * The environment of the shell that ran doctor: applies to an {@code ollama serve} started
     * there.
     */
    SHELL,
    /** The environment of a running server process. */
    PROCESS,
    /** A systemd unit or drop-in file. */
    UNIT
  }

  /**
   * The Ollama variables one place sets.
   *
   * @param kind what sort of place
   * @param origin the place, in words (a file path for units)
   * @param vars the {@code OLLAMA_*} variables it sets, sorted by name
   */
  public record Source(Kind kind, String origin, Map<String, String> vars) {
    public Source {
      vars = java.util.Collections.unmodifiableMap(new TreeMap<>(vars));
    }
  }

  /**
   * Where {@code OLLAMA_HOST} makes Ollama listen.
   *
   * @param host the host part; empty means every interface, as in Go's {@code net.Listen(":11434")}
   * @param port the port
   * @param reachableFromOthers true unless the host is a loopback address or {@code localhost}
   */
  public record Bind(String host, int port, boolean reachableFromOthers) {}

  /** The systemd directories searched by default, highest precedence first. */
  public static final List<Path> SYSTEMD_DIRS =
      List.of(
          Path.of("/etc/systemd/system"),
          Path.of("/run/systemd/system"),
          Path.of("/usr/lib/systemd/system"),
          Path.of("/lib/systemd/system"));

  private OllamaEnv() {}

  /** The {@code OLLAMA_*} variables of an environment, or null when it sets none. */
  public static @Nullable Source fromEnvironment(
      Kind kind, String origin, Map<String, String> env) {
    Map<String, String> vars = new TreeMap<>();
    env.forEach(
        (k, v) -> {
          if (k.startsWith("OLLAMA_")) {
            vars.put(k, v);
          }
        });
    return vars.isEmpty() ? null : new Source(kind, origin, vars);
  }

  /**
   * Every {@code ollama*.service} unit and {@code ollama*.service.d/*.conf} drop-in in these
   * directories that sets an {@code OLLAMA_*} variable, directly or through {@code
   * EnvironmentFile=}. Unreadable files are skipped.
   */
  public static List<Source> systemdUnits(List<Path> dirs) {
    List<Source> out = new ArrayList<>();
    for (Path dir : dirs) {
      List<Path> files = new ArrayList<>();
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "ollama*")) {
        for (Path e : entries) {
          String name = e.getFileName().toString();
          if (name.endsWith(".service") && Files.isRegularFile(e)) {
            files.add(e);
          } else if (name.endsWith(".service.d") && Files.isDirectory(e)) {
            try (DirectoryStream<Path> dropIns = Files.newDirectoryStream(e, "*.conf")) {
              dropIns.forEach(files::add);
            }
          }
        }
      } catch (IOException e) {
        continue; // a directory this system does not have
      }
      files.sort(null);
      for (Path f : files) {
        Map<String, String> vars = unitEnvironment(f);
        if (!vars.isEmpty()) {
          out.add(new Source(Kind.UNIT, f.toString(), vars));
        }
      }
    }
    return out;
  }

  /** The OLLAMA_* assignments of one unit file, later lines overriding earlier ones. */
  static Map<String, String> unitEnvironment(Path unit) {
    Map<String, String> vars = new TreeMap<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(unit, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return vars;
    }
    for (String raw : lines) {
      String line = raw.strip();
      if (line.startsWith("Environment=")) {
        for (String assignment : words(line.substring("Environment=".length()))) {
          put(vars, assignment);
        }
      } else if (line.startsWith("EnvironmentFile=")) {
        String file = line.substring("EnvironmentFile=".length()).strip();
        if (file.startsWith("-")) {
          file = file.substring(1); // "-" only means: a missing file is not an error
        }
        try {
          for (String l : Files.readAllLines(Path.of(file), StandardCharsets.UTF_8)) {
            String s = l.strip();
            if (!s.isEmpty() && !s.startsWith("#") && !s.startsWith(";")) {
              List<String> w = words(s);
              if (!w.isEmpty()) {
                put(vars, String.join(" ", w));
              }
            }
          }
        } catch (IOException | RuntimeException e) {
          // Unreadable or malformed: systemd itself would skip or refuse it; so do we.
        }
      }
    }
    return vars;
  }

  private static void put(Map<String, String> vars, String assignment) {
    int eq = assignment.indexOf('=');
    if (eq > 0 && assignment.startsWith("OLLAMA_")) {
      vars.put(assignment.substring(0, eq), assignment.substring(eq + 1));
    }
  }

  /** Splits on spaces outside quotes and removes the quotes, as systemd does for Environment=. */
  static List<String> words(String text) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    char quote = 0;
    boolean inWord = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else if (c == '\\' && i + 1 < text.length()) {
          cur.append(text.charAt(++i));
        } else {
          cur.append(c);
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) {
          out.add(cur.toString());
          cur.setLength(0);
          inWord = false;
        }
      } else {
        cur.append(c);
        inWord = true;
      }
    }
    if (inWord) {
      out.add(cur.toString());
    }
    return out;
  }

  /**
   * Parses {@code OLLAMA_HOST} the way Ollama does: an optional scheme, a host (possibly empty or a
   * bracketed IPv6 address) and an optional port, 11434 by default.
   */
  public static Bind parseHost(String value) {
    String v = value.strip();
    int defaultPort = 11434;
    int scheme = v.indexOf("://");
    if (scheme >= 0) {
      String s = v.substring(0, scheme);
      defaultPort = s.equals("https") ? 443 : s.equals("http") ? 80 : 11434;
      v = v.substring(scheme + 3);
    }
    int slash = v.indexOf('/');
    if (slash >= 0) {
      v = v.substring(0, slash);
    }
    String host = v;
    int port = defaultPort;
    if (v.startsWith("[")) {
      int close = v.indexOf(']');
      host = close > 0 ? v.substring(1, close) : v.substring(1);
      if (close > 0 && v.length() > close + 2 && v.charAt(close + 1) == ':') {
        port = parsePort(v.substring(close + 2), defaultPort);
      }
    } else if (v.indexOf(':') >= 0 && v.indexOf(':') == v.lastIndexOf(':')) {
      host = v.substring(0, v.indexOf(':'));
      port = parsePort(v.substring(v.indexOf(':') + 1), defaultPort);
    }
    return new Bind(host, port, !isLoopback(host));
  }

  private static int parsePort(String text, int fallback) {
    try {
      int p = Integer.parseInt(text);
      return p > 0 && p < 65536 ? p : fallback;
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  private static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) {
      return false; // empty (every interface) or a name that could resolve anywhere
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress(); // a literal: no DNS lookup
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** True when OLLAMA_ORIGINS lets every web page in: a bare {@code *} or a scheme wildcard. */
  public static boolean originsWildcard(String origins) {
    for (String o : origins.split(",")) {
      String t = o.strip();
      if (t.equals("*") || t.equals("http://*") || t.equals("https://*")) {
        return true;
      }
    }
    return false;
  }
}

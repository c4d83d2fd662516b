package dev.gatehouse.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.logging.LogManager;

/**
 * One-line log records on stderr: time, level, logger, message. Library chatter (connection pool,
 * migrations, Netty) is kept to warnings. An operator's own {@code java.util.logging.config.file}
 * wins.
 */
final class Logging {

  private Logging() {}

  private static final String CONFIG =
      String.join(
          "\n",
          "handlers=java.util.logging.ConsoleHandler",
          ".level=INFO",
          "java.util.logging.ConsoleHandler.level=ALL",
          "java.util.logging.ConsoleHandler.formatter=java.util.logging.SimpleFormatter",
          "java.util.logging.SimpleFormatter.format=%1$tFT%1$tT.%1$tLZ %4$s %3$s %5$s%6$s%n",
          "com.zaxxer.hikari.level=WARNING",
          "org.flywaydb.level=WARNING",
          "io.netty.level=WARNING",
          "");

  static void configure() {
    if (System.getProperty("java.util.logging.config.file") != null) {
      return;
    }
    try {
      LogManager.getLogManager()
          .readConfiguration(new ByteArrayInputStream(CONFIG.getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      System.err.println("gatehouse: logging setup failed: " + e.getMessage());
    }
  }
}

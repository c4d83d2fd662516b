package dev.gatehouse.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** One-line log records on stderr: time, level, logger, message. */
final class Logging {

  private Logging() {}

  static void configure() {
    if (System.getProperty("java.util.logging.config.file") != null) {
      return; // the operator brought their own
    }
    System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s %5$s%6$s%n");
    Logger root = Logger.getLogger("");
    for (var h : root.getHandlers()) {
      root.removeHandler(h);
    }
    ConsoleHandler console = new ConsoleHandler();
    console.setFormatter(new SimpleFormatter());
    console.setLevel(Level.ALL);
    root.addHandler(console);
    root.setLevel(Level.INFO);
    Logger.getLogger("com.zaxxer.hikari").setLevel(Level.WARNING);
    Logger.getLogger("org.flywaydb").setLevel(Level.WARNING);
    Logger.getLogger("io.netty").setLevel(Level.WARNING);
  }
}

package dev.gatehouse.guard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A labelled prompt set in the format of {@code prompt-guard/dev.jsonl}: one JSON object a line
 * with {@code label} ({@code attack}, {@code benign} or {@code other}), {@code source} and {@code
 * messages}. Each row becomes the chat request a client would send, so evaluation and training read
 * it through the same extraction as the gateway.
 */
public final class Dataset {

  private Dataset() {}

  /** The path each row is read as. */
  public static final String PATH = "/v1/chat/completions";

  /**
   * One row: its label, its source, the group it belongs to (its jailbreak template, when {@code
   * meta.template} names one, else a group of its own), and the request body built from its
   * messages.
   */
  public record Row(String label, String source, String group, ObjectNode body) {
    public boolean attack() {
      return label.equals("attack");
    }

    public boolean benign() {
      return label.equals("benign");
    }
  }

  /** Reads the file; a malformed line is an error naming its line number. */
  public static List<Row> read(Path file) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Row> rows = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      int n = 0;
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode o;
        try {
          o = json.readTree(line);
        } catch (IOException e) {
          throw new IOException(file + ":" + n + ": not JSON");
        }
        JsonNode label = o.get("label");
        JsonNode messages = o.get("messages");
        if (label == null || !label.isTextual() || messages == null || !messages.isArray()) {
          throw new IOException(file + ":" + n + ": expected label and messages");
        }
        JsonNode source = o.get("source");
        JsonNode template = o.path("meta").get("template");
        String group =
            template != null && !template.isNull() ? "template:" + template.asText() : "row:" + n;
        ObjectNode body = json.createObjectNode();
        body.put("model", "eval");
        body.set("messages", messages);
        rows.add(new Row(label.asText(), source == null ? "-" : source.asText(), group, body));
      }
    }
    return rows;
  }

  /** The texts the guard inspects in this row, as in the gateway with the default scope. */
  public static List<String> texts(Row row, int maxChars) {
    return PromptText.texts(
        PromptText.inScope(PATH, row.body(), PromptText.Scope.LAST_USER_AND_TOOLS), maxChars);
  }
}

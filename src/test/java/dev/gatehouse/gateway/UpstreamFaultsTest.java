package dev.gatehouse.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.audit.AuditWriter;
import dev.gatehouse.testing.GatewayFixture;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fault injection on the upstream side, over raw sockets at both ends: a scripted upstream
 * misbehaves in one way per case (closes mid-stream, stalls, sends malformed JSON, huge headers, a
 * reset, a bad status line), and the client must get a clean error in its own dialect (Ollama's
 * {@code {"error":...}} on /api, OpenAI's error object on /v1), whole or as the stream's last
 * event, never a hang; and the request's audit record must be in the log afterwards, with the
 * status the client was given. {@code StreamingRelayTest} covers the ordinary relay and the fake
 * upstream's death mid-stream; this adds the wire-level faults and the audit check.
 */
class UpstreamFaultsTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static ScriptedUpstream upstream;
  static GatewayFixture gw;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    upstream = new ScriptedUpstream();
    gw =
        GatewayFixture.start(
            Map.of(
                "upstream",
                "http://127.0.0.1:" + upstream.port(),
                "timeouts.upstream_first_byte",
                "800ms",
                "timeouts.upstream_idle",
                "800ms"));
    key = gw.newKey();
  }

  @AfterAll
  static void stop() throws IOException {
    gw.close();
    upstream.close();
  }

  /** What the scripted upstream does with one request, given its socket (the request is read). */
  @FunctionalInterface
  interface Script {
    void run(Socket s, OutputStream out) throws Exception;
  }

  static void write(OutputStream out, String s) throws IOException {
    out.write(s.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  static String chunk(String s) {
    return Integer.toHexString(s.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + s + "\r\n";
  }

  static final String NDJSON_HEAD =
      "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n";
  static final String SSE_HEAD =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  static final String LINE =
      "{\"model\":\"llama3.2:3b\",\"message\":{\"role\":\"assistant\",\"content\":\"a\"},\"done\":false}\n";
  static final String EVENT =
      "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n";

  static String ollamaChat(boolean stream) {
    String body =
        "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"tell me\"}],\"stream\":"
            + stream
            + "}";
    return "POST /api/chat HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
        + key
        + "\r\nContent-Type: application/json\r\n"
        + "Content-Length: "
        + body.length()
        + "\r\nConnection: close\r\n\r\n"
        + body;
  }

  static String openAiChat(boolean stream) {
    String body =
        "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\",\"content\":\"tell me\"}],\"stream\":"
            + stream
            + "}";
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
        + key
        + "\r\n"
        + "Content-Type: application/json\r\nContent-Length: "
        + body.length()
        + "\r\nConnection: close\r\n\r\n"
        + body;
  }

  /** How the client's answer must end: status, and what its last line or body must hold. */
  record Expect(int status, String dialectError, String code) {}

  static final String OLLAMA_ERROR = "{\"error\":";
  static final String OPENAI_ERROR = "{\"error\":{";

  static Stream<Arguments> faults() {
    List<Arguments> c = new ArrayList<>();
    // why: a crash mid-generation (NDJSON): the client must see an error line, not a silent cut
    c.add(
        Arguments.of(
            "closes mid NDJSON stream",
            ollamaChat(true),
            (Script)
                (s, out) -> {
                  write(out, NDJSON_HEAD + chunk(LINE) + chunk(LINE));
                  s.close();
                },
            new Expect(200, OLLAMA_ERROR, "upstream.failed")));
    // why: the same on SSE: the OpenAI SDKs raise on a data event carrying an error object
    c.add(
        Arguments.of(
            "closes mid SSE stream",
            openAiChat(true),
            (Script)
                (s, out) -> {
                  write(out, SSE_HEAD + chunk(EVENT));
                  s.close();
                },
            new Expect(200, "data: " + OPENAI_ERROR, "upstream.failed")));
    // why: a hung model server before its head: a bounded wait, then 504 in the dialect
    c.add(
        Arguments.of(
            "stalls before the head (/api)",
            ollamaChat(false),
            (Script) (s, out) -> Thread.sleep(3000),
            new Expect(504, OLLAMA_ERROR, "upstream.timeout")));
    c.add(
        Arguments.of(
            "stalls before the head (/v1)",
            openAiChat(false),
            (Script) (s, out) -> Thread.sleep(3000),
            new Expect(504, OPENAI_ERROR, "upstream.timeout")));
    // why: a generation that goes silent mid-stream is cut after timeouts.upstream_idle
    c.add(
        Arguments.of(
            "stalls mid NDJSON stream",
            ollamaChat(true),
            (Script)
                (s, out) -> {
                  write(out, NDJSON_HEAD + chunk(LINE));
                  Thread.sleep(3000);
                },
            new Expect(200, OLLAMA_ERROR, "upstream.failed")));
    c.add(
        Arguments.of(
            "stalls mid SSE stream",
            openAiChat(true),
            (Script)
                (s, out) -> {
                  write(out, SSE_HEAD + chunk(EVENT));
                  Thread.sleep(3000);
                },
            new Expect(200, "data: " + OPENAI_ERROR, "upstream.failed")));
    // why: a reset (SO_LINGER 0) before any byte: 502, not a hang or a 500
    c.add(
        Arguments.of(
            "resets before the head (/api)",
            ollamaChat(false),
            (Script)
                (s, out) -> {
                  s.setSoLinger(true, 0);
                  s.close();
                },
            new Expect(502, OLLAMA_ERROR, "upstream.")));
    c.add(
        Arguments.of(
            "resets before the head (/v1)",
            openAiChat(false),
            (Script)
                (s, out) -> {
                  s.setSoLinger(true, 0);
                  s.close();
                },
            new Expect(502, OPENAI_ERROR, "upstream.")));
    // why: a reset mid-stream is a failure mid-response, reported as the stream's last line
    c.add(
        Arguments.of(
            "resets mid NDJSON stream",
            ollamaChat(true),
            (Script)
                (s, out) -> {
                  write(out, NDJSON_HEAD + chunk(LINE));
                  Thread.sleep(100);
                  s.setSoLinger(true, 0);
                  s.close();
                },
            new Expect(200, OLLAMA_ERROR, "upstream.failed")));
    // why: a status line that is not HTTP: nothing of it may reach the client
    c.add(
        Arguments.of(
            "bad status line",
            ollamaChat(false),
            (Script)
                (s, out) -> {
                  write(out, "HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\n{}");
                  s.close();
                },
            new Expect(502, OLLAMA_ERROR, "upstream.")));
    c.add(
        Arguments.of(
            "not HTTP at all",
            openAiChat(false),
            (Script)
                (s, out) -> {
                  write(out, "SSH-2.0-OpenSSH_9.6\r\n");
                  s.close();
                },
            new Expect(502, OPENAI_ERROR, "upstream.")));
    // why: a 200 KiB header (a hostile or broken upstream): refused, never relayed or buffered
    // unbounded
    c.add(
        Arguments.of(
            "huge headers",
            ollamaChat(false),
            (Script)
                (s, out) -> {
                  write(
                      out,
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Big: "
                          + "a".repeat(200_000)
                          + "\r\nContent-Length: 2\r\n\r\n{}");
                  s.close();
                },
            new Expect(502, OLLAMA_ERROR, "upstream.")));
    c.add(
        Arguments.of(
            "ten thousand headers",
            openAiChat(false),
            (Script)
                (s, out) -> {
                  StringBuilder b =
                      new StringBuilder("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
                  for (int i = 0; i < 10_000; i++) {
                    b.append("X-H").append(i).append(": v\r\n");
                  }
                  write(out, b + "Content-Length: 2\r\n\r\n{}");
                  s.close();
                },
            new Expect(502, OPENAI_ERROR, "upstream.")));
    // why: a body shorter than its Content-Length (the upstream died): not a complete 200
    c.add(
        Arguments.of(
            "body shorter than Content-Length",
            ollamaChat(false),
            (Script)
                (s, out) -> {
                  write(
                      out,
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"model\":");
                  s.close();
                },
            new Expect(-2, null, null)));
    // why: malformed JSON in a whole response that the usage meter reads (eval_count cut off):
    // the meter must not throw or count garbage; the client gets what the upstream sent
    c.add(
        Arguments.of(
            "malformed JSON, whole response (/api)",
            ollamaChat(false),
            (Script)
                (s, out) -> {
                  String body =
                      "{\"model\":\"llama3.2:3b\",\"message\":{\"role\":\"assistant\",\"content\":\"a\"},\"done\":true,\"eval_count\":}}]";
                  write(
                      out,
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                          + body.length()
                          + "\r\n\r\n"
                          + body);
                  s.close();
                },
            new Expect(-3, null, null)));
    c.add(
        Arguments.of(
            "malformed JSON, whole response (/v1)",
            openAiChat(false),
            (Script)
                (s, out) -> {
                  String body =
                      "{\"id\":\"x\",\"object\":\"chat.completion\",\"usage\":{\"prompt_tokens\":\"NaN\",\"completion_tokens\":1e999999,";
                  write(
                      out,
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                          + body.length()
                          + "\r\n\r\n"
                          + body);
                  s.close();
                },
            new Expect(-3, null, null)));
    // why: a malformed line mid-stream, then more: the meter skips it, the stream goes on or ends
    // cleanly
    c.add(
        Arguments.of(
            "malformed JSON mid NDJSON stream",
            ollamaChat(true),
            (Script)
                (s, out) -> {
                  write(
                      out,
                      NDJSON_HEAD
                          + chunk(LINE)
                          + chunk("{\"done\":tru\u0000e,,\n")
                          + chunk(
                              "{\"model\":\"llama3.2:3b\",\"done\":true,\"eval_count\":99999999999999999999999}\n")
                          + "0\r\n\r\n");
                  s.close();
                },
            new Expect(-3, null, null)));
    c.add(
        Arguments.of(
            "malformed JSON mid SSE stream",
            openAiChat(true),
            (Script)
                (s, out) -> {
                  write(
                      out,
                      SSE_HEAD
                          + chunk(EVENT)
                          + chunk("data: {\"usage\":{\"completion_tokens\":[[[[\n\n")
                          + chunk("data: [DONE]\n\n")
                          + "0\r\n\r\n");
                  s.close();
                },
            new Expect(-3, null, null)));
    return c.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("faults")
  void eachFaultEndsInACleanErrorInTheClientsDialectAndIsAudited(
      String name, String request, Script script, Expect expect) throws Exception {
    upstream.next(script);
    String answer = exchange(request);
    String requestId = header(answer, "X-Request-Id");
    if (expect.status() == -3) {
      // The upstream's own answer, relayed as it came (Gatehouse does not rewrite a model
      // server's body); what matters is that the meter reading it neither fails nor counts garbage.
      assertThat(answer).as(name).startsWith("HTTP/1.1 200 ");
    } else if (expect.status() == -2) {
      // The head may have gone out; the client must not hold a response that looks complete.
      assertThat(answer.startsWith("HTTP/1.1 200") && answer.endsWith("}"))
          .as("%s: %s", name, answer)
          .isFalse();
    } else {
      assertThat(answer).as(name).startsWith("HTTP/1.1 " + expect.status() + " ");
      String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
      String last = lastNonEmptyLine(dechunk(answer, body));
      assertThat(last)
          .as("%s: the last line is an error in the dialect", name)
          .startsWith(expect.dialectError());
      assertThat(last)
          .contains("\"code\":\"" + expect.code())
          .contains(requestId == null ? "" : requestId);
      assertThat(answer)
          .as("no upstream header leaks")
          .doesNotContain("X-Big")
          .doesNotContain("X-H1:");
    }
    assertThat(upstream.seen()).as("the upstream got the request").isPositive();
    if (requestId != null) {
      JsonNode record = auditRecord(requestId);
      assertThat(record).as("%s: the audit record", name).isNotNull();
      if (expect.status() > 0) {
        assertThat(record.path("status").asInt()).isEqualTo(expect.status());
      }
      if (expect.status() == -3) {
        assertThat(record.path("status").asInt()).isEqualTo(200);
        // -1: unknown (no figures could be read); never a wrapped or negative number
        assertThat(record.path("tokens_out").asLong())
            .as("%s: tokens counted from garbage", name)
            .isIn(-1L, 0L, 1L, (long) Integer.MAX_VALUE);
        assertThat(record.path("tokens_in").asLong()).isIn(-1L, 0L, 1L, (long) Integer.MAX_VALUE);
      }
    }
  }

  /** Sends one raw request and reads until the gateway closes. */
  static String exchange(String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", gw.port())) {
      s.setSoTimeout(15_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      try {
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (java.net.SocketException e) {
        return ""; // reset by the gateway
      }
    }
  }

  static String header(String answer, String name) {
    for (String line : answer.split("\r\n")) {
      if (line.isEmpty()) {
        break;
      }
      if (line.regionMatches(true, 0, name + ":", 0, name.length() + 1)) {
        return line.substring(name.length() + 1).trim();
      }
    }
    return null;
  }

  static String dechunk(String answer, String body) {
    if (!answer
        .substring(0, answer.indexOf("\r\n\r\n"))
        .toLowerCase(java.util.Locale.ROOT)
        .contains("transfer-encoding: chunked")) {
      return body;
    }
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < body.length()) {
      int eol = body.indexOf("\r\n", i);
      if (eol < 0) {
        break;
      }
      int size = Integer.parseInt(body.substring(i, eol).trim(), 16);
      if (size == 0) {
        break;
      }
      out.append(body, eol + 2, Math.min(body.length(), eol + 2 + size));
      i = eol + 2 + size + 2;
    }
    return out.toString();
  }

  static String lastNonEmptyLine(String s) {
    String[] lines = s.split("\n");
    for (int i = lines.length - 1; i >= 0; i--) {
      if (!lines[i].isBlank()) {
        return lines[i].trim();
      }
    }
    return "";
  }

  /** The audit record of a request, waiting up to 3 s for the writer. */
  static JsonNode auditRecord(String requestId) throws Exception {
    for (int i = 0; i < 150; i++) {
      for (String line : Files.readAllLines(gw.dataDir.resolve(AuditWriter.FILE))) {
        if (line.contains("\"request_id\":\"" + requestId + "\"")) {
          return JSON.readTree(line);
        }
      }
      Thread.sleep(20);
    }
    return null;
  }

  /**
   * A plain-socket upstream that reads each request's head and body and then runs the next script
   * on its connection. One connection at a time; health checks are off in the fixture.
   */
  static final class ScriptedUpstream implements AutoCloseable {
    private final ServerSocket server = new ServerSocket();
    private final AtomicReference<Script> next = new AtomicReference<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicInteger seen =
        new java.util.concurrent.atomic.AtomicInteger();
    private final Thread thread;

    ScriptedUpstream() throws IOException {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      thread = new Thread(this::accept, "scripted-upstream");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return server.getLocalPort();
    }

    void next(Script s) {
      seen.set(0);
      next.set(s);
    }

    int seen() {
      return seen.get();
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          open.add(s);
          Thread t = new Thread(() -> serve(s), "scripted-upstream-conn");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        readRequest(in);
        seen.incrementAndGet();
        Script script = next.get();
        if (script != null) {
          script.run(s, s.getOutputStream());
        }
      } catch (Exception e) {
        // the gateway hung up first: fine
      } finally {
        open.remove(s);
      }
    }

    private static void readRequest(InputStream in) throws IOException {
      StringBuilder head = new StringBuilder();
      int b;
      while ((b = in.read()) != -1) {
        head.append((char) b);
        if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
          break;
        }
      }
      int length = 0;
      for (String line : head.toString().split("\r\n")) {
        if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).trim());
        }
      }
      in.readNBytes(length);
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : open) {
        s.close();
      }
    }
  }
}

package dev.gatehouse.testing;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process stand-in for an LLM server that speaks both Ollama's and OpenAI's API, streams
 * slowly on request, and records every request it receives, so tests can assert that a refused
 * request never reached it. Like real Ollama it sends a {@code Server}-ish banner header, which the
 * gateway must strip.
 */
public final class FakeUpstream implements AutoCloseable {

  /** One request as the upstream saw it. */
  public record Recorded(String method, String uri, MultiMap headers, String body) {}

  public static final List<String> MODELS =
      List.of("llama3.2:3b", "qwen2.5:7b", "phi3:latest", "gpt-oss:120b-cloud");

  private final Vertx vertx = Vertx.vertx();
  private volatile HttpServer server;
  private final List<Recorded> requests = new CopyOnWriteArrayList<>();

  /** Stream chunks left to send before the connection is dropped; -1 never drops. */
  private volatile int dieAfterChunks = -1;

  private volatile int chunks = 5;
  private volatile long chunkDelayMillis = 20;
  private volatile long firstByteDelayMillis = 0;
  private volatile long firstChunkDelayMillis = 0;
  private final AtomicInteger closedByPeer = new AtomicInteger();
  private final BlockingQueue<String> events = new LinkedBlockingQueue<>();

  /** How it listens: plain HTTP, or TLS with a test CA's certificate. */
  private final HttpServerOptions options;

  public FakeUpstream() {
    this(new HttpServerOptions());
  }

  /**
   * One that listens with {@code options} (TLS, for an https upstream); {@link #url} then names it
   * {@code https://localhost}, the name its certificate must carry.
   */
  public FakeUpstream(HttpServerOptions options) {
    this.options = options;
    server = vertx.createHttpServer(options).requestHandler(this::handle);
    server.listen(0, "127.0.0.1").await();
    port = server.actualPort();
  }

  /** The models this one lists; {@link #MODELS} unless a test gives others. */
  private volatile List<String> models = MODELS;

  /** Lists these models (in /api/tags, /api/ps and /v1/models) instead of {@link #MODELS}. */
  public FakeUpstream listing(String... names) {
    this.models = List.of(names);
    return this;
  }

  private volatile int port;

  public int port() {
    return port;
  }

  /** Stops listening, as a crashed model server: connections are refused until {@link #resume}. */
  public void stop() {
    server.close().await();
  }

  /** Listens again on the same port. */
  public void resume() {
    server = vertx.createHttpServer(options).requestHandler(this::handle);
    server.listen(port, "127.0.0.1").await();
  }

  public String url() {
    return options.isSsl() ? "https://localhost:" + port() : "http://127.0.0.1:" + port();
  }

  private final java.util.Map<String, String> digests =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** The manifest digest /api/tags lists for a model: bare hex, as Ollama shows it. */
  public String digestOf(String model) {
    return digests.computeIfAbsent(
        model,
        m -> {
          try {
            return java.util.HexFormat.of()
                .formatHex(
                    java.security.MessageDigest.getInstance("SHA-256")
                        .digest(m.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
          } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  /** Makes /api/tags report another digest for a model, as after a re-pull or a tampered store. */
  public void setDigest(String model, String hex) {
    digests.put(model, hex);
  }

  public List<Recorded> requests() {
    return List.copyOf(requests);
  }

  public void reset() {
    requests.clear();
    events.clear();
    dieAfterChunks = -1;
    chunks = 5;
    chunkDelayMillis = 20;
    firstByteDelayMillis = 0;
    firstChunkDelayMillis = 0;
    closedByPeer.set(0);
  }

  /** Streams {@code n} chunks, {@code delay} apart. */
  public FakeUpstream streaming(int n, long delayMillis) {
    this.chunks = n;
    this.chunkDelayMillis = delayMillis;
    return this;
  }

  /** Drops the connection after {@code n} stream chunks. */
  public FakeUpstream dieAfter(int n) {
    this.dieAfterChunks = n;
    return this;
  }

  public FakeUpstream firstByteDelay(long millis) {
    this.firstByteDelayMillis = millis;
    return this;
  }

  /**
   * Sends a stream's head at once, then its first chunk only after {@code millis}: a model server
   * that answers before its first token (vLLM, LocalAI).
   */
  public FakeUpstream firstChunkDelay(long millis) {
    this.firstChunkDelayMillis = millis;
    return this;
  }

  /** Lifecycle events ("stream-end", "client-closed") in the order they happened. */
  public String nextEvent(long timeoutMillis) throws InterruptedException {
    return events.poll(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  private void handle(HttpServerRequest req) {
    req.body()
        .onSuccess(
            body -> {
              requests.add(
                  new Recorded(
                      req.method().name(),
                      req.uri(),
                      MultiMap.caseInsensitiveMultiMap().addAll(req.headers()),
                      body.toString()));
              HttpServerResponse resp = req.response();
              resp.putHeader("Server", "FakeOllama/0.1.33");
              resp.putHeader("X-Ollama-Version", "0.1.33");
              resp.closeHandler(
                  v -> {
                    closedByPeer.incrementAndGet();
                    events.add("client-closed");
                  });
              if (firstByteDelayMillis > 0) {
                vertx.setTimer(firstByteDelayMillis, id -> route(req, resp, body));
              } else {
                route(req, resp, body);
              }
            });
  }

  private void route(HttpServerRequest req, HttpServerResponse resp, Buffer body) {
    JsonObject json =
        body.length() > 0 && body.getByte(0) == '{' ? new JsonObject(body) : new JsonObject();
    String path = req.path();
    switch (path) {
      case "/" ->
          resp.putHeader("Content-Type", "text/plain; charset=utf-8").end("Ollama is running");
      case "/api/version" -> json(resp, new JsonObject().put("version", "0.1.33"));
      case "/api/tags", "/api/ps" -> {
        JsonArray models = new JsonArray();
        this.models.forEach(
            m ->
                models.add(
                    new JsonObject()
                        .put("name", m)
                        .put("model", m)
                        .put("size", 1234)
                        .put("digest", digestOf(m))));
        json(resp, new JsonObject().put("models", models));
      }
      case "/v1/models" -> {
        JsonArray data = new JsonArray();
        this.models.forEach(
            m ->
                data.add(
                    new JsonObject()
                        .put("id", m)
                        .put("object", "model")
                        .put("created", 1730000000)
                        .put("owned_by", "library")));
        json(resp, new JsonObject().put("object", "list").put("data", data));
      }
      case "/api/chat", "/api/generate" -> ollamaGenerate(resp, json, path.equals("/api/chat"));
      case "/v1/chat/completions" -> openAiChat(resp, json);
      case "/api/embed" ->
          json(
              resp,
              new JsonObject()
                  .put("model", json.getString("model"))
                  .put("embeddings", new JsonArray().add(new JsonArray().add(0.1).add(0.2))));
      case "/v1/embeddings" ->
          json(
              resp,
              new JsonObject()
                  .put("object", "list")
                  .put("model", json.getString("model"))
                  .put(
                      "data",
                      new JsonArray()
                          .add(
                              new JsonObject()
                                  .put("object", "embedding")
                                  .put("index", 0)
                                  .put("embedding", new JsonArray().add(0.1).add(0.2))))
                  .put("usage", new JsonObject().put("prompt_tokens", 2).put("total_tokens", 2)));
      default -> json(resp, new JsonObject().put("status", "success").put("path", path));
    }
  }

  private static void json(HttpServerResponse resp, JsonObject o) {
    resp.putHeader("Content-Type", "application/json; charset=utf-8").end(o.encode());
  }

  /** Bulk chunks written so far by the latest bulk stream (see {@link #bulkWritten()}). */
  private final AtomicInteger bulkWritten = new AtomicInteger();

  public int bulkWritten() {
    return bulkWritten.get();
  }

  /**
   * A fast, large NDJSON stream of {@code n} lines of about 64 KiB that honours backpressure: it
   * writes only while the connection's write queue has room, so {@link #bulkWritten()} shows how
   * far a slow reader downstream has let it get.
   */
  private void bulk(HttpServerResponse resp, int n) {
    bulkWritten.set(0);
    resp.setChunked(true).putHeader("Content-Type", "application/x-ndjson");
    String line = "{\"response\":\"" + "x".repeat(64 * 1024 - 20) + "\"}\n";
    Runnable[] pump = new Runnable[1];
    pump[0] =
        () -> {
          while (!resp.writeQueueFull() && bulkWritten.get() < n) {
            resp.write(line);
            bulkWritten.incrementAndGet();
          }
          if (bulkWritten.get() >= n) {
            resp.end("{\"done\":true}\n");
            events.add("stream-end");
          } else {
            resp.drainHandler(v -> pump[0].run());
          }
        };
    pump[0].run();
  }

  private void ollamaGenerate(HttpServerResponse resp, JsonObject req, boolean chat) {
    int bulkChunks = req.getJsonObject("options", new JsonObject()).getInteger("bulk_chunks", 0);
    if (bulkChunks > 0) {
      bulk(resp, bulkChunks);
      return;
    }
    String model = req.getString("model", "llama3.2:3b");
    boolean stream = req.getBoolean("stream", true);
    if (!stream) {
      JsonObject o =
          new JsonObject()
              .put("model", model)
              .put("created_at", "2026-11-22T00:00:00Z")
              .put("done", true)
              .put("done_reason", "stop")
              .put("prompt_eval_count", 7)
              .put("eval_count", chunks);
      if (chat) {
        o.put(
            "message",
            new JsonObject().put("role", "assistant").put("content", "Hello from the fake."));
      } else {
        o.put("response", "Hello from the fake.");
      }
      json(resp, o);
      return;
    }
    resp.setChunked(true).putHeader("Content-Type", "application/x-ndjson");
    sendChunks(
        resp,
        0,
        i -> {
          JsonObject o =
              new JsonObject()
                  .put("model", model)
                  .put("created_at", "2026-11-22T00:00:00Z")
                  .put("done", false)
                  .put("seq", i)
                  .put("sent_at_nanos", System.nanoTime());
          if (chat) {
            o.put(
                "message",
                new JsonObject().put("role", "assistant").put("content", "tok" + i + " "));
          } else {
            o.put("response", "tok" + i + " ");
          }
          return o.encode() + "\n";
        },
        () -> {
          JsonObject last =
              new JsonObject()
                  .put("model", model)
                  .put("done", true)
                  .put("done_reason", "stop")
                  .put("prompt_eval_count", 7)
                  .put("eval_count", chunks);
          if (chat) {
            last.put("message", new JsonObject().put("role", "assistant").put("content", ""));
          } else {
            last.put("response", "");
          }
          return last.encode() + "\n";
        });
  }

  private void openAiChat(HttpServerResponse resp, JsonObject req) {
    String model = req.getString("model", "llama3.2:3b");
    boolean stream = req.getBoolean("stream", false);
    if (!stream) {
      json(
          resp,
          new JsonObject()
              .put("id", "chatcmpl-fake")
              .put("object", "chat.completion")
              .put("created", 1730000000)
              .put("model", model)
              .put(
                  "choices",
                  new JsonArray()
                      .add(
                          new JsonObject()
                              .put("index", 0)
                              .put("finish_reason", "stop")
                              .put(
                                  "message",
                                  new JsonObject()
                                      .put("role", "assistant")
                                      .put("content", "Hello from the fake."))))
              .put(
                  "usage",
                  new JsonObject()
                      .put("prompt_tokens", 7)
                      .put("completion_tokens", 5)
                      .put("total_tokens", 12)));
      return;
    }
    boolean usage =
        req.getJsonObject("stream_options", new JsonObject()).getBoolean("include_usage", false);
    resp.setChunked(true)
        .putHeader("Content-Type", "text/event-stream")
        .putHeader("Cache-Control", "no-cache");
    sendChunks(
        resp,
        0,
        i ->
            "data: "
                + new JsonObject()
                    .put("id", "chatcmpl-fake")
                    .put("object", "chat.completion.chunk")
                    .put("created", 1730000000)
                    .put("model", model)
                    .put("seq", i)
                    .put("sent_at_nanos", System.nanoTime())
                    .put(
                        "choices",
                        new JsonArray()
                            .add(
                                new JsonObject()
                                    .put("index", 0)
                                    .put(
                                        "delta",
                                        new JsonObject()
                                            .put("role", "assistant")
                                            .put("content", "tok" + i + " "))
                                    .putNull("finish_reason")))
                    .encode()
                + "\n\n",
        () -> {
          StringBuilder b = new StringBuilder();
          b.append("data: ")
              .append(
                  new JsonObject()
                      .put("id", "chatcmpl-fake")
                      .put("object", "chat.completion.chunk")
                      .put("created", 1730000000)
                      .put("model", model)
                      .put(
                          "choices",
                          new JsonArray()
                              .add(
                                  new JsonObject()
                                      .put("index", 0)
                                      .put("delta", new JsonObject())
                                      .put("finish_reason", "stop")))
                      .encode())
              .append("\n\n");
          if (usage) {
            b.append("data: ")
                .append(
                    new JsonObject()
                        .put("id", "chatcmpl-fake")
                        .put("object", "chat.completion.chunk")
                        .put("created", 1730000000)
                        .put("model", model)
                        .put("choices", new JsonArray())
                        .put(
                            "usage",
                            new JsonObject()
                                .put("prompt_tokens", 7)
                                .put("completion_tokens", chunks)
                                .put("total_tokens", 7 + chunks))
                        .encode())
                .append("\n\n");
          }
          return b.append("data: [DONE]\n\n").toString();
        });
  }

  private void sendChunks(
      HttpServerResponse resp,
      int i,
      java.util.function.IntFunction<String> chunk,
      java.util.function.Supplier<String> last) {
    if (resp.closed()) {
      return;
    }
    if (i == 0 && firstChunkDelayMillis > 0 && !resp.headWritten()) {
      resp.writeHead();
      vertx.setTimer(firstChunkDelayMillis, id -> sendChunks(resp, 0, chunk, last));
      return;
    }
    if (dieAfterChunks >= 0 && i >= dieAfterChunks) {
      events.add("died");
      resp.reset(); // drop the connection mid-stream, as a crashing model server would
      return;
    }
    if (i >= chunks) {
      resp.end(last.get());
      events.add("stream-end");
      return;
    }
    resp.write(chunk.apply(i));
    vertx.setTimer(Math.max(1, chunkDelayMillis), id -> sendChunks(resp, i + 1, chunk, last));
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}

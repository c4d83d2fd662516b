package dev.gatehouse.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.streams.ReadStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One request to an upstream and its response, over a connection of the event loop's {@link
 * LoopConnections}: what the relay sends and reads. {@link Upstream#call} completes with it once it
 * has a connection; the caller then writes the request ({@link #end}, {@link #writeHead} and {@link
 * #write}, or {@link #pipe}), and reads the response from {@link #response}: the head, then the
 * body through {@link #handler} and {@link #endHandler}, or a failure through {@link
 * #exceptionHandler}, which may be paused ({@link #pause}).
 *
 * <p>Once the response has ended and the request was written whole, the connection goes back to the
 * pool for the next call, unless the upstream said {@code Connection: close}; any other end closes
 * it. {@link #reset} gives up: it fails the response when its head has not come, and otherwise
 * nothing more is reported.
 *
 * <p>Confined to its event loop: every method is called there, and every handler runs there.
 */
public final class UpstreamCall {

  /** A response whose body has ended, in the queue of a paused one. */
  private static final Object END = new Object();

  private final LoopConnections pool;

  /**
   * The caller's Vert.x context: what its handlers run in, as they would from Vert.x's own client
   * (its timers and {@code runOnContext} then stay on this event loop).
   */
  private final ContextInternal ctx;

  private final Handler<Object> reader = this::onRead;
  private final HttpMethod method;

  /**
   * The request's target and headers, until its head is written: a stream then holds neither for as
   * long as it runs.
   */
  private @Nullable String uri;

  private @Nullable HttpHeaders headers;
  private final Promise<UpstreamCall> connected = Promise.promise();
  private final Promise<UpstreamCall> head = Promise.promise();
  private final Promise<Void> written = Promise.promise();

  private LoopConnections.@Nullable Connection conn;
  private @Nullable ScheduledFuture<?> waitTimer;

  /** Over: failed, reset, or its end delivered. Nothing more is written or reported. */
  private boolean over;

  /** The response's end was read (and is delivered, or waits in the queue). */
  private boolean endRead;

  private boolean requestWritten;
  private boolean interim;
  private boolean keepAlive;

  /**
   * The response's head while its handler runs (its headers are read there, then let go: a stream
   * holds only its status); null before it and after.
   */
  private @Nullable HttpResponse response;

  /** The response's status once its head came; 0 before. */
  private int status;

  private @Nullable Handler<Buffer> handler;
  private @Nullable Handler<Void> endHandler;
  private @Nullable Handler<Throwable> exceptionHandler;
  private @Nullable Runnable drain;

  private boolean paused;

  /** What came while paused: buffers, then {@link #END} or a failure. */
  private @Nullable ArrayDeque<Object> queued;

  UpstreamCall(
      LoopConnections pool,
      ContextInternal ctx,
      HttpMethod method,
      String uri,
      HttpHeaders headers) {
    this.pool = pool;
    this.ctx = ctx;
    this.method = method;
    this.uri = uri;
    this.headers = headers;
  }

  // ---- the pool's side

  /** Completes with this call once it has a connection; fails when it gets none. */
  Future<UpstreamCall> connectedFuture() {
    return connected.future();
  }

  void waitTimer(ScheduledFuture<?> timer) {
    waitTimer = timer;
  }

  /** Whether it was given up before it had a connection. */
  boolean done() {
    return over;
  }

  void connected(LoopConnections.Connection c) {
    ScheduledFuture<?> t = waitTimer;
    if (t != null) {
      t.cancel(false);
      waitTimer = null;
    }
    conn = c;
    ctx.dispatch(this, connected::tryComplete);
  }

  /** It got no connection: refused, or none within the time. */
  void failed(Throwable cause) {
    over = true;
    ctx.dispatch(cause, connected::tryFail);
  }

  // ---- the request

  /** Writes the whole request, with {@code body} (and its Content-Length) if there is one. */
  public void end(@Nullable Buffer body) {
    LoopConnections.Connection c = conn;
    ByteBuf content = body == null ? Unpooled.EMPTY_BUFFER : ((BufferInternal) body).getByteBuf();
    HttpRequest request = head(body == null ? -1 : content.readableBytes(), content);
    if (c != null && request != null) {
      c.channel.writeAndFlush(request).addListener(this::lastWrite);
    }
  }

  /** Writes the request's head, for a body of {@code length} bytes written after it. */
  public void writeHead(long length) {
    LoopConnections.Connection c = conn;
    HttpRequest request = head(length, null);
    if (c != null && request != null) {
      c.channel.write(request);
    }
  }

  /**
   * The request's head, with {@code length} as its Content-Length (none when negative) and the
   * whole body {@code content} when given; null when the call is over, has no connection, or its
   * head went already. Lets go of the target and headers: the head is made once, and the
   * connection's framing check told of it, to be written at once.
   */
  private @Nullable HttpRequest head(long length, @Nullable ByteBuf content) {
    LoopConnections.Connection c = conn;
    HttpHeaders h = headers;
    String target = uri;
    if (over || c == null || h == null || target == null) {
      return null;
    }
    headers = null;
    uri = null; // and so the head is written (headWritten)
    c.framing.requestSent(method.equals(HttpMethod.HEAD));
    if (length >= 0) {
      h.set(HttpHeaderNames.CONTENT_LENGTH, length);
    }
    return content == null
        ? new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, target, h)
        : new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, method, target, content, h, EmptyHttpHeaders.INSTANCE);
  }

  /** Writes a piece of the body, after {@link #writeHead}. */
  public void write(Buffer piece) {
    LoopConnections.Connection c = conn;
    if (over || c == null) {
      return;
    }
    c.channel.writeAndFlush(
        new DefaultHttpContent(((BufferInternal) piece).getByteBuf()), c.channel.voidPromise());
  }

  /** Ends a body written in pieces. */
  public void endBody() {
    LoopConnections.Connection c = conn;
    if (over || c == null) {
      return;
    }
    c.channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(this::lastWrite);
  }

  /** Whether the connection holds as much unsent as it should: wait for {@link #drainHandler}. */
  public boolean writeQueueFull() {
    LoopConnections.Connection c = conn;
    return c == null || !c.channel.isWritable();
  }

  /** Run once, when the connection can take more after {@link #writeQueueFull}. */
  public void drainHandler(Runnable r) {
    drain = r;
  }

  void drained() {
    Runnable d = drain;
    drain = null;
    if (d != null) {
      ctx.dispatch(d);
    }
  }

  /**
   * Sends {@code from}'s bytes as the body, {@code length} of them, as fast as the connection takes
   * them: {@code from} is paused while the connection's buffer is full. A failure of {@code from}
   * fails the call.
   */
  public void pipe(ReadStream<Buffer> from, long length) {
    writeHead(length);
    from.handler(
        b -> {
          write(b);
          if (!over && writeQueueFull()) {
            from.pause();
            drainHandler(from::resume);
          }
        });
    from.exceptionHandler(this::fail);
    from.endHandler(v -> endBody());
    from.resume();
  }

  /** Completes once the whole request has been written to the connection. */
  public Future<Void> written() {
    return written.future();
  }

  private void lastWrite(io.netty.util.concurrent.Future<? super Void> f) {
    if (f.isSuccess()) {
      requestWritten = true;
      ctx.dispatch(v -> written.tryComplete());
    } else {
      ctx.dispatch(
          v -> {
            written.tryFail(f.cause());
            fail(f.cause());
          });
    }
  }

  /**
   * Runs {@code task} in the caller's context after {@code millis}, unless cancelled first ({@code
   * cancel(false)} is true when it will not run). The relay's timers for this call (its first byte,
   * its silence): Netty's own scheduling on the call's event loop, with none of the bookkeeping a
   * Vert.x timer adds (a handler object and an entry in a shared map per timer).
   */
  public ScheduledFuture<?> timer(long millis, Runnable task) {
    return ctx.nettyEventLoop()
        .schedule(() -> ctx.dispatch(task), Math.max(1, millis), TimeUnit.MILLISECONDS);
  }

  // ---- the response

  /** Completes at the response's head; fails when the call fails before it. */
  public Future<UpstreamCall> response() {
    return head.future();
  }

  /** The response's status; after its head. */
  public int statusCode() {
    return status;
  }

  /** The response's headers: while the head's handler ({@link #response}) runs, and empty after. */
  public HttpHeaders headers() {
    HttpResponse r = response;
    return r == null ? EmptyHttpHeaders.INSTANCE : r.headers();
  }

  public UpstreamCall handler(Handler<Buffer> h) {
    handler = h;
    return this;
  }

  public UpstreamCall endHandler(Handler<Void> h) {
    endHandler = h;
    return this;
  }

  public UpstreamCall exceptionHandler(Handler<Throwable> h) {
    exceptionHandler = h;
    return this;
  }

  /** Stops reading the response; what was read meanwhile waits for {@link #resume}. */
  public void pause() {
    paused = true;
    LoopConnections.Connection c = conn;
    if (c != null) {
      c.channel.config().setAutoRead(false);
    }
  }

  /** Delivers what waited, then reads on. */
  public void resume() {
    paused = false;
    // read again each turn: a handler may pause again, or reset (which empties it)
    while (!paused && queued != null && !queued.isEmpty()) {
      dispatch(queued.poll());
    }
    LoopConnections.Connection c = conn;
    if (!paused && c != null) {
      c.channel.config().setAutoRead(true);
    }
  }

  /**
   * Gives the call up and closes its connection (kept for the next call when nothing was written on
   * it yet). A response whose head has not come fails; after that nothing more is reported.
   */
  public void reset() {
    if (over) {
      return;
    }
    over = true;
    queued = null;
    ScheduledFuture<?> t = waitTimer;
    if (t != null) {
      t.cancel(false);
      pool.forget(this);
    }
    LoopConnections.Connection c = conn;
    conn = null;
    if (c != null) {
      c.call = null;
      if (headWritten()) {
        c.channel.close();
      } else {
        pool.release(c, true);
      }
    }
    if (status == 0) {
      head.tryFail(new IOException("upstream request reset"));
    }
  }

  /** Whether the request's head was written: it let go of its target then. */
  private boolean headWritten() {
    return uri == null;
  }

  /** A message from the connection's decoder. */
  void read(Object msg) {
    ctx.dispatch(msg, reader);
  }

  private void onRead(Object msg) {
    if (over || endRead) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
      Throwable why = o.decoderResult().cause();
      ReferenceCountUtil.release(msg);
      fail(why);
      return;
    }
    if (msg instanceof HttpResponse r) {
      int code = r.status().code();
      if (code >= 100 && code < 200) {
        if (code == 101) {
          ReferenceCountUtil.release(msg);
          fail(new IOException("upstream switched protocols (HTTP 101)"));
          return;
        }
        interim = true; // 100 Continue, 103 Early Hints: the answer comes after it
      } else {
        status = code;
        keepAlive = HttpUtil.isKeepAlive(r);
        response = r;
        head.tryComplete(this);
        response = null;
        if (over) {
          ReferenceCountUtil.release(msg);
          return; // reset by the head's handler
        }
      }
    }
    if (msg instanceof HttpContent content) {
      boolean last = content instanceof LastHttpContent;
      if (interim) {
        interim = !last;
        content.release();
        return;
      }
      ByteBuf bytes = content.content();
      if (bytes.isReadable()) {
        deliver(BufferInternal.safeBuffer(bytes)); // a heap copy; the pooled read is released
      } else {
        content.release();
      }
      if (last && !over) {
        endRead = true;
        deliver(END);
      }
    }
  }

  /** The connection closed under the call. */
  void closed(@Nullable Throwable cause) {
    conn = null;
    ctx.dispatch(cause != null ? cause : new IOException("upstream connection closed"), this::fail);
  }

  /** The call fails: its connection is closed, and the failure reported once. */
  private void fail(Throwable cause) {
    LoopConnections.Connection c = conn;
    conn = null;
    if (c != null) {
      c.call = null; // its close reports to nobody
      Throwable first = c.cause();
      if (first != null) {
        cause = first; // the reason it was closed (the framing check's), not how the decoder saw it
      }
      c.channel.close();
    }
    if (over || endRead) {
      return; // over already, or the response is whole (its end waits in the queue)
    }
    over = true;
    if (status == 0) {
      head.tryFail(cause);
    } else {
      deliver(cause);
    }
  }

  /** Hands {@code item} to its handler now, or queues it behind what waits while paused. */
  private void deliver(Object item) {
    if (!paused && (queued == null || queued.isEmpty())) {
      dispatch(item);
      return;
    }
    ArrayDeque<Object> q = queued;
    if (q == null) {
      q = new ArrayDeque<>(4);
      queued = q;
    }
    q.add(item);
  }

  private void dispatch(@Nullable Object item) {
    if (item instanceof Buffer b) {
      Handler<Buffer> h = handler;
      if (h != null) {
        h.handle(b);
      }
    } else if (item == END) {
      finish();
    } else if (item instanceof Throwable t) {
      Handler<Throwable> h = exceptionHandler;
      if (h != null) {
        h.handle(t);
      }
    }
  }

  private void finish() {
    over = true;
    LoopConnections.Connection c = conn;
    conn = null;
    if (c != null) {
      pool.release(c, keepAlive && requestWritten);
    }
    Handler<Void> h = endHandler;
    if (h != null) {
      h.handle(null);
    }
  }
}

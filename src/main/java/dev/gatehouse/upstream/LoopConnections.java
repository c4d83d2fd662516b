package dev.gatehouse.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.impl.buffer.VertxByteBufAllocator;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The relay's HTTP/1.1 connections to one upstream from one event loop, on Netty directly: at most
 * {@code limits.max_upstream_connections} open, kept alive between requests for {@value
 * #KEEP_ALIVE_SECONDS} s, and handed out most recently used first (its buffers and the upstream's
 * side of it are the warmest). A call that finds every connection busy waits, first come first
 * served, for at most {@code timeouts.upstream_connect}.
 *
 * <p>Why not Vert.x's HTTP client, which the control requests (health checks, model lists, digests)
 * still use: each of its connections carries a multi-producer write queue (a 1,024-slot array,
 * about 5 KB per connection, so per open stream) and a request object, promise and context hop per
 * request, on the relay's busiest path; a connection owned by one event loop needs none of it. Each
 * connection reads through {@link UpstreamFraming} like every other upstream connection.
 *
 * <p>Confined to its event loop: every method runs there.
 */
final class LoopConnections {

  /** How long an unused connection is kept open. */
  static final int KEEP_ALIVE_SECONDS = 60;

  /** The response head's limits: Vert.x's defaults, which the relay had before. */
  private static final int MAX_INITIAL_LINE = 4096;

  private static final int MAX_HEADER_SIZE = 8192;
  private static final int MAX_CHUNK_SIZE = 8192;

  /**
   * The decoder's first buffer for a head's lines, which every connection holds (it grows for a
   * longer line): Netty's default is 128 bytes; an upstream's status and header lines are mostly
   * shorter than 64.
   */
  private static final int LINE_BUFFER = 64;

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final String connectHost;
  private final int port;
  private final int max;
  private final long connectMillis;

  /** Open connections with no call, the most recently used last. */
  private final ArrayDeque<Connection> idle = new ArrayDeque<>();

  /** Every open connection, idle or carrying a call: what {@link #close} closes. */
  private final Set<Connection> all = new HashSet<>();

  /** Calls waiting for a connection, the first to come first. */
  private final ArrayDeque<UpstreamCall> waiting = new ArrayDeque<>();

  private final ScheduledFuture<?> sweep;

  /** Connections open or being opened. */
  private int open;

  private boolean closed;

  LoopConnections(
      VertxInternal vertx,
      EventLoop loop,
      Upstream.Address address,
      @Nullable SslContext tls,
      int max,
      long connectMillis) {
    this.loop = loop;
    this.max = max;
    this.connectMillis = connectMillis;
    String host = address.host();
    // An IPv6 literal keeps its brackets in a URL and a Host header, not in a socket address.
    this.connectHost =
        host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    this.port = address.port();
    this.bootstrap =
        new Bootstrap()
            .group(loop)
            .channelFactory(vertx.transport().channelFactory(false))
            .resolver(vertx.nameResolver().nettyAddressResolverGroup())
            .option(ChannelOption.ALLOCATOR, VertxByteBufAllocator.POOLED_ALLOCATOR)
            .option(ChannelOption.TCP_NODELAY, true)
            // no CONNECT_TIMEOUT_MILLIS: Netty's channel would keep its (cancelled) timeout task
            // for as long as the connection lives; connect() times the connect itself
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 0)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    if (tls != null) {
                      ch.pipeline().addLast("ssl", tls.newHandler(ch.alloc(), connectHost, port));
                    }
                    ch.pipeline()
                        .addLast(
                            UpstreamFraming.CODEC,
                            new HttpClientCodec(
                                new HttpDecoderConfig()
                                    .setMaxInitialLineLength(MAX_INITIAL_LINE)
                                    .setMaxHeaderSize(MAX_HEADER_SIZE)
                                    .setMaxChunkSize(MAX_CHUNK_SIZE)
                                    .setInitialBufferSize(LINE_BUFFER),
                                false, // no parsing after a CONNECT, as before
                                false)); // no failOnMissingResponse, as before
                    UpstreamFraming framing = UpstreamFraming.installChecker(ch);
                    ch.pipeline().addLast("gatehouseUpstream", new Connection(ch, framing));
                  }
                });
    this.sweep = loop.scheduleAtFixedRate(this::closeExpired, 10, 10, TimeUnit.SECONDS);
  }

  /**
   * Starts a call to {@code uri} (under the base path, with the {@code Host} in {@code headers})
   * from {@code ctx}, a context of this event loop: see {@link Upstream#call}.
   */
  UpstreamCall call(ContextInternal ctx, HttpMethod method, String uri, HttpHeaders headers) {
    UpstreamCall call = new UpstreamCall(this, ctx, method, uri, headers);
    start(call);
    return call;
  }

  /** Gives {@code call} a connection: an idle one, a new one, or the next one freed. */
  private void start(UpstreamCall call) {
    if (closed) {
      call.failed(new IllegalStateException("upstream client closed"));
      return;
    }
    long now = System.nanoTime();
    Connection c;
    while ((c = idle.pollLast()) != null) {
      if (c.fresh(now)) {
        c.assign(call);
        return;
      }
      c.channel.close();
    }
    if (open < max) {
      connect(call);
      return;
    }
    waiting.add(call);
    call.waitTimer(
        loop.schedule(
            () -> {
              if (waiting.remove(call)) {
                call.failed(
                    new ConnectException(
                        "no connection to the upstream free within timeouts.upstream_connect ("
                            + max
                            + " open)"));
              }
            },
            connectMillis,
            TimeUnit.MILLISECONDS));
  }

  /** A waiting call that gave up (its client left): it no longer takes a connection. */
  void forget(UpstreamCall call) {
    waiting.remove(call);
  }

  private void connect(UpstreamCall call) {
    open++;
    ChannelFuture connecting = bootstrap.connect(connectHost, port);
    ScheduledFuture<?> timeout = // timeouts.upstream_connect is positive (the config checks it)
        loop.schedule(
            () -> {
              // as Netty's own connect timeout: the attempt fails, and the channel is closed
              if (connecting instanceof ChannelPromise p
                  && p.tryFailure(
                      new ConnectTimeoutException(
                          "connection timed out after "
                              + connectMillis
                              + " ms: "
                              + connectHost
                              + ":"
                              + port))) {
                connecting.channel().close();
              }
            },
            connectMillis,
            TimeUnit.MILLISECONDS);
    connecting.addListener(
        f -> {
          timeout.cancel(false);
          connected(call, f);
        });
  }

  /** The connect for {@code call} is over: the call gets the connection, or fails. */
  private void connected(UpstreamCall call, io.netty.util.concurrent.Future<? super Void> f) {
    if (!f.isSuccess()) {
      open--;
      call.failed(f.cause());
      next();
      return;
    }
    Connection c = ((ChannelFuture) f).channel().pipeline().get(Connection.class);
    if (c == null || !c.channel.isActive()) {
      // closed as soon as it opened: its close freed its slot (closed)
      call.failed(new ConnectException("upstream connection closed on connect"));
    } else {
      all.add(c); // until it closes (one that never connected is in no set)
      if (call.done()) {
        release(c, true); // given up while it connected: the next call takes it
      } else {
        c.assign(call);
      }
    }
  }

  /** A call is over with its connection: kept for the next call, or closed. */
  void release(Connection c, boolean reusable) {
    c.call = null;
    if (!reusable || closed || !c.channel.isActive()) {
      c.channel.close();
      return;
    }
    c.channel.config().setAutoRead(true);
    UpstreamCall next = waiting.poll();
    if (next != null) {
      c.assign(next);
      return;
    }
    c.idleSince = System.nanoTime();
    idle.addLast(c);
  }

  /** A connection closed: its slot is free for a waiting call. */
  private void closed(Connection c) {
    open--;
    all.remove(c);
    if (c.call == null) {
      idle.remove(c); // an idle one (or one between two calls); a busy one is in no queue
    }
    next();
  }

  private void next() {
    if (!closed && open < max) {
      UpstreamCall w = waiting.poll();
      if (w != null) {
        connect(w);
      }
    }
  }

  private void closeExpired() {
    long now = System.nanoTime();
    // the oldest first: stop at the first one still fresh
    Connection c;
    while ((c = idle.peekFirst()) != null && !c.fresh(now)) {
      idle.pollFirst();
      c.channel.close();
    }
  }

  /**
   * Closes every connection, which fails the calls they carry (a stream still running ends with an
   * error in its dialect), and fails every waiting call; later calls fail.
   */
  void close() {
    closed = true;
    sweep.cancel(false);
    UpstreamCall w;
    while ((w = waiting.poll()) != null) {
      w.failed(new IllegalStateException("upstream client closed"));
    }
    idle.clear();
    for (Connection c : List.copyOf(all)) {
      c.channel.close();
    }
  }

  EventLoop loop() {
    return loop;
  }

  /** One connection: the last handler of its pipeline, and the call it carries now, if any. */
  final class Connection extends ChannelInboundHandlerAdapter {
    final Channel channel;

    /** The strict framing check on its responses, told of each request as it is written. */
    final UpstreamFraming framing;

    @Nullable UpstreamCall call;
    long idleSince;
    private @Nullable Throwable cause;

    Connection(Channel channel, UpstreamFraming framing) {
      this.channel = channel;
      this.framing = framing;
    }

    boolean fresh(long now) {
      return channel.isActive() && now - idleSince < TimeUnit.SECONDS.toNanos(KEEP_ALIVE_SECONDS);
    }

    void assign(UpstreamCall c) {
      call = c;
      c.connected(this);
    }

    /** The first failure reported on it: why it was closed. */
    @Nullable Throwable cause() {
      return cause;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      UpstreamCall c = call;
      if (c == null) {
        ReferenceCountUtil.release(msg); // the framing check closes a connection that gets this
        return;
      }
      c.read(msg);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      UpstreamCall c = call;
      if (c != null && ctx.channel().isWritable()) {
        c.drained();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable e) {
      if (cause == null) {
        cause = e;
      }
      ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closed(this);
      UpstreamCall c = call;
      call = null;
      if (c != null) {
        c.closed(cause);
      }
    }
  }
}

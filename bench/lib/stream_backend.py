#!/usr/bin/env python3
"""Streaming LLM-style backend for the Gatehouse benchmark (stdlib asyncio only).

POST /api/chat            -> Ollama NDJSON stream (application/x-ndjson), one JSON object per line
POST /v1/chat/completions -> OpenAI SSE stream (text/event-stream), "data: {...}" events, then [DONE]
GET  /                    -> "Ollama is running" (readiness probes)

Every line carries "seq" (0-based) and "t", the backend's wall-clock send time (time.time(), in
seconds), so a client on the same machine can compute per-chunk delay = receive time - t.

Stream shape: n lines, ms milliseconds apart (first line right after the head). Set per request by
the JSON body field {"bench": {"n": 50, "ms": 20}} or the query string ?n=50&ms=20 (query wins).
Defaults: n=50, ms=20. Bounds: n <= 10000, ms <= 10000.

Binds 127.0.0.1 only; the process exits by itself after --max-seconds.
"""

import argparse
import asyncio
import json
import signal
import sys
import time
import urllib.parse

MAX_N = 10000
MAX_MS = 10000
MAX_BODY = 1 << 20
MODEL = "llama3.2:3b"
WORDS = ["The", " sky", " appears", " blue", " because", " of", " Rayleigh", " scattering", "."]

stats = {"requests": 0, "streams_open": 0, "streams_max": 0}


def clamp_int(v, lo, hi, default):
    try:
        i = int(v)
    except (TypeError, ValueError):
        return default
    return max(lo, min(hi, i))


def stream_params(target, body):
    n, ms = 50, 20
    try:
        b = json.loads(body) if body else {}
        bench = b.get("bench") if isinstance(b, dict) else None
        if isinstance(bench, dict):
            n = clamp_int(bench.get("n"), 1, MAX_N, n)
            ms = clamp_int(bench.get("ms"), 0, MAX_MS, ms)
    except ValueError:
        pass
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    if "n" in q:
        n = clamp_int(q["n"][0], 1, MAX_N, n)
    if "ms" in q:
        ms = clamp_int(q["ms"][0], 0, MAX_MS, ms)
    return n, ms


def ndjson_line(seq, n):
    now = time.time()
    done = seq == n - 1
    obj = {
        "model": MODEL,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + "Z",
        "message": {"role": "assistant", "content": "" if done else WORDS[seq % len(WORDS)]},
        "done": done,
        "seq": seq,
        "t": now,
    }
    if done:
        obj.update({"done_reason": "stop", "total_duration": 1000000, "eval_count": n})
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def sse_event(seq, n):
    now = time.time()
    last = seq == n - 1
    obj = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": int(now),
        "model": MODEL,
        "system_fingerprint": "fp_ollama",
        "choices": [{
            "index": 0,
            "delta": {} if last else {"role": "assistant", "content": WORDS[seq % len(WORDS)]},
            "finish_reason": "stop" if last else None,
        }],
        "seq": seq,
        "t": now,
    }
    return ("data: " + json.dumps(obj, separators=(",", ":")) + "\n\n").encode()


def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


async def send_simple(writer, status, ctype, body, keep):
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n"
    ).encode()
    writer.write(head + body)
    await writer.drain()


async def send_stream(writer, sse, n, ms):
    ctype = "text/event-stream" if sse else "application/x-ndjson"
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nTransfer-Encoding: chunked\r\n"
        f"Cache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n"
    ).encode()
    make = sse_event if sse else ndjson_line
    stats["streams_open"] += 1
    stats["streams_max"] = max(stats["streams_max"], stats["streams_open"])
    try:
        writer.write(head + chunk(make(0, n)))
        await writer.drain()
        start = time.monotonic()
        for seq in range(1, n):
            # absolute schedule, so the spacing does not drift with the time spent writing
            delay = start + seq * ms / 1000.0 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(chunk(make(seq, n)))
            await writer.drain()
        if sse:
            writer.write(chunk(b"data: [DONE]\n\n"))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    finally:
        stats["streams_open"] -= 1


async def read_body(reader, headers):
    te = headers.get("transfer-encoding", "").lower()
    if "chunked" in te:
        parts, total = [], 0
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("eof in chunked body")
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise ValueError("body too large")
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length = int(headers.get("content-length", "0") or "0")
    if length > MAX_BODY:
        raise ValueError("body too large")
    return await reader.readexactly(length) if length else b""


async def handle(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            parts = line.decode("latin-1").strip().split(" ")
            if len(parts) != 3:
                await send_simple(writer, "400 Bad Request", "text/plain", b"bad request line\n", False)
                return
            method, target, version = parts
            headers = {}
            for _ in range(200):
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            body = await read_body(reader, headers)
            stats["requests"] += 1
            keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
            path = urllib.parse.urlsplit(target).path
            if method == "POST" and path in ("/api/chat", "/v1/chat/completions"):
                n, ms = stream_params(target, body)
                await send_stream(writer, path != "/api/chat", n, ms)
            elif method in ("GET", "HEAD") and path == "/":
                await send_simple(writer, "200 OK", "text/plain; charset=utf-8", b"Ollama is running", keep)
            else:
                await send_simple(writer, "404 Not Found", "application/json", b'{"error":"not found"}', keep)
            if not keep:
                return
    except (ConnectionError, asyncio.IncompleteReadError, ValueError, OSError):
        pass
    finally:
        writer.transport.abort()


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--max-seconds", type=float, default=7200, help="exit by itself after this long")
    args = ap.parse_args()
    server = await asyncio.start_server(handle, "127.0.0.1", args.port, backlog=4096, limit=1 << 16)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"stream backend listening on 127.0.0.1:{args.port}", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.max_seconds)
    except asyncio.TimeoutError:
        print("stream backend: --max-seconds reached, exiting", flush=True)
    server.close()
    print(f"stream backend: {json.dumps(stats)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)

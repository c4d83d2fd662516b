"""Minimal asyncio HTTP/1.1 client pieces shared by the benchmark's Python tools (stdlib only).

Only what the benchmark needs: keep-alive requests to 127.0.0.1, chunked / Content-Length /
close-delimited bodies, and a receive timestamp for every piece of body as it arrives.
"""

import asyncio
import json
import time

HOST = "127.0.0.1"
CHAT_MESSAGES = [{"role": "user", "content": "Why is the sky blue?"}]


def chat_body(sse, n=None, ms=None, stream=True):
    """A small chat request; n/ms ask the benchmark's stream backend for a stream shape."""
    body = {"model": "llama3.2:3b", "messages": CHAT_MESSAGES, "stream": stream}
    if n is not None:
        body["bench"] = {"n": n, "ms": ms if ms is not None else 20}
    return json.dumps(body, separators=(",", ":")).encode()


def request_bytes(method, path, body=b"", auth=None, close=False):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "User-Agent: gatehouse-bench"]
    if auth:
        lines.append(f"Authorization: {auth}")
    if body or method == "POST":
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def connect(port, timeout=10.0):
    return await asyncio.wait_for(asyncio.open_connection(HOST, port, limit=1 << 20), timeout)


async def read_head(reader):
    """Returns (status, headers dict with lower-case names)."""
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed before the response head")
    parts = line.decode("latin-1").split(" ", 2)
    status = int(parts[1])
    headers = {}
    for _ in range(200):
        h = await reader.readline()
        if h in (b"\r\n", b"\n"):
            break
        if not h:
            raise ConnectionError("connection closed inside the response head")
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


async def body_pieces(reader, headers):
    """Yields (data, wall-clock receive time) for each piece of the body as it arrives."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("connection closed inside a chunked body")
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return
            data = await reader.readexactly(size)
            now = time.time()
            await reader.readexactly(2)
            yield data, now
    elif "content-length" in headers:
        left = int(headers["content-length"])
        while left > 0:
            data = await reader.read(min(left, 1 << 16))
            if not data:
                raise ConnectionError("connection closed inside a body")
            left -= len(data)
            yield data, time.time()
    else:
        while True:
            data = await reader.read(1 << 16)
            if not data:
                return
            yield data, time.time()


def parse_line(line):
    """A stream line (NDJSON object or SSE 'data: {...}') -> dict, or None (blank, [DONE], comments)."""
    s = line.strip()
    if not s:
        return None
    if s.startswith(b"data:"):
        s = s[5:].strip()
        if s == b"[DONE]":
            return None
    elif not s.startswith(b"{"):
        return None
    try:
        obj = json.loads(s)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def rss_kib(pid):
    """VmRSS of a process in KiB (from /proc/PID/status), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def pss_kib(pid):
    """Pss in KiB from /proc/PID/smaps_rollup (shared pages split between sharers), or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def percentile(values, p):
    """Nearest-rank-with-interpolation percentile of a non-empty list."""
    if not values:
        return None
    v = sorted(values)
    if len(v) == 1:
        return v[0]
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)

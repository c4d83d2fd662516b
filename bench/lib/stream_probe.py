#!/usr/bin/env python3
"""Streaming latency probe: time to first chunk and per-chunk delay, for NDJSON and SSE.

For every target (direct, gatehouse, nginx, ...) and format it sends POST /api/chat (NDJSON) or
POST /v1/chat/completions (SSE) asking the benchmark's stream backend for N lines M ms apart.
Requests are interleaved over one keep-alive connection per target, the order turned by one place
a rep (rep 1: A, B, C; rep 2: B, C, A; rep 3: C, A, B; ...): use a multiple of the number of
targets as --reps, so that every target has every place equally often.

  ttfc   = receive time of the first complete stream line - time the request was written
  delay  = receive time of a line - the send time "t" the backend wrote into that line

Both use the wall clock of this one machine. The client's own overhead is in every target's
figures alike, so compare targets with each other (added = target - direct).
"""

import argparse
import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchhttp as bh  # noqa: E402

FORMATS = {"ndjson": "/api/chat", "sse": "/v1/chat/completions"}


class Conn:
    def __init__(self, port):
        self.port = port
        self.reader = None
        self.writer = None

    async def ensure(self):
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await bh.connect(self.port)

    def drop(self):
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None


async def one_stream(conn, fmt, auth, n, ms):
    """Runs one stream; returns a dict with ttfc_ms, delays_ms, lines, ..."""
    await conn.ensure()
    req = bh.request_bytes("POST", FORMATS[fmt], bh.chat_body(fmt == "sse", n, ms), auth)
    t_send = time.time()
    conn.writer.write(req)
    await conn.writer.drain()
    status, headers = await bh.read_head(conn.reader)
    t_head = time.time()
    buf = b""
    first = None
    delays, seqs, pieces = [], [], 0
    async for data, t_recv in bh.body_pieces(conn.reader, headers):
        pieces += 1
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            obj = bh.parse_line(line)
            if obj is None or "t" not in obj:
                continue
            if first is None:
                first = t_recv
            delays.append((t_recv - float(obj["t"])) * 1000.0)
            seqs.append(obj.get("seq"))
    t_end = time.time()
    if headers.get("connection", "").lower() == "close" or (
        "content-length" not in headers and "chunked" not in headers.get("transfer-encoding", "").lower()
    ):
        conn.drop()
    return {
        "status": status,
        "content_type": headers.get("content-type"),
        "ttfh_ms": (t_head - t_send) * 1000.0,
        "ttfc_ms": None if first is None else (first - t_send) * 1000.0,
        "total_ms": (t_end - t_send) * 1000.0,
        "lines": len(seqs),
        "in_order": seqs == list(range(len(seqs))),
        "pieces": pieces,
        "delays_ms": delays,
    }


def rotated(targets, rep):
    """The order of one rep: the list turned by one place a rep, so that over len(targets) reps
    every target has every place once. A stream's figures depend on its place: the target right
    after direct measured 0.3-0.5 ms more TTFC than the same target later in the rep, whichever it
    was (nginx or gatehouse; by hand, 2026-12-07). A fixed order gave that place to one target."""
    k = rep % len(targets)
    return targets[k:] + targets[:k]


def summarize(streams, n):
    ok = [s for s in streams if s.get("status") == 200 and s.get("ttfc_ms") is not None]
    ttfc = [s["ttfc_ms"] for s in ok]
    delays = [d for s in ok for d in s["delays_ms"][1:]]  # first line's delay is part of ttfc
    out = {
        "streams": len(streams),
        "streams_ok": len(ok),
        "complete": sum(1 for s in ok if s["lines"] == n and s["in_order"]),
        "errors": [s["error"] for s in streams if "error" in s][:5],
        "ttfc_ms": {"p50": bh.percentile(ttfc, 50), "p90": bh.percentile(ttfc, 90),
                    "min": min(ttfc) if ttfc else None, "max": max(ttfc) if ttfc else None},
        "delay_ms": {"p50": bh.percentile(delays, 50), "p99": bh.percentile(delays, 99),
                     "max": max(delays) if delays else None, "count": len(delays)},
        "lines_per_stream": bh.percentile([s["lines"] for s in ok], 50),
        "pieces_per_stream": bh.percentile([s["pieces"] for s in ok], 50),
        "total_ms_p50": bh.percentile([s["total_ms"] for s in ok], 50),
    }
    return out


async def run(args):
    targets = json.loads(args.targets)
    conns = {t["name"]: Conn(t["port"]) for t in targets}
    deadline = time.monotonic() + args.max_seconds

    async def guarded(t, fmt, n, ms):
        c = conns[t["name"]]
        budget = min(n * ms / 1000.0 + 15.0, max(1.0, deadline - time.monotonic()))
        try:
            return await asyncio.wait_for(one_stream(c, fmt, t.get("auth"), n, ms), budget)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as e:
            c.drop()
            return {"status": None, "ttfc_ms": None, "error": f"{type(e).__name__}: {e}"}

    # warm-up: short fast streams through every target (JIT of the JVM's streaming path, pools)
    for fmt in FORMATS:
        for t in targets:
            for _ in range(args.warmup):
                if time.monotonic() > deadline:
                    break
                await guarded(t, fmt, 5, 1)

    raw = {t["name"]: {f: [] for f in FORMATS} for t in targets}
    for rep in range(args.reps):
        for fmt in FORMATS:
            for t in rotated(targets, rep):
                if time.monotonic() > deadline:
                    break
                raw[t["name"]][fmt].append(await guarded(t, fmt, args.n, args.ms))
    for c in conns.values():
        c.drop()

    result = {"n": args.n, "ms": args.ms, "reps": args.reps, "warmup": args.warmup, "order": "rotated by one place a rep",
              "targets": {}}
    for t in targets:
        result["targets"][t["name"]] = {fmt: summarize(raw[t["name"]][fmt], args.n) for fmt in FORMATS}
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump(raw, f)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", required=True, help='JSON list: [{"name":..,"port":..,"auth":..}, ...]')
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=200, help="short warm-up streams per target and format")
    ap.add_argument("--n", type=int, default=50, help="lines per stream")
    ap.add_argument("--ms", type=int, default=20, help="milliseconds between lines")
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--out", required=True)
    ap.add_argument("--raw", help="also write every stream's raw figures here")
    args = ap.parse_args()
    result = asyncio.run(run(args))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    for name, per in result["targets"].items():
        for fmt, s in per.items():
            print(f"  stream {name:10s} {fmt:6s} ok {s['streams_ok']}/{s['streams']} complete {s['complete']}"
                  f"  ttfc p50 {fmt_ms(s['ttfc_ms']['p50'])}  delay p50 {fmt_ms(s['delay_ms']['p50'])}"
                  f" p99 {fmt_ms(s['delay_ms']['p99'])}  pieces/stream {s['pieces_per_stream']}")


def fmt_ms(v):
    return "-" if v is None else f"{v:.3f} ms"


if __name__ == "__main__":
    main()

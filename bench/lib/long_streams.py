#!/usr/bin/env python3
"""Long streams: C concurrent NDJSON streams of N chunks M ms apart, per target, in rounds.

Per round and target (interleaved: round 1 A, B, C, D; round 2 ...) it opens C connections at
once, each running one stream (POST /api/chat asking the stream backend for N lines M ms apart),
and reads the CPU time of the target's own processes (utime+stime from /proc/PID/stat) before and
after. Reported per target:

  cpu_us_per_chunk = proxy CPU time / stream lines the clients received (median over rounds)
  ttfc             = receive time of the first line - time the request was written
  delay            = receive time of a line - the send time "t" the backend wrote into it

Delays of all rounds are pooled for p50 / p99. Lines are parsed with a regular expression for
"t" only, to keep the client's own cost low.

--warmup-rounds W runs W rounds of the same kind first (interleaved the same way), reported as
warmup_cpu_us_per_chunk and left out of every other figure: a JVM meets chunks that come one per
read, 5 ms apart, for the first time here (the bench's streaming warm-up sends streams whose lines
come back to back), and its JIT compiles that path during the first rounds, on the same cores, in
the CPU this step measures.
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchhttp as bh  # noqa: E402
from run_wrk import proc_cpu_seconds  # noqa: E402

T_FIELD = re.compile(rb'"t":([0-9.eE+-]+)')


async def one_stream(port, auth, n, ms):
    reader, writer = await bh.connect(port)
    try:
        writer.write(bh.request_bytes("POST", "/api/chat", bh.chat_body(False, n, ms), auth, close=True))
        t_send = time.time()
        await writer.drain()
        status, headers = await bh.read_head(reader)
        if status != 200:
            raise ConnectionError(f"status {status}")
        buf = b""
        first = None
        delays = []
        async for data, t_recv in bh.body_pieces(reader, headers):
            buf += data
            if b"\n" not in buf:
                continue
            *lines, buf = buf.split(b"\n")
            for line in lines:
                m = T_FIELD.search(line)
                if m is None:
                    continue
                if first is None:
                    first = t_recv
                delays.append((t_recv - float(m.group(1))) * 1000.0)
        return {"ttfc_ms": None if first is None else (first - t_send) * 1000.0, "delays_ms": delays}
    finally:
        writer.transport.abort()


async def one_round(t, args):
    pids = t.get("pids") or []
    cpu0 = proc_cpu_seconds(pids)
    t0 = time.monotonic()
    budget = args.n * args.ms / 1000.0 + 60.0
    results = await asyncio.gather(
        *(asyncio.wait_for(one_stream(t["port"], t.get("auth"), args.n, args.ms), budget) for _ in range(args.conns)),
        return_exceptions=True)
    wall = time.monotonic() - t0
    cpu1 = proc_cpu_seconds(pids)
    ok = [r for r in results if isinstance(r, dict)]
    errors = [f"{type(r).__name__}: {r}" for r in results if not isinstance(r, dict)]
    chunks = sum(len(r["delays_ms"]) for r in ok)
    return {
        "streams": len(results), "ok": len(ok), "complete": sum(1 for r in ok if len(r["delays_ms"]) == args.n),
        "chunks": chunks, "wall_s": wall, "cpu_s": (cpu1 - cpu0) if pids else None,
        "cpu_us_per_chunk": (cpu1 - cpu0) * 1e6 / chunks if pids and chunks else None,
        "ttfc_ms": [r["ttfc_ms"] for r in ok if r["ttfc_ms"] is not None],
        "delays_ms": [d for r in ok for d in r["delays_ms"][1:]],  # the first line's is in ttfc
        "errors": errors[:5],
    }


async def rounds_of(targets, args, count, label, deadline):
    """`count` interleaved rounds (round 1: A, B, C; round 2: ...), until `deadline`: name -> records."""
    recs = {t["name"]: [] for t in targets}
    for r in range(count):
        for t in targets:
            if time.monotonic() > deadline:
                break
            rec = await one_round(t, args)
            recs[t["name"]].append(rec)
            cpu = rec["cpu_us_per_chunk"]
            print(f"  long-streams {label} {r + 1} {t['name']:15s} {rec['complete']}/{rec['streams']} complete,"
                  f" {rec['chunks']} chunks in {rec['wall_s']:.1f} s"
                  + (f", proxy CPU {cpu:.1f} us/chunk" if cpu is not None else "")
                  + (f", errors {rec['errors'][:2]}" if rec["errors"] else ""), flush=True)
            await asyncio.sleep(0.5)
    return recs


async def run(args):
    targets = json.loads(args.targets)
    deadline = time.monotonic() + args.max_seconds
    warmups = await rounds_of(targets, args, args.warmup_rounds, "warm-up round", deadline)
    rounds = await rounds_of(targets, args, args.rounds, "round", deadline)
    out = {"conns": args.conns, "n": args.n, "ms": args.ms, "rounds": args.rounds,
           "warmup_rounds": args.warmup_rounds, "targets": {}}
    for name, recs in rounds.items():
        ttfc = [x for rec in recs for x in rec["ttfc_ms"]]
        delays = [x for rec in recs for x in rec["delays_ms"]]
        cpus = [rec["cpu_us_per_chunk"] for rec in recs if rec["cpu_us_per_chunk"] is not None]
        out["targets"][name] = {
            "streams": sum(rec["streams"] for rec in recs),
            "complete": sum(rec["complete"] for rec in recs),
            "chunks": sum(rec["chunks"] for rec in recs),
            "cpu_us_per_chunk_median": statistics.median(cpus) if cpus else None,
            "cpu_us_per_chunk_rounds": [round(c, 2) for c in cpus],
            "warmup_cpu_us_per_chunk": [round(rec["cpu_us_per_chunk"], 2) for rec in warmups[name]
                                        if rec["cpu_us_per_chunk"] is not None],
            "warmup_complete": sum(rec["complete"] for rec in warmups[name]),
            "ttfc_ms": {"p50": bh.percentile(ttfc, 50), "p90": bh.percentile(ttfc, 90)},
            "delay_ms": {"p50": bh.percentile(delays, 50), "p99": bh.percentile(delays, 99),
                         "max": max(delays) if delays else None, "count": len(delays)},
            "wall_s": [round(rec["wall_s"], 2) for rec in recs],
            "errors": [e for rec in recs for e in rec["errors"]][:5],
        }
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", required=True, help='JSON list: [{"name":..,"port":..,"auth":..,"pids":[..]}]')
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--ms", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup-rounds", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    result = asyncio.run(run(args))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

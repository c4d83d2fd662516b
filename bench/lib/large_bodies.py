#!/usr/bin/env python3
"""Large bodies: chat requests carrying one big base64 image, C at once, per target, in rounds.

The body is an Ollama chat request, {"model":..,"messages":[{"role":"user","content":..,
"images":["<base64>"]}],"stream":false}, whose image is --image-bytes random bytes (base64 makes
the body about 4/3 of that). Per round and target (interleaved), C workers each send --per-conn
requests one after another over their own keep-alive connection. Meanwhile the target's processes
are polled every 20 ms for VmRSS, and their VmHWM (peak since start) is read at the end.
--warmup-rounds rounds of the same load come first, for every target: their MB/s is reported but
not in the median (a JVM's first round runs the large-body path before it is compiled; the other
workloads are measured after a warm-up too), while their peak RSS and errors count like any round's.

  mb_per_s        = request bytes sent in answered requests / wall time of the round (MB = 10^6 B)
  latency         = first byte of the request written -> last byte of the response read
  peak_rss_kib    = highest sum of VmRSS over the target's processes seen while the round ran
"""

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchhttp as bh  # noqa: E402


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def make_body(image_bytes):
    image = base64.b64encode(os.urandom(image_bytes)).decode()
    return json.dumps({"model": "llama3.2:3b", "stream": False,
                       "messages": [{"role": "user", "content": "What is in this picture?", "images": [image]}]},
                      separators=(",", ":")).encode()


async def worker(t, body, per_conn, lat, errors):
    reader = writer = None
    sent = 0
    for _ in range(per_conn):
        try:
            if writer is None:
                reader, writer = await bh.connect(t["port"])
            req = bh.request_bytes("POST", "/api/chat", body, t.get("auth"))
            t0 = time.monotonic()
            writer.write(req)
            await writer.drain()
            status, headers = await bh.read_head(reader)
            async for _piece, _ in bh.body_pieces(reader, headers):
                pass
            dt = time.monotonic() - t0
            if status != 200:
                errors.append(f"status {status}")
                writer.transport.abort()
                writer = None
                continue
            lat.append(dt * 1000.0)
            sent += len(body)
            if headers.get("connection", "").lower() == "close":
                writer.transport.abort()
                writer = None
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as e:
            errors.append(f"{type(e).__name__}: {e}")
            if writer is not None:
                writer.transport.abort()
            writer = None
    if writer is not None:
        writer.transport.abort()
    return sent


async def poll_rss(pids, peak, stop):
    while not stop.is_set():
        total = sum(status_kib(p, "VmRSS") or 0 for p in pids)
        peak[0] = max(peak[0], total)
        try:
            await asyncio.wait_for(stop.wait(), 0.02)
        except asyncio.TimeoutError:
            pass


async def one_round(t, body, args):
    pids = t.get("pids") or []
    before = sum(status_kib(p, "VmRSS") or 0 for p in pids) if pids else None
    peak, stop = [before or 0], asyncio.Event()
    poller = asyncio.create_task(poll_rss(pids, peak, stop)) if pids else None
    lat, errors = [], []
    t0 = time.monotonic()
    sent = await asyncio.wait_for(
        asyncio.gather(*(worker(t, body, args.per_conn, lat, errors) for _ in range(args.conns))), args.max_seconds)
    wall = time.monotonic() - t0
    stop.set()
    if poller:
        await poller
    hwm = sum(status_kib(p, "VmHWM") or 0 for p in pids) if pids else None
    total = sum(sent)
    return {"requests": len(lat), "wanted": args.conns * args.per_conn, "bytes": total, "wall_s": wall,
            "mb_per_s": total / wall / 1e6 if wall > 0 else None,
            "latency_ms_p50": bh.percentile(lat, 50), "latency_ms_p90": bh.percentile(lat, 90),
            "rss_before_kib": before, "peak_rss_kib": peak[0] if pids else None, "vmhwm_kib": hwm,
            "errors": errors[:5], "error_count": len(errors)}


async def run(args):
    targets = json.loads(args.targets)
    body = make_body(args.image_bytes)
    rounds = {t["name"]: [] for t in targets}
    warm = {t["name"]: [] for t in targets}
    for r in range(args.warmup_rounds + args.rounds):
        label = f"warm-up {r + 1}" if r < args.warmup_rounds else f"round {r + 1 - args.warmup_rounds}"
        for t in targets:
            rec = await one_round(t, body, args)
            (warm if r < args.warmup_rounds else rounds)[t["name"]].append(rec)
            print(f"  large-bodies {label} {t['name']:15s} {rec['requests']}/{rec['wanted']} ok,"
                  f" {rec['mb_per_s'] or 0:.1f} MB/s, latency p50 {rec['latency_ms_p50'] or 0:.1f} ms"
                  + (f", peak RSS {rec['peak_rss_kib'] / 1024:.1f} MiB" if rec["peak_rss_kib"] else "")
                  + (f", errors {rec['errors'][:2]}" if rec["errors"] else ""), flush=True)
            await asyncio.sleep(0.5)
    med = lambda xs: statistics.median([x for x in xs if x is not None]) if any(x is not None for x in xs) else None  # noqa: E731
    out = {"conns": args.conns, "per_conn": args.per_conn, "image_bytes": args.image_bytes, "body_bytes": len(body),
           "bytes_in_flight": args.conns * len(body), "rounds": args.rounds,
           "warmup_rounds": args.warmup_rounds, "targets": {}}
    for name, recs in rounds.items():
        every = warm[name] + recs  # peak RSS and errors: the warm-up rounds count too
        out["targets"][name] = {
            "requests": sum(x["requests"] for x in recs), "wanted": sum(x["wanted"] for x in recs),
            "mb_per_s_median": med([x["mb_per_s"] for x in recs]),
            "mb_per_s_rounds": [round(x["mb_per_s"] or 0, 1) for x in recs],
            "latency_ms_p50_median": med([x["latency_ms_p50"] for x in recs]),
            "latency_ms_p90_median": med([x["latency_ms_p90"] for x in recs]),
            "warmup_mb_per_s": [round(x["mb_per_s"] or 0, 1) for x in warm[name]],
            "rss_before_kib": every[0]["rss_before_kib"] if every else None,
            "peak_rss_kib": max((x["peak_rss_kib"] for x in every if x["peak_rss_kib"] is not None), default=None),
            "vmhwm_kib": max((x["vmhwm_kib"] for x in every if x["vmhwm_kib"] is not None), default=None),
            "error_count": sum(x["error_count"] for x in every),
            "errors": [e for x in every for e in x["errors"]][:5],
        }
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", required=True, help='JSON list: [{"name":..,"port":..,"auth":..,"pids":[..]}]')
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--per-conn", type=int, default=4, help="requests per connection and round")
    ap.add_argument("--image-bytes", type=int, default=10 << 20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup-rounds", type=int, default=1, help="rounds first, not in the MB/s median")
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    result = asyncio.run(run(args))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

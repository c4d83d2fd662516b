#!/usr/bin/env python3
"""Memory held by a proxy for many open, slow streams.

For each target in turn: read the resident memory of its processes (VmRSS from
/proc/PID/status, plus Pss from smaps_rollup), open N concurrent NDJSON streams through it
(POST /api/chat asking the stream backend for one line every --interval-ms), wait until every
stream has its head and first line, let them run a few intervals, read the memory again, count
the streams still alive, close them all, wait, and read it once more.

Bounded: each stream asks for a limited number of lines, the opening phase has a deadline, and
the whole run has --max-seconds.
"""

import argparse
import asyncio
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchhttp as bh  # noqa: E402


def memory(pids):
    per = {}
    for pid in pids:
        per[str(pid)] = {"rss_kib": bh.rss_kib(pid), "pss_kib": bh.pss_kib(pid)}
    tot_rss = sum(v["rss_kib"] or 0 for v in per.values())
    tot_pss = sum(v["pss_kib"] or 0 for v in per.values())
    return {"rss_kib": tot_rss, "pss_kib": tot_pss, "per_pid": per}


class Stream:
    __slots__ = ("writer", "lines", "opened", "ended", "error", "task")

    def __init__(self):
        self.writer = None
        self.lines = 0
        self.opened = asyncio.get_running_loop().create_future()
        self.ended = False
        self.error = None
        self.task = None


async def run_stream(s, port, auth, lines, interval_ms):
    try:
        reader, s.writer = await bh.connect(port)
        s.writer.write(bh.request_bytes("POST", "/api/chat", bh.chat_body(False, lines, interval_ms), auth))
        await s.writer.drain()
        status, headers = await bh.read_head(reader)
        if status != 200:
            raise ConnectionError(f"status {status}")
        buf = b""
        async for data, _ in bh.body_pieces(reader, headers):
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if bh.parse_line(line) is not None:
                    s.lines += 1
                    if not s.opened.done():
                        s.opened.set_result(True)
        s.ended = True
    except asyncio.CancelledError:
        raise
    except Exception as e:  # noqa: BLE001 - recorded per stream
        s.error = f"{type(e).__name__}: {e}"
        s.ended = True
    finally:
        if not s.opened.done():
            s.opened.set_result(False)


async def measure_target(t, args):
    pids = t["pids"]
    lines = max(3, math.ceil((args.open_timeout + args.hold + 60) * 1000 / args.interval_ms))
    before = memory(pids)
    streams = []
    t0 = time.monotonic()
    # open in batches so the listen backlog and the client's own connect rate are no bottleneck
    for i in range(0, args.conns, args.batch):
        if time.monotonic() - t0 > args.open_timeout:
            break
        batch = []
        for _ in range(min(args.batch, args.conns - i)):
            s = Stream()
            s.task = asyncio.create_task(run_stream(s, t["port"], t.get("auth"), lines, args.interval_ms))
            streams.append(s)
            batch.append(s.opened)
        left = max(0.1, args.open_timeout - (time.monotonic() - t0))
        await asyncio.wait(batch, timeout=left)
    open_seconds = time.monotonic() - t0
    opened = sum(1 for s in streams if s.opened.done() and s.opened.result())
    lines_at_open = sum(s.lines for s in streams)
    await asyncio.sleep(args.hold)
    during = memory(pids)
    alive = sum(1 for s in streams if not s.ended and s.lines >= 1)
    progressed = sum(1 for s in streams if not s.ended and s.lines >= 2)
    errors = [s.error for s in streams if s.error][:5]
    lines_total = sum(s.lines for s in streams)
    for s in streams:
        if s.writer is not None:
            s.writer.transport.abort()
        s.task.cancel()
    await asyncio.gather(*(s.task for s in streams), return_exceptions=True)
    await asyncio.sleep(args.after)
    after = memory(pids)
    per_stream = None
    if opened:
        per_stream = (during["rss_kib"] - before["rss_kib"]) / opened
    return {
        "pids": pids,
        "requested": args.conns,
        "opened": opened,
        "alive_at_measure": alive,
        "progressed_at_measure": progressed,
        "open_seconds": round(open_seconds, 2),
        "lines_at_open": lines_at_open,
        "lines_total": lines_total,
        "errors": errors,
        "before": before,
        "during": during,
        "after_close": after,
        "rss_kib_per_stream": per_stream,
    }


async def run(args):
    targets = json.loads(args.targets)
    result = {"conns": args.conns, "interval_ms": args.interval_ms, "hold_s": args.hold, "targets": {}}
    for idx, t in enumerate(targets):
        if idx:
            # let the backend notice the closed streams before the next target
            await asyncio.sleep(args.interval_ms / 1000.0 + 1.0)
        r = await measure_target(t, args)
        result["targets"][t["name"]] = r
        mib = lambda k: k / 1024.0  # noqa: E731
        print(f"  idle {t['name']:10s} streams {r['opened']}/{r['requested']} alive {r['alive_at_measure']}"
              f"  RSS {mib(r['before']['rss_kib']):.1f} -> {mib(r['during']['rss_kib']):.1f} MiB"
              f"  after close {mib(r['after_close']['rss_kib']):.1f} MiB"
              + (f"  (+{r['rss_kib_per_stream']:.1f} KiB/stream)" if r["rss_kib_per_stream"] is not None else "")
              + (f"  errors: {r['errors']}" if r["errors"] else ""), flush=True)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", required=True, help='JSON list: [{"name":..,"port":..,"auth":..,"pids":[..]}]')
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--interval-ms", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--open-timeout", type=float, default=60.0)
    ap.add_argument("--hold", type=float, default=5.0, help="seconds between all opened and the measurement")
    ap.add_argument("--after", type=float, default=3.0, help="seconds between closing and the last reading")
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    result = asyncio.run(asyncio.wait_for(run(args), args.max_seconds))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

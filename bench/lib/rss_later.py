#!/usr/bin/env python3
"""RSS at idle, later: each process's VmRSS (with its children's) once the first one named is
--at seconds past its launch.

The start-up probe reads RSS at idle 3 s after the first answer. A gateway does more in its first
minute than in those seconds (serve's first posture check runs 30 s after start), so this reads
the same processes again, still idle, once the first one named is --at seconds past its launch.

  rss_later.py --at 60 --out FILE NAME=PID:LAUNCH_EPOCH_S [NAME=PID:LAUNCH ...]
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchhttp as bh  # noqa: E402
from startup_probe import children  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--at", type=float, default=60)
    ap.add_argument("--out", required=True)
    ap.add_argument("procs", nargs="+", help="NAME=PID:LAUNCH_EPOCH_S")
    args = ap.parse_args()
    procs = {}
    for p in args.procs:
        name, rest = p.split("=", 1)
        pid, launched = rest.split(":", 1)
        procs[name] = (int(pid), float(launched))
    first = procs[next(iter(procs))][1]
    wait = first + args.at - time.time()
    if wait > 0:
        time.sleep(wait)
    now = time.time()
    out = {}
    for name, (pid, launched) in procs.items():
        pids = [pid] + children(pid)
        rss = [bh.rss_kib(x) for x in pids]
        out[name] = {"pid": pid, "age_s": now - launched, "pids": pids,
                     "rss_kib": sum(r or 0 for r in rss) if rss[0] is not None else None}
        print(f"  RSS at idle {out[name]['age_s']:.0f} s after start: {name} "
              + ("- (gone)" if out[name]["rss_kib"] is None else f"{out[name]['rss_kib'] / 1024:.1f} MiB"),
              flush=True)
    with open(args.out, "w") as f:
        json.dump({"at_s": args.at, "targets": out}, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Per-stage CPU from a JFR recording: execution samples attributed to Gatehouse's stages.

Reads `jfr print --json --events jdk.ExecutionSample FILE` (the JDK's jfr tool). Each sample is
attributed by the first frame, from the top of its stack, in a class under dev.gatehouse.<pkg>
(its stage or supporting package: listen, identify, authorize, limit, guard, proxy, account,
upstream, audit, abuse, metrics, alerts, exchange, gateway, ...); a sample with no Gatehouse frame
goes to Netty, Vert.x, JDK or other by its top frame. Per stage: samples, share, the hottest top
frames (where the CPU was) and the Gatehouse frames the samples came through.

  jfr_stages.py --jfr FILE --out stages.json [--jfr-tool PATH] [--top 4]
"""

import argparse
import collections
import json
import subprocess
import sys


def cls_name(frame):
    t = (frame.get("method") or {}).get("type") or {}
    name = t.get("name") or "?"
    # a hidden class (a lambda) is "pkg.Outer$$Lambda/0x..."; keep the readable part
    return name.split("/0x", 1)[0].replace("/", ".")


def method_name(frame):
    m = frame.get("method") or {}
    c = cls_name(frame)
    return f"{c.rsplit('.', 1)[-1]}.{m.get('name', '?')}", c


def bucket_of(cls):
    if cls.startswith("dev.gatehouse."):
        return cls.split(".")[2]
    if cls.startswith("io.netty."):
        return "(Netty)"
    if cls.startswith("io.vertx."):
        return "(Vert.x)"
    if cls.startswith(("java.", "javax.", "jdk.", "sun.", "com.sun.")):
        return "(JDK)"
    if cls.startswith("com.fasterxml.jackson."):
        return "(Jackson)"
    return "(other)"


def thread_group(name):
    if not name:
        return "?"
    if name.startswith("vert.x-eventloop"):
        return "event loop"
    if name.startswith("vert.x-worker") or name.startswith("vert.x-internal-blocking"):
        return "vert.x worker"
    return name.rstrip("0123456789-")


def summarize(events, top):
    per = collections.Counter()
    hot = collections.defaultdict(collections.Counter)
    via = collections.defaultdict(collections.Counter)
    threads = collections.Counter()
    for e in events:
        v = e.get("values") or {}
        frames = ((v.get("stackTrace") or {}).get("frames")) or []
        th = (v.get("sampledThread") or {})
        threads[thread_group(th.get("javaName") or th.get("osName"))] += 1
        if not frames:
            per["(no stack)"] += 1
            continue
        stage, entry = None, None
        for f in frames:
            c = cls_name(f)
            if c.startswith("dev.gatehouse."):
                stage, entry = bucket_of(c), method_name(f)[0]
                break
        top_m, top_c = method_name(frames[0])
        if stage is None:
            stage = bucket_of(top_c)
        per[stage] += 1
        hot[stage][top_m] += 1
        if entry:
            via[stage][entry] += 1
    total = sum(per.values())
    rows = []
    for stage, n in per.most_common():
        rows.append({"stage": stage, "samples": n, "pct": 100.0 * n / total if total else 0,
                     "top_frames": [[m, c] for m, c in hot[stage].most_common(top)],
                     "via": [[m, c] for m, c in via[stage].most_common(top)]})
    return {"samples": total, "stages": rows,
            "threads": [{"thread": t, "samples": n, "pct": 100.0 * n / total if total else 0}
                        for t, n in threads.most_common()]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jfr", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--jfr-tool", default="jfr")
    ap.add_argument("--top", type=int, default=4)
    args = ap.parse_args()
    p = subprocess.run([args.jfr_tool, "print", "--json", "--stack-depth", "64", "--events", "jdk.ExecutionSample",
                        args.jfr], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"jfr print failed: {p.stderr[-500:]}", file=sys.stderr)
        sys.exit(1)
    events = json.loads(p.stdout).get("recording", {}).get("events", [])
    res = summarize(events, args.top)
    res["jfr"] = args.jfr
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    for r in res["stages"][:12]:
        print(f"  profile {r['stage']:12s} {r['samples']:6d} {r['pct']:5.1f}%  "
              + ", ".join(m for m, _ in r["top_frames"][:3]))


if __name__ == "__main__":
    main()

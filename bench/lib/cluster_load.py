#!/usr/bin/env python3
"""Concurrent wrk runs against several gateways at once, as one load split across them.

One wrk per target (`wrk -tT -cC -dDs --latency -s post.lua`, run_wrk.py's settings), all started
together and run for the same time: the combined req/s is the sum, the p50 is each gateway's,
reported with their mean, and the CPU per request is the CPU time of every gateway process over
every request. Repeated --rounds times; the round with the median total req/s is the figure.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_wrk import machine_ticks, proc_cpu_seconds  # noqa: E402


def one_round(targets, args):
    pids = [p for t in targets for p in (t.get("pids") or [])]
    cpu0 = proc_cpu_seconds(pids)
    tot0, idle0 = machine_ticks()
    procs = []
    for t in targets:
        env = dict(os.environ, BENCH_AUTH=t.get("auth") or "", BENCH_PATH=args.path, BENCH_BODY="")
        cmd = ["wrk", f"-t{args.threads}", f"-c{args.conns}", f"-d{args.duration}s", "--latency", "-s", args.lua,
               f"http://127.0.0.1:{t['port']}{args.path}"]
        procs.append((t, subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    per = []
    for t, p in procs:
        out, _ = p.communicate(timeout=args.duration + 60)
        line = next((ln for ln in out.splitlines() if ln.startswith("BENCHJSON ")), None)
        if line is None:
            return {"error": f"{t['name']}: no BENCHJSON line from wrk: {out[-300:]}"}
        w = json.loads(line[len("BENCHJSON "):])
        secs = w["duration_us"] / 1e6
        errors = w["err_connect"] + w["err_read"] + w["err_write"] + w["err_status"] + w["err_timeout"]
        per.append({"target": t["name"], "rps": w["requests"] / secs if secs else 0.0, "requests": w["requests"],
                    "p50_us": w["p50_us"], "p99_us": w["p99_us"], "errors": errors})
    cpu1 = proc_cpu_seconds(pids)
    tot1, idle1 = machine_ticks()
    requests = sum(x["requests"] for x in per)
    dt = tot1 - tot0
    return {"per_target": per, "rps": sum(x["rps"] for x in per), "requests": requests,
            "p50_us": statistics.mean(x["p50_us"] for x in per), "errors": sum(x["errors"] for x in per),
            "cpu_us_per_req": (cpu1 - cpu0) * 1e6 / requests if pids and requests else None,
            "machine_busy_pct": 100.0 * (1 - (idle1 - idle0) / dt) if dt > 0 else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", required=True, help='JSON list: [{"name":..,"port":..,"auth":..,"pids":[..]}]')
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--conns", type=int, default=64, help="connections per target")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads per target")
    ap.add_argument("--path", default="/api/chat")
    ap.add_argument("--lua", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "post.lua"))
    ap.add_argument("--label", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    targets = json.loads(args.targets)
    rounds = []
    for r in range(1, args.rounds + 1):
        rec = one_round(targets, args)
        rec["round"], rec["started"] = r, time.time()
        rounds.append(rec)
        if "error" in rec:
            print(f"  {args.label} round {r} ERROR {rec['error']}", flush=True)
            continue
        cpu = rec["cpu_us_per_req"]
        print(f"  {args.label} round {r} {rec['rps']:10.0f} req/s  p50 {rec['p50_us'] / 1000:.3f} ms"
              f"  errors {rec['errors']}" + (f"  CPU {cpu:.1f} us/req" if cpu is not None else ""), flush=True)
    ok = [x for x in rounds if "error" not in x]
    median = sorted(ok, key=lambda x: x["rps"])[len(ok) // 2] if ok else None
    with open(args.out, "w") as f:
        json.dump({"label": args.label, "targets": [t["name"] for t in targets], "conns_per_target": args.conns,
                   "duration_s": args.duration, "rounds": rounds, "median": median}, f, indent=1)
    if len(ok) != len(rounds):
        sys.exit(1)


if __name__ == "__main__":
    main()

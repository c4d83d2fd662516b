#!/usr/bin/env python3
"""Interleaved wrk runs: rounds x targets (round 1: A, B, C; round 2: A, B, C; ...).

Each run is `wrk -tT -cC -dDs --latency -s post.lua http://127.0.0.1:PORT/api/chat` with the
target's Authorization header in BENCH_AUTH. Per run it records requests/s, latency percentiles,
errors (non-2xx included), the CPU time the target's own processes used per request (from
/proc/PID/stat), the part of it Gatehouse's audit threads used (/proc/PID/task/TID/stat of the
threads whose name reads gatehouse-audit: the writer, and gatehouse-audit-db, its database copy,
since Linux keeps the first 15 characters of a thread's name), the bytes the target's processes
wrote to storage per request (write_bytes of /proc/PID/io: file writes, counted as they dirty the
page cache, not socket writes; Gatehouse's audit log, JSONL and its SQLite copy), and how busy the
whole machine was, and how much of the time it waited on the disk with nothing else to run
(iowait, from /proc/stat).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def thread_cpu_seconds(pids, name):
    """CPU seconds of the threads called `name` (their comm) in the given processes."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    if f.read().strip() != name:
                        continue
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
    return total / CLK_TCK


def proc_write_bytes(pids):
    """Bytes the processes caused to be written to storage (write_bytes in /proc/PID/io), or None."""
    total = None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/io") as f:
                for ln in f:
                    if ln.startswith("write_bytes:"):
                        total = (total or 0) + int(ln.split()[1])
        except (OSError, ValueError):
            pass
    return total


def machine_ticks():
    """All ticks, idle ticks (iowait included) and iowait ticks of the whole machine."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    iowait = vals[4] if len(vals) > 4 else 0
    return sum(vals), vals[3] + iowait, iowait


def one_run(t, args):
    url = f"http://127.0.0.1:{t['port']}{args.path}"
    env = dict(os.environ, BENCH_AUTH=t.get("auth") or "", BENCH_PATH=args.path, BENCH_BODY=args.body or "")
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.conns}", f"-d{args.duration}s", "--latency", "-s", args.lua, url]
    pids = t.get("pids") or []
    cpu0 = proc_cpu_seconds(pids)
    audit0 = thread_cpu_seconds(pids, "gatehouse-audit")
    disk0 = proc_write_bytes(pids)
    tot0, idle0, wait0 = machine_ticks()
    started = time.time()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.duration + 60)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), -1
    tot1, idle1, wait1 = machine_ticks()
    cpu1 = proc_cpu_seconds(pids)
    audit1 = thread_cpu_seconds(pids, "gatehouse-audit")
    disk1 = proc_write_bytes(pids)
    rec = {"target": t["name"], "started": started, "wrk_rc": rc}
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        rec["error"] = "no BENCHJSON line from wrk: " + out[-500:]
        return rec
    w = json.loads(line[len("BENCHJSON "):])
    secs = w["duration_us"] / 1e6
    rec.update(w)
    rec["rps"] = w["requests"] / secs if secs > 0 else 0.0
    rec["errors"] = w["err_connect"] + w["err_read"] + w["err_write"] + w["err_status"] + w["err_timeout"]
    rec["proxy_cpu_us_per_req"] = (cpu1 - cpu0) * 1e6 / w["requests"] if pids and w["requests"] else None
    # Gatehouse's audit threads (JSON, hash chain, write, fsync; the SQLite copy); 0 for others
    rec["audit_cpu_us_per_req"] = (audit1 - audit0) * 1e6 / w["requests"] if pids and w["requests"] else None
    rec["disk_write_bytes_per_req"] = (
        (disk1 - disk0) / w["requests"] if disk0 is not None and disk1 is not None and w["requests"] else None)
    dt = tot1 - tot0
    rec["machine_busy_pct"] = 100.0 * (1 - (idle1 - idle0) / dt) if dt > 0 else None
    rec["machine_iowait_pct"] = 100.0 * (wait1 - wait0) / dt if dt > 0 else None
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", required=True, help='JSON list: [{"name":..,"port":..,"auth":..,"pids":[..]}]')
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=15, help="seconds per run")
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--path", default="/api/chat")
    ap.add_argument("--lua", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "post.lua"))
    ap.add_argument("--body", help="request body instead of post.lua's small chat body")
    ap.add_argument("--until-stable", type=float, metavar="PCT",
                    help="warm-up use (one target): after --rounds, go on until two runs in a row differ by"
                         " less than PCT %% in req/s, or --max-rounds")
    ap.add_argument("--max-rounds", type=int, default=12)
    ap.add_argument("--label", default="wrk")
    ap.add_argument("--out", help="write the runs as JSON here")
    args = ap.parse_args()
    # on TERM, exit through SystemExit: subprocess.run then kills the running wrk
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    targets = json.loads(args.targets)
    runs = []
    stable = None

    def settled():
        ok = [x for x in runs if "error" not in x]
        if len(ok) < 2 or not ok[-2]["rps"]:
            return False
        return abs(ok[-1]["rps"] - ok[-2]["rps"]) / ok[-2]["rps"] * 100 < args.until_stable

    r = 0
    while True:
        r += 1
        if r > args.rounds:
            if args.until_stable is None:
                break
            stable = settled()
            if stable or r > args.max_rounds:
                break
        for t in targets:
            rec = one_run(t, args)
            rec["round"] = r
            runs.append(rec)
            if "error" in rec:
                print(f"  {args.label} round {r} {t['name']:10s} ERROR {rec['error']}", flush=True)
            else:
                cpu = rec["proxy_cpu_us_per_req"]
                print(f"  {args.label} round {r} {t['name']:10s} {rec['rps']:10.0f} req/s  p50 {rec['p50_us'] / 1000:.3f} ms"
                      f"  p99 {rec['p99_us'] / 1000:.3f} ms  errors {rec['errors']}"
                      + (f"  proxy CPU {cpu:.1f} us/req" if cpu is not None else "")
                      + (f"  disk {rec['disk_write_bytes_per_req'] / 1024:.2f} KiB/req"
                         if rec.get("disk_write_bytes_per_req") is not None else "")
                      + f"  machine busy {rec['machine_busy_pct']:.0f}% (iowait {rec['machine_iowait_pct']:.0f}%)",
                      flush=True)
    if stable is not None:
        print(f"  {args.label}: {'stable' if stable else 'NOT stable'} after {r - 1} runs"
              f" (two runs in a row within {args.until_stable:g} % req/s)", flush=True)
    result = {"label": args.label, "conns": args.conns, "threads": args.threads, "duration_s": args.duration,
              "rounds": r - 1, "path": args.path, "runs": runs, "stable": stable}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    if any("error" in r for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Judges a soak run: reads samples.json (one object per 10 s sample) and wrk summaries, prints a
Markdown table and exits 1 if any measure grew after warm-up or too many requests failed.

Growth is the median of the last third of the post-warm-up samples minus the median of the first
third, so one GC or one burst does not decide it. Tolerances (per 10-minute run):
  rss         <= 48 MiB   (the JIT and class metadata still settle after warm-up)
  heap_after_gc <= 16 MiB (live data after a full GC: a leak shows here first)
  threads     <= 2
  fds         <= 16
  audit_lag_ms: the largest sample <= 1000 ms (the writer keeps up)
"""
import json
import statistics
import sys

TOL = {"rss_mib": 48, "heap_after_gc_mib": 16, "threads": 2, "fds": 16}


def main():
    res, warmup = sys.argv[1], float(sys.argv[2])
    samples = json.load(open(f"{res}/samples.json"))
    loads = json.load(open(f"{res}/load.json"))
    post = [s for s in samples if s["t"] >= warmup]
    ok = True
    rows = []
    if len(post) < 6:
        print(f"soak: only {len(post)} samples after warm-up; need 6 or more")
        return 1
    third = max(2, len(post) // 3)
    for key, tol in TOL.items():
        first = statistics.median(s[key] for s in post[:third])
        last = statistics.median(s[key] for s in post[-third:])
        start, end = samples[0][key], samples[-1][key]
        grew = last - first
        passed = grew <= tol
        ok &= passed
        rows.append((key, start, first, last, end, f"{grew:+.1f}", f"<= {tol}", "pass" if passed else "FAIL"))
    lag = max(s["audit_lag_ms"] for s in post)
    passed = lag <= 1000
    ok &= passed
    rows.append(("audit_lag_ms (max)", samples[0]["audit_lag_ms"], "", "", samples[-1]["audit_lag_ms"], f"{lag:.1f}", "<= 1000", "pass" if passed else "FAIL"))
    print("| measure | at start | first third after warm-up (median) | last third (median) | at end | growth | tolerance | result |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    print()
    print("| load | requests | req/s | unexpected (non-2xx where 2xx was expected, socket errors) |")
    print("|---|---:|---:|---:|")
    for name, l in loads.items():
        bad = l["unexpected"]
        passed = bad <= max(5, l["requests"] // 10000)
        ok &= passed
        print(f"| {name} | {l['requests']} | {l['rps']:.0f} | {bad}{'' if passed else ' FAIL'} |")
    print()
    print("soak: PASS" if ok else "soak: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

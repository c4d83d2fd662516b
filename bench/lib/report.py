#!/usr/bin/env python3
"""Combines the pieces one bench/run.sh run wrote into results.json and summary.md.

Reads from the results directory: meta.json, checks.json, rss-start.json, wrk-c64.json,
wrk-c1.json, stream.json, idle.json (missing pieces are reported as missing). Ratios are taken
within a round (target / direct of the same round) and then the median over rounds, so slow
drifts of the machine's load cancel out as far as they can.
"""

import json
import os
import statistics
import sys

GOALS = {
    "throughput_vs_nginx_min": 0.9,
    "added_median_latency_ms_max": 0.3,
    "added_ttfc_ms_max": 1.0,
}
GW, NG, DI = "gatehouse", "nginx", "direct"


def load(d, name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def by_round(runs):
    rounds = {}
    for r in runs:
        if "error" not in r:
            rounds.setdefault(r["round"], {})[r["target"]] = r
    return rounds


def summarize_wrk(w):
    if not w:
        return None
    rounds = by_round(w["runs"])
    names = []
    for r in w["runs"]:
        if r["target"] not in names:
            names.append(r["target"])
    out = {"conns": w["conns"], "threads": w["threads"], "duration_s": w["duration_s"], "rounds": w["rounds"],
           "targets": {}}
    for n in names:
        mine = [r for r in w["runs"] if r["target"] == n and "error" not in r]
        ratios = [rd[n]["rps"] / rd[DI]["rps"] for rd in rounds.values() if n in rd and DI in rd and rd[DI]["rps"]]
        added_p50 = [(rd[n]["p50_us"] - rd[DI]["p50_us"]) / 1000 for rd in rounds.values() if n in rd and DI in rd]
        out["targets"][n] = {
            "rps_median": med([r["rps"] for r in mine]),
            "rps_runs": [round(r["rps"], 1) for r in mine],
            "ratio_to_direct_median": med(ratios),
            "ratio_to_direct_min": min(ratios) if ratios else None,
            "ratio_to_direct_max": max(ratios) if ratios else None,
            "p50_ms_median": med([r["p50_us"] / 1000 for r in mine]),
            "p99_ms_median": med([r["p99_us"] / 1000 for r in mine]),
            "added_p50_ms_vs_direct_median": med(added_p50),
            "proxy_cpu_us_per_req_median": med([r.get("proxy_cpu_us_per_req") for r in mine]),
            "audit_cpu_us_per_req_median": med([r.get("audit_cpu_us_per_req") for r in mine]),
            "machine_busy_pct_median": med([r.get("machine_busy_pct") for r in mine]),
            "errors_total": sum(r["errors"] for r in mine),
            "failed_runs": sum(1 for r in w["runs"] if r["target"] == n and "error" in r),
        }
    gn = [rd[GW]["rps"] / rd[NG]["rps"] for rd in rounds.values() if GW in rd and NG in rd and rd[NG]["rps"]]
    out["gatehouse_to_nginx"] = {"median": med(gn), "min": min(gn) if gn else None, "max": max(gn) if gn else None,
                                 "per_round": [round(x, 3) for x in gn]}
    return out


def summarize_stream(s):
    if not s:
        return None
    out = {"n": s["n"], "ms": s["ms"], "reps": s["reps"], "formats": {}}
    t = s["targets"]
    for fmt in ("ndjson", "sse"):
        d = t.get(DI, {}).get(fmt, {})
        f = {}
        for name, per in t.items():
            x = per.get(fmt)
            if x is None:
                continue
            ttfc, delay = x["ttfc_ms"]["p50"], x["delay_ms"]["p50"]
            f[name] = {
                "ttfc_ms_p50": ttfc,
                "ttfc_ms_p90": x["ttfc_ms"]["p90"],
                "added_ttfc_ms": None if ttfc is None or d.get("ttfc_ms", {}).get("p50") is None
                else ttfc - d["ttfc_ms"]["p50"],
                "delay_ms_p50": delay,
                "delay_ms_p99": x["delay_ms"]["p99"],
                "delay_ms_max": x["delay_ms"]["max"],
                "added_delay_ms_p50": None if delay is None or d.get("delay_ms", {}).get("p50") is None
                else delay - d["delay_ms"]["p50"],
                "streams": x["streams"],
                "complete": x["complete"],
                "pieces_per_stream": x["pieces_per_stream"],
                "errors": x["errors"],
            }
        out["formats"][fmt] = f
    return out


def goal_rows(thr, lat, stm):
    rows = []

    def row(name, goal_text, gw, ng, ok, unit):
        rows.append({"goal": name, "target": goal_text, "gatehouse": gw, "nginx": ng,
                     "met": ok, "unit": unit})

    gn = thr and thr["gatehouse_to_nginx"]["median"]
    ngd = thr and thr["targets"].get(NG, {}).get("ratio_to_direct_median")
    gwd = thr and thr["targets"].get(GW, {}).get("ratio_to_direct_median")
    row("throughput, gatehouse / nginx (64 conns)", f">= {GOALS['throughput_vs_nginx_min']:.2f}x",
        gn, 1.0 if gn is not None else None, None if gn is None else gn >= GOALS["throughput_vs_nginx_min"], "x")
    rows[-1]["gatehouse_vs_direct"], rows[-1]["nginx_vs_direct"] = gwd, ngd
    ga = lat and lat["targets"].get(GW, {}).get("added_p50_ms_vs_direct_median")
    na = lat and lat["targets"].get(NG, {}).get("added_p50_ms_vs_direct_median")
    row("added median latency vs direct (1 conn)", f"<= {GOALS['added_median_latency_ms_max']:.3f} ms",
        ga, na, None if ga is None else ga <= GOALS["added_median_latency_ms_max"], "ms")
    for fmt, label in (("ndjson", "NDJSON"), ("sse", "SSE")):
        f = (stm or {}).get("formats", {}).get(fmt, {})
        g = f.get(GW, {}).get("added_ttfc_ms")
        n = f.get(NG, {}).get("added_ttfc_ms")
        row(f"time to first chunk vs direct, {label}", f"<= +{GOALS['added_ttfc_ms_max']:.3f} ms",
            g, n, None if g is None else g <= GOALS["added_ttfc_ms_max"], "ms")
    return rows


def fmt(v, nd=3, unit=""):
    if v is None:
        return "-"
    return f"{v:,.{nd}f}{unit}"


def signed(v, nd=3):
    return "-" if v is None else f"{v:+.{nd}f}"


def mib(k):
    return "-" if k is None else f"{k / 1024:.1f}"


def markdown(res):
    m, L = res["meta"], []
    L.append(f"# Gatehouse benchmark {m.get('stamp')} ({m.get('mode')})")
    L.append("")
    end = m.get("loadavg_end")
    L.append(f"{m.get('cpus')} CPUs, load average at start {m.get('loadavg_start')}, at end "
             f"{' '.join(end) if isinstance(end, list) else end}; gatehouse {m.get('gatehouse_commit')}"
             f"{' with GATEHOUSE_JAVA_OPTS=' + repr(m['gatehouse_java_opts']) if m.get('gatehouse_java_opts') else ''}"
             f"; {m.get('nginx_version')}; {m.get('java_version')}; one event loop / one nginx worker."
             " wrk, backends and proxies share the CPUs: compare ratios within this run, not absolute"
             " figures across runs.")
    if m.get("mode") == "quick":
        L.append("")
        L.append("**Quick mode: smoke test of the harness; short runs and little warm-up, the figures mean little.**")
    L.append("")
    L.append("## Goals")
    L.append("")
    L.append("| goal | design target | gatehouse | nginx | met |")
    L.append("|---|---|---:|---:|---|")
    for g in res["goals"]:
        if g["unit"] == "x":
            gw = fmt(g["gatehouse"], 2, "x nginx")
            if g.get("gatehouse_vs_direct") is not None:
                gw += f" ({g['gatehouse_vs_direct']:.2f}x direct)"
            ng = "-" if g.get("nginx_vs_direct") is None else f"{g['nginx_vs_direct']:.2f}x direct"
        else:
            gw, ng = signed(g["gatehouse"]) + " ms" if g["gatehouse"] is not None else "-", \
                signed(g["nginx"]) + " ms" if g["nginx"] is not None else "-"
        met = "n/a" if g["met"] is None else ("yes" if g["met"] else "**NO**")
        L.append(f"| {g['goal']} | {g['target']} | {gw} | {ng} | {met} |")
    thr = res.get("throughput_c64")
    if thr:
        L.append("")
        L.append(f"## Throughput: wrk -t{thr['threads']} -c{thr['conns']} -d{thr['duration_s']}s, POST /api/chat, "
                 f"{thr['rounds']} interleaved rounds")
        L.append("")
        L.append("| target | req/s (median) | runs | ratio to direct | p50 ms | p99 ms | proxy CPU us/req | errors |")
        L.append("|---|---:|---|---|---:|---:|---:|---:|")
        for n, t in thr["targets"].items():
            runs = " / ".join(f"{x / 1000:.1f}k" for x in t["rps_runs"])
            L.append(f"| {n} | {fmt(t['rps_median'], 0)} | {runs} | {fmt(t['ratio_to_direct_median'])} "
                     f"({fmt(t['ratio_to_direct_min'], 2)}-{fmt(t['ratio_to_direct_max'], 2)}) | "
                     f"{fmt(t['p50_ms_median'])} | {fmt(t['p99_ms_median'])} | "
                     f"{fmt(t['proxy_cpu_us_per_req_median'], 1)} | {t['errors_total']}"
                     + (f" ({t['failed_runs']} failed runs)" if t["failed_runs"] else "") + " |")
        gn = thr["gatehouse_to_nginx"]
        L.append("")
        L.append(f"gatehouse / nginx per round: {gn['per_round']} (median {fmt(gn['median'])})")
        g = thr["targets"].get(GW)
        if g and g.get("audit_cpu_us_per_req_median") and g.get("proxy_cpu_us_per_req_median"):
            L.append("")
            L.append(f"Gatehouse's audit writer thread: {fmt(g['audit_cpu_us_per_req_median'], 1)} us/req, "
                     f"{100 * g['audit_cpu_us_per_req_median'] / g['proxy_cpu_us_per_req_median']:.1f} % of its CPU per request "
                     f"(audit.durability: {res.get('meta', {}).get('params', {}).get('audit_durability', 'written')}).")
        wu = res.get("warmup_gatehouse")
        if wu:
            L.append("")
            L.append(f"Gatehouse warm-up before this: {wu['runs']} runs of {wu['duration_s']} s, req/s "
                     f"{' / '.join(f'{x / 1000:.1f}k' for x in wu['rps'])}, proxy CPU us/req "
                     f"{' / '.join(f'{x:.0f}' for x in wu['cpu_us_per_req'])}; "
                     f"{'stable' if wu['stable'] else 'not yet stable'} at the end.")
    lat = res.get("latency_c1")
    if lat:
        L.append("")
        L.append(f"## Unloaded latency: wrk -t1 -c1 -d{lat['duration_s']}s, {lat['rounds']} rounds")
        L.append("")
        L.append("| target | p50 ms | added p50 vs direct | p99 ms | req/s |")
        L.append("|---|---:|---:|---:|---:|")
        for n, t in lat["targets"].items():
            L.append(f"| {n} | {fmt(t['p50_ms_median'])} | {signed(t['added_p50_ms_vs_direct_median'])} ms | "
                     f"{fmt(t['p99_ms_median'])} | {fmt(t['rps_median'], 0)} |")
    stm = res.get("streaming")
    if stm:
        L.append("")
        L.append(f"## Streaming: {stm['n']} chunks {stm['ms']} ms apart, {stm['reps']} streams per target and format")
        L.append("")
        L.append("| target | format | TTFC p50 ms | added TTFC | chunk delay p50 ms | added delay | delay p99 ms | max | complete |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
        for fmt_name, per in stm["formats"].items():
            for n, t in per.items():
                L.append(f"| {n} | {fmt_name} | {fmt(t['ttfc_ms_p50'])} | {signed(t['added_ttfc_ms'])} | "
                         f"{fmt(t['delay_ms_p50'])} | {signed(t['added_delay_ms_p50'])} | {fmt(t['delay_ms_p99'])} | "
                         f"{fmt(t['delay_ms_max'], 1)} | {t['complete']}/{t['streams']} |")
    idle = res.get("idle_streams")
    if idle:
        L.append("")
        L.append(f"## Memory with {idle['conns']} open idle streams (one line every {idle['interval_ms']} ms)")
        L.append("")
        L.append("| process | RSS at start MiB | RSS before | RSS with streams | KiB/stream | RSS after close | PSS before -> with | streams open/alive |")
        L.append("|---|---:|---:|---:|---:|---:|---|---|")
        start = res.get("rss_start") or {}
        for n, t in idle["targets"].items():
            ps = t["per_stream"]
            L.append(f"| {n} ({t['processes']}) | {mib(start.get(n, {}).get('rss_kib'))} | {mib(t['before']['rss_kib'])} | "
                     f"{mib(t['during']['rss_kib'])} | {fmt(ps, 1)} | {mib(t['after_close']['rss_kib'])} | "
                     f"{mib(t['before']['pss_kib'])} -> {mib(t['during']['pss_kib'])} | {t['opened']}/{t['alive']} |")
    if res.get("problems"):
        L.append("")
        L.append("## Problems")
        L.append("")
        for p in res["problems"]:
            L.append(f"- {p}")
    L.append("")
    return "\n".join(L)


def main():
    d = sys.argv[1]
    meta = load(d, "meta.json") or {}
    checks = load(d, "checks.json")
    rss_start = load(d, "rss-start.json")
    thr = summarize_wrk(load(d, "wrk-c64.json"))
    lat = summarize_wrk(load(d, "wrk-c1.json"))
    stm = summarize_stream(load(d, "stream.json"))
    idle_raw = load(d, "idle.json")
    idle = None
    if idle_raw:
        idle = {"conns": idle_raw["conns"], "interval_ms": idle_raw["interval_ms"], "targets": {}}
        for n, t in idle_raw["targets"].items():
            idle["targets"][n] = {
                "processes": meta.get("processes", {}).get(n, ""),
                "pids": t["pids"], "opened": t["opened"], "alive": t["alive_at_measure"],
                "requested": t["requested"], "open_seconds": t["open_seconds"],
                "before": {k: t["before"][k] for k in ("rss_kib", "pss_kib")},
                "during": {k: t["during"][k] for k in ("rss_kib", "pss_kib")},
                "after_close": {k: t["after_close"][k] for k in ("rss_kib", "pss_kib")},
                "per_stream": t["rss_kib_per_stream"], "errors": t["errors"],
                "per_pid": {"before": t["before"]["per_pid"], "during": t["during"]["per_pid"],
                            "after_close": t["after_close"]["per_pid"]},
            }
    wu_raw = load(d, "wrk-warmup-gatehouse.json")
    warmup = None
    if wu_raw:
        ok = [r for r in wu_raw["runs"] if "error" not in r]
        warmup = {"runs": len(wu_raw["runs"]), "duration_s": wu_raw["duration_s"], "stable": wu_raw.get("stable"),
                  "rps": [r["rps"] for r in ok], "cpu_us_per_req": [r["proxy_cpu_us_per_req"] or 0 for r in ok]}
    problems = list(meta.get("problems", []))
    if checks:
        problems += [f"check failed: {c['what']} (got {c['got']}, expected {c['expected']})"
                     for c in checks if not c["ok"]]
    for label, s in (("throughput", thr), ("1-conn latency", lat)):
        if s is None:
            problems.append(f"{label}: no results")
            continue
        for n, t in s["targets"].items():
            if t["errors_total"] or t["failed_runs"]:
                problems.append(f"{label}: {n} had {t['errors_total']} wrk errors (non-2xx, timeouts...) "
                                f"and {t['failed_runs']} failed runs")
    if stm is None:
        problems.append("streaming: no results")
    else:
        for fmt_name, per in stm["formats"].items():
            for n, t in per.items():
                if t["complete"] != t["streams"]:
                    problems.append(f"streaming {fmt_name}: {n} completed {t['complete']} of {t['streams']} streams"
                                    + (f" ({t['errors'][0]})" if t["errors"] else ""))
    if idle is None:
        problems.append("idle streams: no results")
    else:
        for n, t in idle["targets"].items():
            if t["opened"] < t["requested"] or t["alive"] < t["opened"]:
                problems.append(f"idle streams: {n} opened {t['opened']} of {t['requested']}, {t['alive']} alive"
                                + (f" ({t['errors'][0]})" if t["errors"] else ""))
    res = {
        "meta": meta,
        "goals_design": GOALS,
        "goals": goal_rows(thr, lat, stm),
        "checks": checks,
        "rss_start": rss_start,
        "warmup_gatehouse": warmup,
        "throughput_c64": thr,
        "latency_c1": lat,
        "streaming": stm,
        "idle_streams": idle,
        "problems": problems,
        "raw_files": sorted(f for f in os.listdir(d) if f.endswith(".json") and f != "results.json"),
    }
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    md = markdown(res)
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()

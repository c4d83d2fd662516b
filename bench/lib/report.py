#!/usr/bin/env python3
"""Combines the pieces one bench/run.sh run wrote into results.json and summary.md.

Reads from the results directory: meta.json, checks.json, rss-start.json, startup-*.json, rss-later.json,
wrk-c64.json, wrk-c1.json, stream.json, stream-b2b.json, long-streams.json, large-bodies.json, idle.json and
profile-stages.json (missing pieces are reported as missing; the profile only with --profile).
Ratios are taken within a round (target / direct of the same round) and then the median over
rounds, so slow drifts of the machine's load cancel out as far as they can. The Targets table
holds issue 12's targets, judged on the gatehouse target (every safeguard on).
"""

import json
import os
import statistics
import sys

TARGETS = {  # issue 12, "Targets"
    "throughput_vs_nginx_min": 0.7,
    "cpu_per_request_vs_nginx_max": 1.5,
    "added_median_latency_ms_max": 0.2,
    "added_ttfc_ms_max": 0.5,
    "added_chunk_delay_ms_max": 0.15,
    "long_stream_cpu_per_chunk_vs_nginx_max": 2.0,
    "large_body_mb_per_s_vs_nginx_min": 0.8,
    "large_body_peak_rss": "RSS at idle + 2 x bytes in flight",
    "idle_streams": 10000,
    "idle_stream_kib_max": 10.0,
    "startup_s_max": 1.0,
    "rss_idle_mib_max": 120.0,
}
GW, NG, DI, BARE = "gatehouse", "nginx", "direct", "gatehouse-bare"
FIRST = "gatehouse-first"  # the first serve after a build, without the class-data archive
TARGET_ORDER = (DI, BARE, GW, NG)


def extra_starts(d, name):
    """The starts run.sh measured and stopped before the one it kept (startup-NAME.K.json)."""
    out, k = [], 1
    while os.path.exists(os.path.join(d, f"startup-{name}.{k}.json")):
        out.append(load(d, f"startup-{name}.{k}.json"))
        k += 1
    return [x for x in out if x is not None]


def of_starts(kept, extra):
    """One target's start-up: the median of its starts (and of their RSS at idle), each kept too."""
    runs = extra + [kept]
    if len(runs) == 1:
        return kept
    ok = [r for r in runs if r.get("startup_s") is not None]
    rss = [r["rss_idle_kib"] for r in ok if r.get("rss_idle_kib") is not None]
    return dict(kept, startup_s=med([r["startup_s"] for r in ok]) if len(ok) == len(runs) else None,
                rss_idle_kib=med(rss) if rss else None,
                starts=[r.get("startup_s") for r in runs], rss_idle_kib_starts=[r.get("rss_idle_kib") for r in runs])


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
            "machine_iowait_pct_median": med([r.get("machine_iowait_pct") for r in mine]),
            "disk_write_bytes_per_req_median": med([r.get("disk_write_bytes_per_req") for r in mine]),
            "errors_total": sum(r["errors"] for r in mine),
            "failed_runs": sum(1 for r in w["runs"] if r["target"] == n and "error" in r),
        }
    def pair(a, b):
        xs = [rd[a]["rps"] / rd[b]["rps"] for rd in rounds.values() if a in rd and b in rd and rd[b]["rps"]]
        return {"median": med(xs), "min": min(xs) if xs else None, "max": max(xs) if xs else None,
                "per_round": [round(x, 3) for x in xs]}

    out["gatehouse_to_nginx"] = pair(GW, NG)
    out["bare_to_nginx"] = pair(BARE, NG)
    out["gatehouse_to_bare"] = pair(GW, BARE)
    return out


def summarize_stream(s):
    if not s:
        return None
    out = {"n": s["n"], "ms": s["ms"], "reps": s["reps"], "order": s.get("order"), "formats": {}}
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


def stream_rows(s):
    """(format, target, figures) for each format and target of a summarize_stream summary."""
    for fmt_name, per in s["formats"].items():
        for n, t in per.items():
            yield fmt_name, n, t


def ratio(a, b):
    return None if a is None or b is None or not b else a / b


def target_rows(thr, lat, stm, longs, large, idle, startup):
    """Issue 12's targets: the gatehouse figure decides `met`; bare and nginx are shown beside it."""
    rows = []
    T = TARGETS

    def row(name, goal, gw, bare, ng, met, note=""):
        rows.append({"target": name, "goal": goal, "gatehouse": gw, "gatehouse-bare": bare, "nginx": ng,
                     "met": met, "note": note})

    def le(v, lim):
        return None if v is None else v <= lim

    def ge(v, lim):
        return None if v is None else v >= lim

    t = (thr or {}).get("targets", {})
    gn = thr and thr["gatehouse_to_nginx"]["median"]
    bn = thr and thr["bare_to_nginx"]["median"]
    row("small requests, 64 connections: req/s vs nginx", f">= {T['throughput_vs_nginx_min']}x", gn, bn,
        t.get(NG, {}).get("rps_median"), ge(gn, T["throughput_vs_nginx_min"]))
    cpu = lambda n: t.get(n, {}).get("proxy_cpu_us_per_req_median")  # noqa: E731
    row("small requests: CPU per request vs nginx", f"<= {T['cpu_per_request_vs_nginx_max']}x",
        ratio(cpu(GW), cpu(NG)), ratio(cpu(BARE), cpu(NG)), cpu(NG),
        le(ratio(cpu(GW), cpu(NG)), T["cpu_per_request_vs_nginx_max"]),
        "nginx column: its us/request")
    lt = (lat or {}).get("targets", {})
    added = lambda n: lt.get(n, {}).get("added_p50_ms_vs_direct_median")  # noqa: E731
    row("added median latency at 1 connection (ms)", f"<= +{T['added_median_latency_ms_max']} ms",
        added(GW), added(BARE), added(NG), le(added(GW), T["added_median_latency_ms_max"]))
    for fmt_name, label in (("ndjson", "NDJSON"), ("sse", "SSE")):
        f = (stm or {}).get("formats", {}).get(fmt_name, {})
        g = lambda n, k: f.get(n, {}).get(k)  # noqa: E731
        row(f"added time to first chunk, {label} (ms)", f"<= +{T['added_ttfc_ms_max']} ms",
            g(GW, "added_ttfc_ms"), g(BARE, "added_ttfc_ms"), g(NG, "added_ttfc_ms"),
            le(g(GW, "added_ttfc_ms"), T["added_ttfc_ms_max"]))
        row(f"added delay per chunk, {label}, p50 (ms)", f"<= +{T['added_chunk_delay_ms_max']} ms",
            g(GW, "added_delay_ms_p50"), g(BARE, "added_delay_ms_p50"), g(NG, "added_delay_ms_p50"),
            le(g(GW, "added_delay_ms_p50"), T["added_chunk_delay_ms_max"]))
    lg = (longs or {}).get("targets", {})
    cpc = lambda n: lg.get(n, {}).get("cpu_us_per_chunk_median")  # noqa: E731
    row("long streams: CPU per chunk vs nginx", f"<= {T['long_stream_cpu_per_chunk_vs_nginx_max']}x",
        ratio(cpc(GW), cpc(NG)), ratio(cpc(BARE), cpc(NG)), cpc(NG),
        le(ratio(cpc(GW), cpc(NG)), T["long_stream_cpu_per_chunk_vs_nginx_max"]), "nginx column: its us/chunk")
    lb = (large or {}).get("targets", {})
    mbs = lambda n: lb.get(n, {}).get("mb_per_s_median")  # noqa: E731
    row("large bodies: MB/s vs nginx", f">= {T['large_body_mb_per_s_vs_nginx_min']}x",
        ratio(mbs(GW), mbs(NG)), ratio(mbs(BARE), mbs(NG)), mbs(NG),
        ge(ratio(mbs(GW), mbs(NG)), T["large_body_mb_per_s_vs_nginx_min"]), "nginx column: its MB/s")
    b = lambda n: lb.get(n, {}).get("peak_over_bound_mib")  # noqa: E731
    row("large bodies: peak RSS - (RSS at idle + 2 x bytes in flight) (MiB)", "<= 0",
        b(GW), b(BARE), b(NG), le(b(GW), 0), "negative: under the bound")
    it = (idle or {}).get("targets", {})
    full = idle is not None and idle.get("conns", 0) >= T["idle_streams"]
    note = "" if full else f"ran with {idle['conns'] if idle else 0} streams, not {T['idle_streams']:,}"

    def served(n):
        x = it.get(n)
        return None if x is None else f"{min(x['opened'], x['alive'])}/{x['requested']}"

    ok = it.get(GW) and min(it[GW]["opened"], it[GW]["alive"]) >= it[GW]["requested"]
    row(f"{T['idle_streams']:,} idle streams: all served", "all", served(GW), served(BARE), served(NG),
        (bool(ok) if full else None) if it.get(GW) else None, note)
    per = lambda n: it.get(n, {}).get("per_stream")  # noqa: E731
    row("idle streams: memory per stream (KiB)", f"<= {T['idle_stream_kib_max']:.0f} KiB", per(GW), per(BARE),
        per(NG), (le(per(GW), T["idle_stream_kib_max"]) if full else None), note)
    su = startup or {}
    st = lambda n: su.get(n, {}).get("startup_s")  # noqa: E731
    row("start-up to the first served request (s)", f"<= {T['startup_s_max']} s", st(GW), st(BARE), st(NG),
        le(st(GW), T["startup_s_max"]))
    if su.get(FIRST):
        row("start-up, first serve after a build (writes the class-data archive) (s)", "-", st(FIRST), None, None,
            None, "not a target: shown for what a first start costs")
    rss = lambda n: None if su.get(n, {}).get("rss_idle_kib") is None else su[n]["rss_idle_kib"] / 1024  # noqa: E731
    row("RSS at idle (MiB)", f"<= {T['rss_idle_mib_max']:.0f} MiB", rss(GW), rss(BARE), rss(NG),
        le(rss(GW), T["rss_idle_mib_max"]))
    later = lambda n: (None if su.get(n, {}).get("rss_later_kib") is None  # noqa: E731
                       else su[n]["rss_later_kib"] / 1024)
    if su.get(GW, {}).get("rss_later_age_s") is not None:
        row("RSS at idle, a minute after start (MiB)", f"<= {T['rss_idle_mib_max']:.0f} MiB", later(GW),
            later(BARE), later(NG), le(later(GW), T["rss_idle_mib_max"]),
            f"read {su[GW]['rss_later_age_s']:.0f} s after gatehouse's launch, after serve's first posture check"
            " (30 s), nothing sent yet")
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
    L.append("## Targets (issue 12)")
    L.append("")
    L.append("Judged on `gatehouse` (every safeguard on); `gatehouse-bare` (the same build as a bare relay) and "
             "nginx beside it. Ratios are to nginx.")
    L.append("")
    L.append("| target | goal | gatehouse | gatehouse-bare | nginx | met |")
    L.append("|---|---|---:|---:|---:|---|")
    for g in res["targets"]:
        cells = []
        for k in (GW, BARE, NG):
            v = g[k]
            if v is None:
                cells.append("-")
            elif isinstance(v, str):
                cells.append(v)
            elif "vs nginx" in g["target"] and k != NG:
                cells.append(f"{v:.2f}x")
            elif "added" in g["target"] or "peak RSS" in g["target"]:
                cells.append(f"{v:+.3f}" if "added" in g["target"] else f"{v:+.1f}")
            else:
                cells.append(f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}")
        met = "n/a" if g["met"] is None else ("yes" if g["met"] else "**no**")
        if g.get("note"):
            met += f" ({g['note']})"
        L.append(f"| {g['target']} | {g['goal']} | {cells[0]} | {cells[1]} | {cells[2]} | {met} |")
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
        gb, bn = thr["gatehouse_to_bare"], thr["bare_to_nginx"]
        L.append("")
        L.append(f"Cost of the safeguards, gatehouse / gatehouse-bare per round: {gb['per_round']} (median "
                 f"{fmt(gb['median'])}); cost of the foundation, gatehouse-bare / nginx: {bn['per_round']} "
                 f"(median {fmt(bn['median'])}).")
        g = thr["targets"].get(GW)
        if g and g.get("audit_cpu_us_per_req_median") and g.get("proxy_cpu_us_per_req_median"):
            L.append("")
            L.append(f"Gatehouse's audit threads (the writer and its SQLite copy): {fmt(g['audit_cpu_us_per_req_median'], 1)} us/req, "
                     f"{100 * g['audit_cpu_us_per_req_median'] / g['proxy_cpu_us_per_req_median']:.1f} % of its CPU per request "
                     f"(audit.durability: {res.get('meta', {}).get('params', {}).get('audit_durability', 'written')}).")
        disk = [(n, t["disk_write_bytes_per_req_median"]) for n, t in thr["targets"].items()
                if t.get("disk_write_bytes_per_req_median") is not None]
        if disk:
            L.append("")
            L.append("Written to storage per request (write_bytes of /proc/PID/io, median round; for gatehouse its "
                     "audit log: the JSONL file, and the SQLite copy's WAL and checkpoints): "
                     + "; ".join(f"{n} {b / 1024:.2f} KiB" for n, b in disk) + ".")
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
        L.append(f"## Streaming: {stm['n']} chunks {stm['ms']} ms apart, {stm['reps']} streams per target and format"
                 + (", the targets' order turned one place a rep" if stm.get("order") else ""))
        L.append("")
        L.append("| target | format | TTFC p50 ms | added TTFC | chunk delay p50 ms | added delay | delay p99 ms | max | complete |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
        for fmt_name, n, t in stream_rows(stm):
            L.append(f"| {n} | {fmt_name} | {fmt(t['ttfc_ms_p50'])} | {signed(t['added_ttfc_ms'])} | "
                     f"{fmt(t['delay_ms_p50'])} | {signed(t['added_delay_ms_p50'])} | {fmt(t['delay_ms_p99'])} | "
                     f"{fmt(t['delay_ms_max'], 1)} | {t['complete']}/{t['streams']} |")
    b2b = res.get("streaming_back_to_back")
    if b2b:
        L.append("")
        L.append(f"## Streaming back to back: {b2b['n']} chunks, no pause, {b2b['reps']} streams per target and format "
                 "(not a target)")
        L.append("")
        L.append("The same streams one after another, so that no target sits idle between a request and the next: "
                 "the warm path's time to first chunk. The probe above waits between chunks and between streams; "
                 "the difference between the two tables is what an idle gap costs each target.")
        L.append("")
        L.append("| target | format | TTFC p50 ms | added TTFC | TTFC p90 ms | complete |")
        L.append("|---|---|---:|---:|---:|---|")
        for fmt_name, n, t in stream_rows(b2b):
            L.append(f"| {n} | {fmt_name} | {fmt(t['ttfc_ms_p50'])} | {signed(t['added_ttfc_ms'])} | "
                     f"{fmt(t['ttfc_ms_p90'])} | {t['complete']}/{t['streams']} |")
    lg = res.get("long_streams")
    if lg:
        L.append("")
        L.append(f"## Long streams: {lg['conns']} concurrent NDJSON streams of {lg['n']} chunks {lg['ms']} ms apart, "
                 + (f"{lg['warmup_rounds']} warm-up round(s) and " if lg.get("warmup_rounds") else "")
                 + f"{lg['rounds']} measured rounds")
        L.append("")
        L.append("| target | complete | chunks | proxy CPU us/chunk | vs nginx | warm-up us/chunk | TTFC p50 ms | added | "
                 "delay p50 ms | added | delay p99 ms | added |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n, t in lg["targets"].items():
            warm = ", ".join(fmt(c, 1) for c in t.get("warmup_cpu_us_per_chunk") or []) or "-"
            L.append(f"| {n} | {t['complete']}/{t['streams']} | {t['chunks']:,} | {fmt(t['cpu_us_per_chunk_median'], 2)} | "
                     f"{fmt(t.get('cpu_vs_nginx'), 2)} | {warm} | {fmt(t['ttfc_ms']['p50'])} | {signed(t.get('added_ttfc_ms'))} | "
                     f"{fmt(t['delay_ms']['p50'])} | {signed(t.get('added_delay_ms_p50'))} | {fmt(t['delay_ms']['p99'])} | "
                     f"{signed(t.get('added_delay_ms_p99'))} |")
    lb = res.get("large_bodies")
    if lb:
        L.append("")
        L.append(f"## Large bodies: {lb['conns']} at once x {lb['per_conn']} chat requests of {lb['body_bytes'] / 1e6:.1f} MB "
                 f"(a {lb['image_bytes'] / 1048576:.0f} MiB image in base64), "
                 + (f"{lb['warmup_rounds']} warm-up round(s) and " if lb.get("warmup_rounds") else "")
                 + f"{lb['rounds']} rounds")
        L.append("")
        L.append(f"Bytes in flight: {lb['bytes_in_flight'] / 1048576:.0f} MiB. Memory bound (issue 12): peak RSS <= RSS at "
                 "idle (start-up table) + 2 x bytes in flight.")
        L.append("")
        L.append("| target | ok | MB/s | vs nginx | latency p50 ms | added vs direct | p90 ms | RSS before MiB | "
                 "peak RSS MiB | VmHWM MiB | bound MiB |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n, t in lb["targets"].items():
            L.append(f"| {n} | {t['requests']}/{t['wanted']} | {fmt(t['mb_per_s_median'], 1)} | {fmt(t.get('mbs_vs_nginx'), 2)} | "
                     f"{fmt(t['latency_ms_p50_median'], 1)} | {signed(t.get('added_latency_ms'), 1)} | "
                     f"{fmt(t['latency_ms_p90_median'], 1)} | {mib(t['rss_before_kib'])} | {mib(t['peak_rss_kib'])} | "
                     f"{mib(t['vmhwm_kib'])} | {mib(t.get('bound_kib'))} |")
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
    su = res.get("startup")
    if su:
        L.append("")
        L.append("## Start-up: launch to the first served request (the jar already built), then RSS at idle")
        L.append("")
        L.append("| target | first answer | start-up ms (median) | each start, ms | RSS at idle MiB (median) "
                 "| RSS at idle later, MiB (s after launch) |")
        L.append("|---|---|---:|---|---:|---:|")
        for n, t in su.items():
            each = ", ".join("-" if x is None else f"{x * 1000:.0f}" for x in t.get("starts", [t.get("startup_s")]))
            age = t.get("rss_later_age_s")
            later = "-" if age is None else f"{mib(t.get('rss_later_kib'))} ({age:.0f} s)"
            L.append(f"| {n} | {t.get('status') or '-'} | {fmt(None if t.get('startup_s') is None else t['startup_s'] * 1000, 0)} | "
                     f"{each} | {mib(t.get('rss_idle_kib'))} | {later} |")
    prof = res.get("profile")
    if prof:
        L.append("")
        L.append(f"## Profile: gatehouse, JFR execution samples during one extra wrk -c64 run ({prof['samples']:,} samples)")
        L.append("")
        L.append("Each sample goes to the first `dev.gatehouse.<package>` frame from the top of its stack; samples with "
                 "none go to Netty, Vert.x, JDK or other by their top frame. Top frames: where the CPU was; via: the "
                 "Gatehouse frame the sample came through.")
        L.append("")
        L.append("| stage / package | samples | share | top frames | via |")
        L.append("|---|---:|---:|---|---|")
        for r in prof["stages"]:
            tops = ", ".join(f"`{m}` {c}" for m, c in r["top_frames"])
            via = ", ".join(f"`{m}` {c}" for m, c in r["via"]) or "-"
            L.append(f"| {r['stage']} | {r['samples']:,} | {r['pct']:.1f} % | {tops} | {via} |")
        L.append("")
        L.append("By thread: " + ", ".join(f"{t['thread']} {t['pct']:.1f} %" for t in prof["threads"]) + ".")
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
    b2b = summarize_stream(load(d, "stream-b2b.json"))
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
    startup = {}
    for n in (FIRST, BARE, GW, NG):
        x = load(d, f"startup-{n}.json")
        if x is not None:
            startup[n] = of_starts(x, extra_starts(d, n))
    later = load(d, "rss-later.json")
    for n, t in ((later or {}).get("targets") or {}).items():
        if n in startup:
            startup[n]["rss_later_kib"] = t.get("rss_kib")
            startup[n]["rss_later_age_s"] = t.get("age_s")
    longs = load(d, "long-streams.json")
    if longs:
        lt = longs["targets"]
        base, ngt = lt.get(DI), lt.get(NG)
        for n, t in lt.items():
            t["cpu_vs_nginx"] = ratio(t["cpu_us_per_chunk_median"], ngt and ngt["cpu_us_per_chunk_median"])
            for key, sub, k in (("added_ttfc_ms", "ttfc_ms", "p50"), ("added_delay_ms_p50", "delay_ms", "p50"),
                                ("added_delay_ms_p99", "delay_ms", "p99")):
                a, b = t[sub][k], base and base[sub][k]
                t[key] = None if a is None or b is None else a - b
    large = load(d, "large-bodies.json")
    if large:
        lt = large["targets"]
        base, ngt = lt.get(DI), lt.get(NG)
        for n, t in lt.items():
            t["mbs_vs_nginx"] = ratio(t["mb_per_s_median"], ngt and ngt["mb_per_s_median"])
            a, b = t["latency_ms_p50_median"], base and base["latency_ms_p50_median"]
            t["added_latency_ms"] = None if a is None or b is None else a - b
            idle_rss = startup.get(n, {}).get("rss_idle_kib")
            t["bound_kib"] = None if idle_rss is None else idle_rss + 2 * large["bytes_in_flight"] / 1024
            t["peak_over_bound_mib"] = (None if t["bound_kib"] is None or t["peak_rss_kib"] is None
                                        else (t["peak_rss_kib"] - t["bound_kib"]) / 1024)
    prof = load(d, "profile-stages.json")
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
    for label, s in (("streaming", stm), ("streaming back to back", b2b)):
        if s is None:
            problems.append(f"{label}: no results")
            continue
        for fmt_name, n, t in stream_rows(s):
            if t["complete"] != t["streams"]:
                problems.append(f"{label} {fmt_name}: {n} completed {t['complete']} of {t['streams']} streams"
                                + (f" ({t['errors'][0]})" if t["errors"] else ""))
    if meta.get("params", {}).get("profile") and prof is None:
        problems.append("profile: no results")
    for n in (BARE, GW, NG):
        if startup.get(n, {}).get("startup_s") is None:
            problems.append(f"start-up: no figure for {n}")
    if longs is None:
        problems.append("long streams: no results")
    else:
        for n, t in longs["targets"].items():
            if t["complete"] != t["streams"]:
                problems.append(f"long streams: {n} completed {t['complete']} of {t['streams']} streams"
                                + (f" ({t['errors'][0]})" if t["errors"] else ""))
            warm_streams = longs.get("warmup_rounds", 0) * longs["conns"]
            if t.get("warmup_complete", warm_streams) != warm_streams:
                problems.append(f"long streams: {n} completed {t['warmup_complete']} of {warm_streams} warm-up streams")
    if large is None:
        problems.append("large bodies: no results")
    else:
        for n, t in large["targets"].items():
            if t["requests"] != t["wanted"]:
                problems.append(f"large bodies: {n} answered {t['requests']} of {t['wanted']} requests with 200"
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
        "targets_issue12": TARGETS,
        "targets": target_rows(thr, lat, stm, longs, large, idle, startup),
        "checks": checks,
        "rss_start": rss_start,
        "warmup_gatehouse": warmup,
        "throughput_c64": thr,
        "latency_c1": lat,
        "streaming": stm,
        "streaming_back_to_back": b2b,
        "long_streams": longs,
        "large_bodies": large,
        "idle_streams": idle,
        "startup": startup,
        "profile": prof,
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

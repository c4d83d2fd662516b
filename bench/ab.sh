#!/usr/bin/env bash
# A/B throughput of two Gatehouse revisions in the same run: each is built from its own git
# worktree and started with the same config in front of the same nginx `return 200` backend;
# wrk runs alternate between them (A, B, A, B, ...), so drift in a shared machine hits both.
#
#   bench/ab.sh REV_A REV_B [ROUNDS] [SECONDS]
#
# REV is anything `git worktree add` takes (a commit, a branch). Prints each round's req/s and
# proxy CPU per request, and the median ratio B/A. Results in bench/results/ab-<stamp>/.
# AB_CONFIG_A / AB_CONFIG_B: YAML lines appended to that side's config, to compare settings of
# one revision (for example AB_CONFIG_B=$'guard:\n  mode: off').
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
[ $# -ge 2 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
rev_a="$1"; rev_b="$2"; rounds="${3:-5}"; seconds="${4:-10}"
base="${BENCH_PORT_BASE:-28400}"
P_BACKEND=$base; P_A=$((base + 10)); P_B=$((base + 11))

stamp="$(date -u +%Y%m%d-%H%M%S)"
res="$bench/results/ab-$stamp"
work="$(mktemp -d /tmp/gatehouse-ab.XXXXXX)"
chmod 755 "$work"
mkdir -p "$res/logs"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for side in a b; do git -C "$repo" worktree remove --force "$work/src-$side" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
log() { echo "[ab $(date +%H:%M:%S)] $*"; }

wait_port() { # port seconds
  for _ in $(seq 1 $(($2 * 10))); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "ab: nothing listens on $1" >&2; exit 1
}

user_line=""
if [ "$(id -u)" = 0 ] && id www-data >/dev/null 2>&1; then user_line="user www-data;"; fi
mkdir -p "$work/backend-tmp"/{body,proxy,fastcgi,uwsgi,scgi}
[ -n "$user_line" ] && chown -R www-data "$work/backend-tmp"
sed -e "s|@USER_LINE@|$user_line|" -e "s|@RUN@|$work|g" -e "s|@LOGS@|$res/logs|g" \
  -e "s|@P_STATIC@|$P_BACKEND|g" -e "s|@NOFILE@|$(ulimit -n)|" -e "s|@WORKER_CONNS@|4096|" \
  "$bench/conf/backend-nginx.conf.in" >"$work/backend-nginx.conf"
nginx -p "$work/" -e "$res/logs/backend-nginx.error.log" -c "$work/backend-nginx.conf" >"$res/logs/backend.out" 2>&1 &
pids+=($!)
wait_port "$P_BACKEND" 20

declare -A port=([a]=$P_A [b]=$P_B) rev=([a]="$rev_a" [b]="$rev_b") pid auth
for side in a b; do
  src="$work/src-$side"
  git -C "$repo" worktree add --detach "$src" "${rev[$side]}" >/dev/null 2>&1
  log "building $side = ${rev[$side]} ($(git -C "$src" rev-parse --short HEAD))"
  (cd "$src" && . scripts/jdk.sh && JAVA_HOME="$(find_jdk)" ./mvnw -q -B -o -DskipTests package) >"$res/logs/build-$side.log" 2>&1 ||
    { tail -n 20 "$res/logs/build-$side.log" >&2; exit 1; }
  mkdir -p "$work/data-$side"
  cat >"$work/gatehouse-$side.yaml" <<EOF
listen: 127.0.0.1:${port[$side]}
admin:
  listen: 127.0.0.1:$((port[$side] + 10))
upstream: http://127.0.0.1:$P_BACKEND
data_dir: $work/data-$side
server:
  event_loops: 1
limits:
  max_upstream_connections: 4096
timeouts:
  keepalive: 300s
rate:
  key_rpm: 100000000
  key_burst: 100000000
  ip_rpm: 100000000
  ip_burst: 100000000
concurrency:
  global: 100000
  per_key: 100000
connections:
  max_per_ip: 100000
posture:
  interval: 0
EOF
  if [ "$side" = a ]; then extra="${AB_CONFIG_A:-}"; else extra="${AB_CONFIG_B:-}"; fi
  [ -n "$extra" ] && printf '%s\n' "$extra" >>"$work/gatehouse-$side.yaml"
  cp "$work/gatehouse-$side.yaml" "$res/gatehouse-$side.yaml"
  key="$(cd "$src" && env -u GATEHOUSE_JAVA_OPTS ./gatehouse keys create --config "$work/gatehouse-$side.yaml" --name ab --json 2>>"$res/logs/keys-$side.log" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
  auth[$side]="Bearer $key"
  (cd "$src" && exec ./gatehouse serve --config "$work/gatehouse-$side.yaml") >"$res/logs/gatehouse-$side.log" 2>&1 &
  pid[$side]=$!
  pids+=("${pid[$side]}")
done
wait_port "$P_A" 120
wait_port "$P_B" 120

targets="[{\"name\":\"A\",\"port\":$P_A,\"auth\":\"${auth[a]}\",\"pids\":[${pid[a]}]},{\"name\":\"B\",\"port\":$P_B,\"auth\":\"${auth[b]}\",\"pids\":[${pid[b]}]}]"
log "warm-up: 4 rounds of 5 s each"
python3 "$bench/lib/run_wrk.py" --targets "$targets" --rounds 4 --duration 5 --label warmup --out "$res/warmup.json" >/dev/null
log "measuring: $rounds interleaved rounds of $seconds s, wrk -t2 -c64, POST /api/chat"
python3 "$bench/lib/run_wrk.py" --targets "$targets" --rounds "$rounds" --duration "$seconds" --label ab --out "$res/ab.json" | tee "$res/ab.log"
python3 - "$res/ab.json" "$rev_a" "$rev_b" <<'EOF' | tee "$res/summary.md"
import json, statistics, sys
runs = json.load(open(sys.argv[1]))
runs = runs.get("runs", runs) if isinstance(runs, dict) else runs
by = {"A": [], "B": []}
for r in runs:
    if "rps" in r:
        by[r["target"] if "target" in r else r["name"]].append(r)
ratios = [b["rps"] / a["rps"] for a, b in zip(by["A"], by["B"])]
def cpu(rs):
    v = [r.get("proxy_cpu_us_per_req") for r in rs if r.get("proxy_cpu_us_per_req")]
    return f"{statistics.median(v):.1f}" if v else "-"
print(f"A = {sys.argv[2]}, B = {sys.argv[3]}")
print(f"A req/s: {[round(r['rps']) for r in by['A']]}, median {statistics.median(r['rps'] for r in by['A']):.0f}, CPU us/req {cpu(by['A'])}")
print(f"B req/s: {[round(r['rps']) for r in by['B']]}, median {statistics.median(r['rps'] for r in by['B']):.0f}, CPU us/req {cpu(by['B'])}")
print(f"B/A per round: {[round(x, 3) for x in ratios]}, median {statistics.median(ratios):.3f}")
audit = [b["audit_cpu_us_per_req"] / a["audit_cpu_us_per_req"] for a, b in zip(by["A"], by["B"])
         if a.get("audit_cpu_us_per_req") and b.get("audit_cpu_us_per_req")]
if audit:
    print(f"audit threads' CPU B/A per round: {[round(x, 3) for x in audit]}, median {statistics.median(audit):.3f}")
# A round whose requests failed (a backend gone, a gateway refusing) measures the failure, not
# the revision: say so, and fail, rather than print a ratio of error answers.
bad = [r for r in by["A"] + by["B"] if r.get("errors", 0) > 0.01 * max(1, r.get("requests", 0))]
if bad or any("error" in r for r in runs):
    print("NOT COMPARABLE: " + ", ".join(f"{r.get('target')} {r.get('errors')} errors of {r.get('requests')}" for r in bad)
          + "".join(f" {r.get('target')}: {r['error'][:200]}" for r in runs if "error" in r))
    sys.exit(1)
EOF

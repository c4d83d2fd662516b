#!/usr/bin/env bash
# Soak test: 10 minutes of steady mixed traffic through Gatehouse at about half its measured
# capacity (small chat requests, NDJSON and SSE streams, refusals), sampling the gateway's RSS,
# heap after a full GC, threads, file descriptors and audit lag every 10 s. Passes only if none
# grows after warm-up and no request fails unexpectedly. See bench/README.md.
#
#   bench/soak.sh            SOAK_SECONDS (600), SOAK_WARMUP (120), SOAK_PORT_BASE (28300)
#
# Results: bench/results/soak-<stamp>/summary.md and samples.json. Loopback only; every process
# started here is stopped on exit.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
SECS="${SOAK_SECONDS:-600}"
WARMUP="${SOAK_WARMUP:-120}"
base="${SOAK_PORT_BASE:-28300}"
P_UP=$((base + 0)); P_GW=$((base + 10)); P_ADMIN=$((base + 12))
for tool in wrk python3 curl jcmd; do
  command -v "$tool" >/dev/null 2>&1 || { echo "soak: $tool not found (apt-get install -y wrk curl python3; jcmd comes with the JDK)" >&2; exit 2; }
done
stamp="$(date +%Y%m%d-%H%M%S)"
res="$bench/results/soak-$stamp"
work="$(mktemp -d /tmp/gatehouse-soak.XXXXXX)"
mkdir -p "$res/logs"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done; echo "soak: nothing listening on $1" >&2; exit 1; }

python3 "$bench/lib/stream_backend.py" --port "$P_UP" --max-seconds $((SECS + 300)) >"$res/logs/backend.log" 2>&1 &
pids+=($!)
cat >"$work/gatehouse.yaml" <<YAML
listen: 127.0.0.1:$P_GW
upstream: http://127.0.0.1:$P_UP
data_dir: $work/data
admin:
  listen: 127.0.0.1:$P_ADMIN
server:
  event_loops: 1
rate:
  key_rpm: 100000000
  key_burst: 100000000
  ip_rpm: 100000000
  ip_burst: 100000000
  anonymous_ip_rpm: 100000000
  anonymous_ip_burst: 100000000
concurrency:
  global: 100000
  per_key: 100000
connections:
  max_per_ip: 100000
bans:
  never: [127.0.0.0/8]   # the refusal load comes from loopback too: every limit is still checked
YAML
cp "$work/gatehouse.yaml" "$res/"
(cd "$repo" && ./gatehouse --version) >"$res/logs/build.log" 2>&1
key="$(cd "$repo" && env -u GATEHOUSE_CONFIG ./gatehouse keys create --config "$work/gatehouse.yaml" --name soak --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
# /metrics needs an admin credential (a viewer's will do), as Prometheus sends it.
admin_token="$(cd "$repo" && env -u GATEHOUSE_CONFIG ./gatehouse admins create --config "$work/gatehouse.yaml" --name soak-scrape --role viewer --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"
(cd "$repo" && exec ./gatehouse serve --config "$work/gatehouse.yaml") >"$res/logs/gatehouse.log" 2>&1 &
gw=$!
pids+=($gw)
wait_port "$P_GW"
jvm="$(pgrep -P "$gw" java || echo "$gw")"
[ -d "/proc/$jvm" ] || jvm="$gw"

small='{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"stream":false,"bench":{"n":1,"ms":0}}'
run_wrk() { # name conns seconds delay_ms expect auth path body
  SOAK_OUT="$res/wrk-$1.json" SOAK_DELAY_MS="$4" SOAK_EXPECT="$5" SOAK_AUTH="$6" SOAK_PATH="$7" SOAK_BODY="$8" \
    wrk -t1 -c"$2" -d"$3"s -s "$bench/lib/soak_load.lua" "http://127.0.0.1:$P_GW" >"$res/logs/wrk-$1.txt" 2>&1
}
log "measuring capacity (10 s)"
run_wrk capacity 16 10 0 200 "Bearer $key" /api/chat "$small"
cap="$(python3 -c "import json; print(int(json.load(open('$res/wrk-capacity.json'))['rps']))")"
rate=$((cap / 2)); [ "$rate" -ge 10 ] || rate=10
conns=16
delay=$((conns * 1000 / rate))
log "capacity $cap req/s; soaking at about $rate req/s for $SECS s (warm-up $WARMUP s)"

run_wrk small "$conns" "$SECS" "$delay" 200 "Bearer $key" /api/chat "$small" &
pids+=($!)
run_wrk refused 2 "$SECS" 100 401 "Bearer gk_wrong_000000000000000000000000000000000000" /api/chat "$small" &
pids+=($!)
run_wrk unknown 1 "$SECS" 200 404 "Bearer $key" /api/definitely-not-a-route "" &
pids+=($!)
# Eight streams at a time, NDJSON and SSE, each 50 chunks 100 ms apart.
end=$(( $(date +%s) + SECS ))
for i in 1 2 3 4 5 6 7 8; do
  (
    n=0; bad=0
    while [ "$(date +%s)" -lt "$end" ]; do
      if [ $((i % 2)) = 0 ]; then p=/api/chat; else p=/v1/chat/completions; fi
      out="$(curl -sS -N --max-time 30 -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d '{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"bench":{"n":50,"ms":100}}' \
        -w '\n%{http_code}' "http://127.0.0.1:$P_GW$p" 2>/dev/null | tail -n 1)" || true
      n=$((n + 1)); [ "$out" = 200 ] || bad=$((bad + 1))
    done
    echo "{\"requests\": $n, \"rps\": 0, \"unexpected\": $bad}" >"$res/stream-$i.json"
  ) &
  pids+=($!)
done

metric() { curl -s -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$P_ADMIN/metrics" | awk -v m="$1" '$1 ~ "^"m && !done {print $2; done = 1}' || true; }
echo "[" >"$res/samples.json"
t0=$(date +%s); first=1
while [ "$(date +%s)" -lt "$end" ]; do
  jcmd "$jvm" GC.run >/dev/null 2>&1 || true
  heap_k="$(jcmd "$jvm" GC.heap_info 2>/dev/null | sed -n 's/.*heap.* used \([0-9]*\)K.*/\1/p' | head -n 1)"
  rss_k="$(awk '/^VmRSS/ {print $2}' "/proc/$jvm/status")"
  thr="$(awk '/^Threads/ {print $2}' "/proc/$jvm/status")"
  fds="$(ls "/proc/$jvm/fd" | wc -l)"
  lag="$(metric gatehouse_audit_write_lag_seconds_max)"
  [ "$first" = 1 ] || echo "," >>"$res/samples.json"
  first=0
  python3 -c "import json,sys; print(json.dumps({'t': $(( $(date +%s) - t0 )), 'rss_mib': round(${rss_k:-0}/1024,1), 'heap_after_gc_mib': round(${heap_k:-0}/1024,1), 'threads': ${thr:-0}, 'fds': ${fds:-0}, 'audit_lag_ms': round(float('${lag:-0}' or 0)*1000,2)}))" >>"$res/samples.json"
  sleep 10
done
echo "]" >>"$res/samples.json"
log "load done; waiting for the clients to finish"
sleep 5
for p in "${pids[@]:2}"; do wait "$p" 2>/dev/null || true; done
python3 - "$res" <<'PY'
import glob, json, sys
res = sys.argv[1]
loads = {}
for name in ("small", "refused", "unknown"):
    loads[name] = json.load(open(f"{res}/wrk-{name}.json"))
s = [json.load(open(f)) for f in glob.glob(f"{res}/stream-*.json")]
loads["streams"] = {"requests": sum(x["requests"] for x in s), "rps": 0, "unexpected": sum(x["unexpected"] for x in s)}
json.dump(loads, open(f"{res}/load.json", "w"))
PY
{ echo "# Soak $stamp"; echo; echo "capacity $cap req/s, soak rate about $rate req/s, $SECS s, warm-up $WARMUP s; JVM pid $jvm"; echo; python3 "$bench/lib/soak_report.py" "$res" "$WARMUP"; } >"$res/summary.md" || true
cat "$res/summary.md"
grep -q '^soak: PASS' "$res/summary.md"

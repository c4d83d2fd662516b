#!/usr/bin/env bash
# Gatehouse benchmark: one fast upstream reached directly, through Gatehouse with every safeguard
# on, through the same build as a bare relay (gatehouse-bare) and through nginx (configured as
# security guides advise), on loopback, in the same run. See bench/README.md.
#
#   bench/run.sh [--quick] [--profile]
#
# Results: bench/results/<stamp>/results.json and summary.md (the summary is also printed).
# Everything binds 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
lib="$bench/lib"

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --quick    short smoke run of the whole harness (small numbers); figures are not meaningful
  --profile  also record the gatehouse target with JFR (settings=profile) during one extra
             throughput run, and summarise CPU samples per stage (profile-stages.json, summary.md)
  -h         this help
Environment:
  BENCH_PORT_BASE      first of the 127.0.0.1 ports used (default 28100; uses base+0,1,10-15,20,21)
  BENCH_ROUNDS, BENCH_WRK_SECONDS, BENCH_IDLE_STREAMS, BENCH_STARTS   override the mode's defaults
  BENCH_LIMITS         on (default): Gatehouse checks every rate limit at rates that never refuse,
                       like nginx's limit_req here; off: rate limits disabled, the core path alone
  BENCH_AUDIT_DURABILITY  written (default, the product default), fsync or batch: Gatehouse's audit.durability
  GATEHOUSE_JAVA_OPTS  passed to the Gatehouse JVM as usual (recorded in results.json)
EOF
}

mode=full
PROFILE=0
for arg in "$@"; do
  case "$arg" in
    --quick) mode=quick ;;
    --profile) PROFILE=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

if [ "$mode" = quick ]; then
  ROUNDS=2; WRK_S=3; C1_ROUNDS=2; C1_S=2; STREAM_REPS=4; IDLE=200; IDLE_HOLD=3; STARTS=2
  WARM_RUN_S=3; WARM_MIN_RUNS=2; WARM_MAX_RUNS=4; WARM_STABLE_PCT=10; WARM_STREAM_S=2; WARM_OTHER_S=1
  STREAM_WARM=30; STREAM_B2B_REPS=40
  LONG_CONNS=8; LONG_N=100; LONG_MS=5; LONG_ROUNDS=1; LONG_WARM=0
  LARGE_CONNS=4; LARGE_PER=1; LARGE_ROUNDS=1; LARGE_WARM=0
else
  ROUNDS=3; WRK_S=15; C1_ROUNDS=3; C1_S=5; STREAM_REPS=12; IDLE=10000; IDLE_HOLD=5; STARTS=5
  WARM_RUN_S=5; WARM_MIN_RUNS=2; WARM_MAX_RUNS=12; WARM_STABLE_PCT=5; WARM_STREAM_S=5; WARM_OTHER_S=3
  STREAM_WARM=200; STREAM_B2B_REPS=400
  LONG_CONNS=64; LONG_N=500; LONG_MS=5; LONG_ROUNDS=3; LONG_WARM=1
  LARGE_CONNS=16; LARGE_PER=4; LARGE_ROUNDS=3; LARGE_WARM=1
fi
LARGE_IMAGE=$((10 * 1024 * 1024)) # decoded image bytes; the base64 body is about 4/3 of it
STARTUP_IDLE=3                    # seconds of idle after the first answer before RSS is read
RSS_LATER_S=60                    # and RSS at idle again once the judged gatehouse is this old
[ "$mode" = quick ] && RSS_LATER_S=40
RSS_LATER_S="${BENCH_RSS_LATER_S:-$RSS_LATER_S}"
ROUNDS="${BENCH_ROUNDS:-$ROUNDS}"
STARTS="${BENCH_STARTS:-$STARTS}" # starts measured per proxy; start-up is their median
case "$STARTS" in '' | *[!0-9]* | 0) echo "BENCH_STARTS must be a positive number" >&2; exit 2 ;; esac
BENCH_LIMITS="${BENCH_LIMITS:-on}"
case "$BENCH_LIMITS" in on | off) ;; *) echo "BENCH_LIMITS must be on or off" >&2; exit 2 ;; esac
BENCH_AUDIT_DURABILITY="${BENCH_AUDIT_DURABILITY:-written}"
case "$BENCH_AUDIT_DURABILITY" in written | fsync | batch) ;; *) echo "BENCH_AUDIT_DURABILITY must be written, fsync or batch" >&2; exit 2 ;; esac
WRK_S="${BENCH_WRK_SECONDS:-$WRK_S}"
IDLE="${BENCH_IDLE_STREAMS:-$IDLE}"
STREAM_N=50; STREAM_MS=20; IDLE_INTERVAL_MS=2000

base="${BENCH_PORT_BASE:-28100}"
P_STATIC=$((base + 0)); P_STREAM=$((base + 1))
P_GW_STATIC=$((base + 10)); P_GW_STREAM=$((base + 11))
P_GW_STATIC_ADMIN=$((base + 12)); P_GW_STREAM_ADMIN=$((base + 13))
P_BARE_STATIC=$((base + 14)); P_BARE_STREAM=$((base + 15))
P_NG_STATIC=$((base + 20)); P_NG_STREAM=$((base + 21))
ALL_PORTS="$P_STATIC $P_STREAM $P_GW_STATIC $P_GW_STREAM $P_GW_STATIC_ADMIN $P_GW_STREAM_ADMIN $P_BARE_STATIC $P_BARE_STREAM $P_NG_STATIC $P_NG_STREAM"
NGINX_AUTH="Bearer sk-bench-0002"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
TAG=bench
# shellcheck source=lib/procs.sh
. "$lib/procs.sh"

# ---------------------------------------------------------------- prerequisites
for tool in nginx wrk python3 timeout; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian: apt-get install -y nginx wrk python3)"
done
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)' || die "python3 >= 3.8 needed"

for p in $ALL_PORTS; do
  port_open "$p" && die "127.0.0.1:$p is already in use (set BENCH_PORT_BASE to another range)"
done

# File descriptors: N idle streams need N in the client and the backend, and 2N (client side and
# upstream side) in the proxy, plus what the JVM holds open. Raise the soft limit to what that
# needs (the hard limit too when allowed); fail here, before anything starts, if it cannot be.
NOFILE_NEED=$((IDLE * 2 + 1000))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$NOFILE_NEED" ]; then
  if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$NOFILE_NEED" ]; then
    ulimit -Hn "$NOFILE_NEED" 2>/dev/null ||
      die "open-file limit: $IDLE idle streams need $NOFILE_NEED descriptors per proxy process; the hard limit is $(ulimit -Hn) and cannot be raised here (that needs CAP_SYS_RESOURCE: run privileged, or e.g. docker run --ulimit nofile=65536), or set BENCH_IDLE_STREAMS to at most $((($(ulimit -Hn) - 1000) / 2))"
  fi
  ulimit -n "$NOFILE_NEED" 2>/dev/null || die "open-file limit: cannot raise ulimit -n to $NOFILE_NEED"
fi
NOFILE="$(ulimit -n)"
[ "$NOFILE" = unlimited ] && NOFILE=1048576
NGINX_CONNS=$((NOFILE - 500)) # nginx: worker_connections counts both sides of a proxied stream

stamp="$(date +%Y%m%d-%H%M%S)"
[ "$mode" = quick ] && stamp="$stamp-quick"
res="$bench/results/$stamp"
mkdir -p "$res/logs" "$res/conf"
work="$(mktemp -d /tmp/gatehouse-bench.XXXXXX)"
chmod 755 "$work"
loadavg_start="$(cut -d' ' -f1-3 /proc/loadavg)"
problems=()

# ---------------------------------------------------------------- process bookkeeping / cleanup
started=() # "name:pid", in start order

step_pid=""
step() { # runs a measuring step in the background and waits, so INT/TERM reach the trap at once
  local rc=0
  "$@" &
  step_pid=$!
  wait "$step_pid" || rc=$?
  step_pid=""
  return "$rc"
}

cleanup() {
  local rc=$? i entry still=""
  set +e
  trap - EXIT INT TERM
  [ -n "$step_pid" ] && stop_pid measuring-step "$step_pid"
  # masters and servers first, newest first; nginx workers after their master (a master
  # would respawn a worker stopped before it), normally gone by then
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    entry="${started[$i]}"
    case "$entry" in *-worker:*) ;; *) stop_pid "${entry%%:*}" "${entry##*:}" ;; esac
  done
  for entry in "${started[@]}"; do
    case "$entry" in *-worker:*) stop_pid "${entry%%:*}" "${entry##*:}" ;; esac
  done
  wait 2>/dev/null
  for p in $ALL_PORTS; do
    port_open "$p" && still="$still $p"
  done
  [ -n "$still" ] && echo "[bench] WARNING: still listening on 127.0.0.1:$still" >&2
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "[bench] interrupted" >&2; exit 130' INT TERM

# ---------------------------------------------------------------- render configs
user_line=""
if [ "$(id -u)" = 0 ] && id www-data >/dev/null 2>&1; then
  user_line="user www-data;"
fi
for kind in backend proxy; do
  mkdir -p "$work/$kind-tmp"/{body,proxy,fastcgi,uwsgi,scgi}
  [ -n "$user_line" ] && chown -R www-data "$work/$kind-tmp"
  sed -e "s|@USER_LINE@|$user_line|" -e "s|@RUN@|$work|g" -e "s|@LOGS@|$res/logs|g" \
    -e "s|@P_STATIC@|$P_STATIC|g" -e "s|@P_STREAM@|$P_STREAM|g" \
    -e "s|@P_NGINX_STATIC@|$P_NG_STATIC|g" -e "s|@P_NGINX_STREAM@|$P_NG_STREAM|g" \
    -e "s|@NOFILE@|$NOFILE|g" -e "s|@WORKER_CONNS@|$NGINX_CONNS|g" \
    "$bench/conf/$kind-nginx.conf.in" >"$work/$kind-nginx.conf"
  cp "$work/$kind-nginx.conf" "$res/conf/"
  nginx -t -q -p "$work/" -e "$res/logs/$kind-nginx.error.log" -c "$work/$kind-nginx.conf" ||
    die "nginx rejected $kind-nginx.conf"
done

gh_data="$work/gh-data"
mkdir -p "$gh_data"
for inst in static stream; do
  if [ "$inst" = static ]; then lp=$P_GW_STATIC; up=$P_STATIC; ap=$P_GW_STATIC_ADMIN; else lp=$P_GW_STREAM; up=$P_STREAM; ap=$P_GW_STREAM_ADMIN; fi
  if [ "$BENCH_LIMITS" = on ]; then
    # Like nginx's limit_req here: every limit is checked on every request, at rates so high that
    # none ever refuses, so the run measures their cost and nothing else.
    rpm=100000000
    auth_failures=10
  else
    rpm=0 # rate limits and automatic bans off: the core path (probe scoring still observes)
    auth_failures=0
  fi
  cat >"$work/gatehouse-$inst.yaml" <<EOF
# Gatehouse under test, $inst upstream. One event loop, comparable to nginx worker_processes 1.
# BENCH_LIMITS=$BENCH_LIMITS BENCH_AUDIT_DURABILITY=$BENCH_AUDIT_DURABILITY
listen: 127.0.0.1:$lp
admin:
  listen: 127.0.0.1:$ap   # metrics are recorded on every request, as in production
audit:
  durability: $BENCH_AUDIT_DURABILITY
upstream: http://127.0.0.1:$up
data_dir: $gh_data
server:
  event_loops: 1
limits:
  max_upstream_connections: $((IDLE + 1000 > 4096 ? IDLE + 1000 : 4096))   # each open stream holds one
  # Large-body workload: a chat request with one 10 MiB image (about 14 MB of base64). The defaults
  # (max_body 16MiB, caps.image_bytes 8MiB) would refuse it, so both are raised for the bench.
  max_body: 32MiB
timeouts:
  keepalive: 300s
rate:
  key_rpm: $rpm
  key_burst: $rpm
  ip_rpm: $rpm
  ip_burst: $rpm
concurrency:
  global: 100000
  per_key: 100000
connections:
  max_per_ip: 100000   # every benchmark client is 127.0.0.1; the idle-stream step holds $IDLE
caps:
  image_bytes: 16MiB   # the large-body workload's 10 MiB image (decoded size)
bans:
  auth_failures: $auth_failures
EOF
  sed "s|$work|<tmp>|" "$work/gatehouse-$inst.yaml" >"$res/conf/gatehouse-$inst.yaml"
  # gatehouse-bare: the same file, its own data directory (it opens the stores but records nothing)
  sed "s|^data_dir: .*|data_dir: $work/bare-data|" "$work/gatehouse-$inst.yaml" >"$work/gatehouse-bare-$inst.yaml"
done
mkdir -p "$work/bare-data"

# Runs ./gatehouse by exec, so the pid of "gatehouse_exec ... &" is the JVM itself (the launcher
# execs java too). Only call it in a subshell: with & or inside $(...).
# Gatehouse reads GATEHOUSE_* settings from the environment: run it with the config file only.

# ---------------------------------------------------------------- start everything
log "mode $mode, results in $res"
log "building / checking Gatehouse (the launcher builds the jar on first use)"
if ! timeout 900 bash -c 'cd "$1" && ./gatehouse --version' _ "$repo" >"$res/logs/gatehouse-build.log" 2>&1; then
  tail -n 30 "$res/logs/gatehouse-build.log" >&2
  die "./gatehouse --version failed (see $res/logs/gatehouse-build.log)"
fi

key_json="$(gatehouse_exec keys create --config "$work/gatehouse-static.yaml" --name bench --json 2>"$res/logs/gatehouse-keys.log")" ||
  die "gatehouse keys create failed: $(tail -n 5 "$res/logs/gatehouse-keys.log")"
GW_AUTH="Bearer $(printf '%s' "$key_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')" ||
  die "no key in the output of gatehouse keys create"

log "starting static backend (nginx :$P_STATIC) and stream backend (python :$P_STREAM)"
nginx -p "$work/" -e "$res/logs/backend-nginx.error.log" -c "$work/backend-nginx.conf" \
  >"$res/logs/backend-nginx.out" 2>&1 &
backend_pid=$!
track backend-nginx "$backend_pid"
python3 "$lib/stream_backend.py" --port "$P_STREAM" --max-seconds 7200 >"$res/logs/stream-backend.log" 2>&1 &
stream_pid=$!
track stream-backend "$stream_pid"
wait_port backend-nginx "$backend_pid" "$P_STATIC" 20 "$res/logs/backend-nginx.error.log"
wait_port stream-backend "$stream_pid" "$P_STREAM" 20 "$res/logs/stream-backend.log"

# Start-up: each proxy is started alone, and a probe started before it sends a tiny request
# (POST /api/chat without a key) every 5 ms from the launch on, until the first answer (401 with
# keys, 200 through the bare relay); STARTUP_IDLE s later it reads the RSS at idle.
launch_measured() { # name port logfile command...: sets launched_pid; start-up in startup-NAME.json
  local name="$1" port="$2" logf="$3" go="$work/go-$1" i
  shift 3
  python3 "$lib/startup_probe.py" --port "$port" --go "$go" --idle "$STARTUP_IDLE" \
    --out "$res/startup-$name.json" >"$res/logs/startup-$name.log" 2>&1 &
  probe_pid=$!
  track "startup-probe-$name" "$probe_pid"
  for i in $(seq 1 500); do
    [ -e "$go.ready" ] && break
    sleep 0.02
  done
  [ -e "$go.ready" ] || die "start-up probe for $name did not start"
  date +%s.%N >"$go.t" && mv "$go.t" "$go"
  "$@" >"$logf" 2>&1 &
  launched_pid=$!
  echo "$launched_pid" >"$go.pid"
}
await_measured() { # name pid port logfile: the probe's verdict, then the port
  local rc=0
  wait "$probe_pid" || rc=$?
  [ "$rc" = 0 ] || problems+=("start-up probe for $1 failed (see logs/startup-$1.log)")
  wait_port "$1" "$2" "$3" 120 "$4"
}
# One start is noisy here (0.94 to 1.21 s for the same build in four runs), so each proxy is
# started STARTS times: the first STARTS-1 are measured and stopped (startup-NAME.K.json), the
# last is measured and kept for the steps after (startup-NAME.json); report.py takes the median.
launch_measured_starts() { # name port logfile command...: as launch_measured, after STARTS-1 more
  local name="$1" port="$2" logf="$3" k
  shift 3
  for k in $(seq 1 $((STARTS - 1))); do
    launch_measured "$name.$k" "$port" "$logf.$k" "$@"
    track "$name.$k" "$launched_pid"
    await_measured "$name.$k" "$launched_pid" "$port" "$logf.$k"
    stop_pid "$name.$k" "$launched_pid" 30
  done
  launch_measured "$name" "$port" "$logf" "$@"
}

log "starting nginx proxy (:$P_NG_STATIC static, :$P_NG_STREAM stream), measuring its start-up ($STARTS starts)"
launch_measured_starts nginx "$P_NG_STATIC" "$res/logs/proxy-nginx.out" \
  nginx -p "$work/" -e "$res/logs/proxy-nginx.error.log" -c "$work/proxy-nginx.conf"
ng_pid=$launched_pid
track proxy-nginx "$ng_pid"
await_measured proxy-nginx "$ng_pid" "$P_NG_STATIC" "$res/logs/proxy-nginx.error.log"
wait_port proxy-nginx "$ng_pid" "$P_NG_STREAM" 20 "$res/logs/proxy-nginx.error.log"

# Class-data sharing: the first serve after a build runs without the launcher's archive and
# writes it when it exits; later serves map it. Both are measured, each run the same way: the
# archive is removed, a first serve is measured (startup-gatehouse-first.json) and stopped, which
# writes the archive, then the serve the target is judged on is measured.
rm -f "$repo/target/gatehouse.jsa" "$repo/target/gatehouse.aot" "$repo/target/gatehouse."{jsa,aot}.jdk
log "starting Gatehouse once without its class-data archive (the first serve after a build), measuring its start-up"
launch_measured gatehouse-first "$P_GW_STATIC" "$res/logs/gatehouse-first.log" \
  gatehouse_exec serve --config "$work/gatehouse-static.yaml"
first_pid=$launched_pid
track gatehouse-first "$first_pid"
await_measured gatehouse-first "$first_pid" "$P_GW_STATIC" "$res/logs/gatehouse-first.log"
stop_pid gatehouse-first "$first_pid" 60 # it writes the archive as it exits (a few seconds)
{ [ -f "$repo/target/gatehouse.aot" ] && [ -f "$repo/target/gatehouse.aot.jdk" ]; } \
  || { [ -f "$repo/target/gatehouse.jsa" ] && [ -f "$repo/target/gatehouse.jsa.jdk" ]; } \
  || problems+=("the first serve wrote no class-data archive (see logs/gatehouse-first.log)")

log "starting Gatehouse (:$P_GW_STATIC static, with the archive), measuring its start-up ($STARTS starts)"
launch_measured_starts gatehouse "$P_GW_STATIC" "$res/logs/gatehouse-static.log" \
  gatehouse_exec serve --config "$work/gatehouse-static.yaml"
gw_static_pid=$launched_pid
track gatehouse-static "$gw_static_pid"
await_measured gatehouse-static "$gw_static_pid" "$P_GW_STATIC" "$res/logs/gatehouse-static.log"

log "starting gatehouse-bare (gatehouse bench-relay :$P_BARE_STATIC static), measuring its start-up ($STARTS starts)"
launch_measured_starts gatehouse-bare "$P_BARE_STATIC" "$res/logs/gatehouse-bare-static.log" \
  gatehouse_exec bench-relay --config "$work/gatehouse-bare-static.yaml" --listen "127.0.0.1:$P_BARE_STATIC"
bare_static_pid=$launched_pid
track gatehouse-bare-static "$bare_static_pid"
await_measured gatehouse-bare-static "$bare_static_pid" "$P_BARE_STATIC" "$res/logs/gatehouse-bare-static.log"

# RSS at idle a minute after start, beside the start-up probe's figure 3 s after the first answer:
# serve's first posture check runs 30 s after start. Nothing has been sent to these yet.
log "RSS at idle once gatehouse is ${RSS_LATER_S} s old (after serve's first posture check)"
step timeout $((RSS_LATER_S + 60)) python3 "$lib/rss_later.py" --at "$RSS_LATER_S" --out "$res/rss-later.json" \
  "gatehouse=$gw_static_pid:$(cat "$work/go-gatehouse")" \
  "gatehouse-bare=$bare_static_pid:$(cat "$work/go-gatehouse-bare")" \
  "nginx=$ng_pid:$(cat "$work/go-nginx")" \
  || problems+=("RSS at idle a minute after start was not read")

log "starting the streaming instances (gatehouse :$P_GW_STREAM, gatehouse-bare :$P_BARE_STREAM)"
gatehouse_exec serve --config "$work/gatehouse-stream.yaml" >"$res/logs/gatehouse-stream.log" 2>&1 &
gw_stream_pid=$!
track gatehouse-stream "$gw_stream_pid"
gatehouse_exec bench-relay --config "$work/gatehouse-bare-stream.yaml" --listen "127.0.0.1:$P_BARE_STREAM" \
  >"$res/logs/gatehouse-bare-stream.log" 2>&1 &
bare_stream_pid=$!
track gatehouse-bare-stream "$bare_stream_pid"
wait_port gatehouse-stream "$gw_stream_pid" "$P_GW_STREAM" 120 "$res/logs/gatehouse-stream.log"
wait_port gatehouse-bare-stream "$bare_stream_pid" "$P_BARE_STREAM" 120 "$res/logs/gatehouse-bare-stream.log"

# nginx workers (children of the masters): tracked too, in case a master has to be KILLed
ng_workers="$(child_pids "$ng_pid")"
for w in $ng_workers; do track proxy-nginx-worker "$w"; done
for w in $(child_pids "$backend_pid"); do track backend-nginx-worker "$w"; done
[ -n "$ng_workers" ] || die "no nginx proxy worker process found"
ng_pids_json="[$(echo "$ng_pid $ng_workers" | xargs | tr ' ' ',')]"
# the launcher execs java, so the started pid is the JVM
for p in "$gw_static_pid" "$gw_stream_pid" "$bare_static_pid" "$bare_stream_pid"; do
  exe="$(readlink "/proc/$p/exe" || true)"
  case "$exe" in */java) ;; *) die "gatehouse pid $p is not a JVM ($exe)" ;; esac
done
java_version="$("$(readlink "/proc/$gw_static_pid/exe")" -version 2>&1 | head -n 1)"

# ---------------------------------------------------------------- functional checks
log "functional checks"
check_targets="[
 {\"name\":\"direct\",\"static_port\":$P_STATIC,\"stream_port\":$P_STREAM,\"auth\":null},
 {\"name\":\"gatehouse-bare\",\"static_port\":$P_BARE_STATIC,\"stream_port\":$P_BARE_STREAM,\"auth\":null},
 {\"name\":\"gatehouse\",\"static_port\":$P_GW_STATIC,\"stream_port\":$P_GW_STREAM,\"auth\":\"$GW_AUTH\"},
 {\"name\":\"nginx\",\"static_port\":$P_NG_STATIC,\"stream_port\":$P_NG_STREAM,\"auth\":\"$NGINX_AUTH\"}]"
checks_ok=1
step timeout 120 python3 "$lib/check.py" --targets "$check_targets" --out "$res/checks.json" || checks_ok=0

python3 - "$res/rss-start.json" "$gw_stream_pid" "$gw_static_pid" "$bare_stream_pid" "$bare_static_pid" $ng_pid $ng_workers <<'EOF'
import json, sys
def rss(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
out, gws, gwt, bs, bt, ng = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
json.dump({"gatehouse": {"pids": [int(gws)], "rss_kib": rss(gws)},
           "gatehouse-static": {"pids": [int(gwt)], "rss_kib": rss(gwt)},
           "gatehouse-bare": {"pids": [int(bs)], "rss_kib": rss(bs)},
           "gatehouse-bare-static": {"pids": [int(bt)], "rss_kib": rss(bt)},
           "nginx": {"pids": [int(p) for p in ng], "rss_kib": sum(rss(p) or 0 for p in ng)}},
          open(out, "w"), indent=1)
EOF

write_meta() {
  STAMP="$stamp" MODE="$mode" LOADAVG="$loadavg_start" JAVA_VERSION="$java_version" \
  NGINX_VERSION="$(nginx -v 2>&1 | head -n 1)" WRK_VERSION="$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)" \
  GW_COMMIT="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD -- src pom.xml 2>/dev/null || echo -dirty)" \
  PROBLEMS="$(printf '%s\n' "${problems[@]+"${problems[@]}"}")" \
  PARAMS="limits=$BENCH_LIMITS audit_durability=$BENCH_AUDIT_DURABILITY rounds=$ROUNDS wrk_s=$WRK_S warmup_run_s=$WARM_RUN_S warmup_min_runs=$WARM_MIN_RUNS warmup_max_runs=$WARM_MAX_RUNS warmup_stable_pct=$WARM_STABLE_PCT warmup_stream_s=$WARM_STREAM_S c1_rounds=$C1_ROUNDS c1_s=$C1_S stream_reps=$STREAM_REPS stream_n=$STREAM_N stream_ms=$STREAM_MS stream_warmup=$STREAM_WARM stream_b2b_reps=$STREAM_B2B_REPS idle_streams=$IDLE idle_interval_ms=$IDLE_INTERVAL_MS nofile=$NOFILE long_conns=$LONG_CONNS long_n=$LONG_N long_ms=$LONG_MS long_rounds=$LONG_ROUNDS long_warmup_rounds=$LONG_WARM large_conns=$LARGE_CONNS large_per_conn=$LARGE_PER large_rounds=$LARGE_ROUNDS large_warmup_rounds=$LARGE_WARM large_image_bytes=$LARGE_IMAGE startup_idle_s=$STARTUP_IDLE rss_later_s=$RSS_LATER_S starts=$STARTS profile=$PROFILE" \
  PORTS="direct_static=$P_STATIC direct_stream=$P_STREAM gatehouse_static=$P_GW_STATIC gatehouse_stream=$P_GW_STREAM gatehouse_static_admin=$P_GW_STATIC_ADMIN gatehouse_stream_admin=$P_GW_STREAM_ADMIN gatehouse_bare_static=$P_BARE_STATIC gatehouse_bare_stream=$P_BARE_STREAM nginx_static=$P_NG_STATIC nginx_stream=$P_NG_STREAM" \
  python3 - "$res/meta.json" <<'EOF'
import json, os, platform, sys
e = os.environ
kv = lambda s: {k: (int(v) if v.isdigit() else v) for k, v in (x.split("=", 1) for x in s.split())}
json.dump({
    "stamp": e["STAMP"], "mode": e["MODE"], "cpus": os.cpu_count(), "kernel": platform.release(),
    "loadavg_start": e["LOADAVG"], "loadavg_end": open("/proc/loadavg").read().split()[:3],
    "gatehouse_commit": e["GW_COMMIT"], "gatehouse_java_opts": e.get("GATEHOUSE_JAVA_OPTS", ""),
    "java_version": e["JAVA_VERSION"], "nginx_version": e["NGINX_VERSION"], "wrk_version": e["WRK_VERSION"],
    "python_version": platform.python_version(), "params": kv(e["PARAMS"]), "ports": kv(e["PORTS"]),
    "processes": {"gatehouse": "JVM, 1 event loop", "gatehouse-bare": "JVM, 1 event loop, bench-relay",
                  "nginx": "master + 1 worker"},
    "problems": [p for p in e["PROBLEMS"].split("\n") if p],
}, open(sys.argv[1], "w"), indent=1)
EOF
}

finish() { # write meta + report; exit code 1 if a check failed
  local n
  for inst in static stream bare-static bare-stream; do
    [ -f "$res/logs/gatehouse-$inst.log" ] || continue
    n="$(grep -cE 'Exception|SEVERE|OutOfMemory' "$res/logs/gatehouse-$inst.log" || true)"
    [ "${n:-0}" -gt 0 ] && problems+=("gatehouse-$inst log has $n lines with Exception/SEVERE (see logs/gatehouse-$inst.log)")
  done
  write_meta
  python3 "$lib/report.py" "$res" >/dev/null
  echo
  cat "$res/summary.md"
  echo
  log "results: $res/results.json, $res/summary.md"
}

if [ "$checks_ok" != 1 ]; then
  problems+=("functional checks failed: measurements skipped")
  finish
  die "functional checks failed (see $res/checks.json and $res/logs/)"
fi

# ---------------------------------------------------------------- throughput, 64 connections
direct_t="{\"name\":\"direct\",\"port\":$P_STATIC,\"auth\":null,\"pids\":[]}"
gw_t="{\"name\":\"gatehouse\",\"port\":$P_GW_STATIC,\"auth\":\"$GW_AUTH\",\"pids\":[$gw_static_pid]}"
bare_t="{\"name\":\"gatehouse-bare\",\"port\":$P_BARE_STATIC,\"auth\":null,\"pids\":[$bare_static_pid]}"
ng_t="{\"name\":\"nginx\",\"port\":$P_NG_STATIC,\"auth\":\"$NGINX_AUTH\",\"pids\":$ng_pids_json}"

# The JVM needs warm-up (JIT): wrk runs of WARM_RUN_S against gatehouse, at least WARM_MIN_RUNS, then
# on until two runs in a row are within WARM_STABLE_PCT % in req/s (at most WARM_MAX_RUNS runs).
log "warm-up: gatehouse (wrk -t2 -c64, ${WARM_RUN_S}s runs until stable within ${WARM_STABLE_PCT}%, at most $WARM_MAX_RUNS runs)"
step timeout $((WARM_MAX_RUNS * (WARM_RUN_S + 60))) python3 "$lib/run_wrk.py" --targets "[$gw_t]" \
  --rounds "$WARM_MIN_RUNS" --until-stable "$WARM_STABLE_PCT" --max-rounds "$WARM_MAX_RUNS" \
  --duration "$WARM_RUN_S" --label warmup --out "$res/wrk-warmup-gatehouse.json" || problems+=("warm-up run failed")
warmed_up() { # FILE: whether run_wrk.py's --until-stable runs in FILE settled
  python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("stable") else 1)' \
    "$1" 2>/dev/null
}
warmed_up "$res/wrk-warmup-gatehouse.json" ||
  problems+=("gatehouse throughput was not yet stable after its warm-up (see wrk-warmup-gatehouse.json)")
# and its streaming instance: short streams (3 lines, no pause) through both stream formats. The body
# asks for a stream ("stream": true) as the probe's do: an OpenAI request without it is a plain one,
# and gatehouse would warm its non-streaming path on /v1 (the backend streams either way).
# The streaming instances are processes of their own, which the small requests above never warm: each
# format runs until two runs in a row are within WARM_STABLE_PCT % (as above), then NDJSON once more,
# so that the JIT's last profile holds both formats. One 5-second run per format was not enough: in
# run 20261208-001054 gatehouse's streaming instance still spent 1,404 (NDJSON) and 657 us (SSE) of
# CPU a stream in it, against 130-140 once compiled (run 20261208-030507), and by hand a
# gatehouse-bare that had served 200 streams added 1.9 ms to the probe's time to first chunk where
# one that had served 150,000 added 0.7-1.0 ms.
WARM_STREAM_BODY='{"model":"llama3.2:3b","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":true,"bench":{"n":3,"ms":0}}'
warm_streams() { # NAME TARGET_JSON: a streaming instance's JIT warm-up, until stable per format
  local name=$1 target=$2 wpath n=0
  for wpath in /api/chat /v1/chat/completions /api/chat; do
    n=$((n + 1))
    local rounds=(--rounds "$WARM_MIN_RUNS" --until-stable "$WARM_STABLE_PCT" --max-rounds "$WARM_MAX_RUNS")
    [ "$n" = 3 ] && rounds=(--rounds 1)
    step timeout $((WARM_MAX_RUNS * (WARM_STREAM_S + 60))) python3 "$lib/run_wrk.py" --targets "[$target]" \
      "${rounds[@]}" --duration "$WARM_STREAM_S" --conns 8 --threads 1 --path "$wpath" --label warmup-stream \
      --body "$WARM_STREAM_BODY" --out "$res/wrk-warmup-$name-$n.json" || problems+=("streaming warm-up run failed")
    [ "$n" = 3 ] || warmed_up "$res/wrk-warmup-$name-$n.json" ||
      problems+=("$name was not yet stable after its streaming warm-up (see wrk-warmup-$name-$n.json)")
  done
}
log "warm-up: gatehouse streaming instance (wrk -t1 -c8, ${WARM_STREAM_S}s runs per format until stable within ${WARM_STABLE_PCT}%, 3-line streams)"
gw_stream_t="{\"name\":\"gatehouse-stream\",\"port\":$P_GW_STREAM,\"auth\":\"$GW_AUTH\",\"pids\":[$gw_stream_pid]}"
warm_streams gatehouse-stream "$gw_stream_t"
log "warm-up: gatehouse-bare (the same JIT warm-up, until stable)"
step timeout $((WARM_MAX_RUNS * (WARM_RUN_S + 60))) python3 "$lib/run_wrk.py" --targets "[$bare_t]" \
  --rounds "$WARM_MIN_RUNS" --until-stable "$WARM_STABLE_PCT" --max-rounds "$WARM_MAX_RUNS" \
  --duration "$WARM_RUN_S" --label warmup --out "$res/wrk-warmup-gatehouse-bare.json" || problems+=("warm-up run failed")
bare_stream_t="{\"name\":\"gatehouse-bare-stream\",\"port\":$P_BARE_STREAM,\"auth\":null,\"pids\":[$bare_stream_pid]}"
log "warm-up: gatehouse-bare streaming instance (the same, until stable)"
warm_streams gatehouse-bare-stream "$bare_stream_t"
log "warm-up: direct and nginx ${WARM_OTHER_S}s each"
step timeout $((2 * WARM_OTHER_S + 150)) python3 "$lib/run_wrk.py" --targets "[$direct_t,$ng_t]" --rounds 1 \
  --duration "$WARM_OTHER_S" --label warmup --out "$res/wrk-warmup-others.json" || problems+=("warm-up run failed")

log "throughput: wrk -t2 -c64 -d${WRK_S}s, $ROUNDS rounds of direct, gatehouse-bare, gatehouse, nginx"
step timeout $((ROUNDS * 4 * (WRK_S + 60))) python3 "$lib/run_wrk.py" --targets "[$direct_t,$bare_t,$gw_t,$ng_t]" \
  --rounds "$ROUNDS" --duration "$WRK_S" --conns 64 --threads 2 --label c64 --out "$res/wrk-c64.json" ||
  problems+=("some throughput runs failed")

if [ "$PROFILE" = 1 ]; then
  # One extra throughput run of the gatehouse target with JFR on (the measured rounds above ran
  # without it): execution samples, then summed per stage by lib/jfr_stages.py.
  jdk_bin="$(dirname "$(readlink "/proc/$gw_static_pid/exe")")"
  log "profile: JFR (settings=profile) on gatehouse during one wrk -t2 -c64 -d${WRK_S}s run"
  if "$jdk_bin/jcmd" "$gw_static_pid" JFR.start name=bench settings=profile >"$res/logs/jfr.log" 2>&1; then
    step timeout $((WRK_S + 60)) python3 "$lib/run_wrk.py" --targets "[$gw_t]" --rounds 1 --duration "$WRK_S" \
      --conns 64 --threads 2 --label profile --out "$res/wrk-profile.json" || problems+=("profiled run failed")
    "$jdk_bin/jcmd" "$gw_static_pid" JFR.stop name=bench filename="$res/profile-gatehouse.jfr" >>"$res/logs/jfr.log" 2>&1 ||
      problems+=("JFR.stop failed (see logs/jfr.log)")
    step timeout 300 python3 "$lib/jfr_stages.py" --jfr "$res/profile-gatehouse.jfr" --jfr-tool "$jdk_bin/jfr" \
      --out "$res/profile-stages.json" || problems+=("profile summary failed")
  else
    problems+=("JFR.start failed (see logs/jfr.log): no profile")
  fi
fi

log "unloaded latency: wrk -t1 -c1 -d${C1_S}s, $C1_ROUNDS rounds"
step timeout $((C1_ROUNDS * 4 * (C1_S + 60))) python3 "$lib/run_wrk.py" --targets "[$direct_t,$bare_t,$gw_t,$ng_t]" \
  --rounds "$C1_ROUNDS" --duration "$C1_S" --conns 1 --threads 1 --label c1 --out "$res/wrk-c1.json" ||
  problems+=("some 1-connection runs failed")

# ---------------------------------------------------------------- streaming latency
log "streaming: $STREAM_REPS x (NDJSON, SSE) x 4 targets, $STREAM_N chunks ${STREAM_MS} ms apart"
stream_targets="[{\"name\":\"direct\",\"port\":$P_STREAM,\"auth\":null},
 {\"name\":\"gatehouse-bare\",\"port\":$P_BARE_STREAM,\"auth\":null},
 {\"name\":\"gatehouse\",\"port\":$P_GW_STREAM,\"auth\":\"$GW_AUTH\"},
 {\"name\":\"nginx\",\"port\":$P_NG_STREAM,\"auth\":\"$NGINX_AUTH\"}]"
step timeout 900 python3 "$lib/stream_probe.py" --targets "$stream_targets" --reps "$STREAM_REPS" \
  --warmup "$STREAM_WARM" --n "$STREAM_N" --ms "$STREAM_MS" --max-seconds 800 \
  --out "$res/stream.json" --raw "$res/stream-raw.json" || problems+=("streaming probe failed")
# The same streams' warm path, for comparison (not a target): 3 lines, no pause, one stream after
# another, so that no target sits idle between a request and the next. The probe above waits 20 ms
# between chunks and between streams; the difference between the two is what an idle gap costs.
log "streaming back to back: $STREAM_B2B_REPS x (NDJSON, SSE) x 4 targets, 3 chunks, no pause"
step timeout 300 python3 "$lib/stream_probe.py" --targets "$stream_targets" --reps "$STREAM_B2B_REPS" \
  --warmup 0 --n 3 --ms 0 --max-seconds 240 --out "$res/stream-b2b.json" ||
  problems+=("back-to-back streaming probe failed")

# ---------------------------------------------------------------- long streams
log "long streams: $LONG_CONNS concurrent streams of $LONG_N chunks ${LONG_MS} ms apart, $LONG_WARM warm-up and $LONG_ROUNDS measured rounds x 4 targets"
long_targets="[{\"name\":\"direct\",\"port\":$P_STREAM,\"auth\":null,\"pids\":[]},
 {\"name\":\"gatehouse-bare\",\"port\":$P_BARE_STREAM,\"auth\":null,\"pids\":[$bare_stream_pid]},
 {\"name\":\"gatehouse\",\"port\":$P_GW_STREAM,\"auth\":\"$GW_AUTH\",\"pids\":[$gw_stream_pid]},
 {\"name\":\"nginx\",\"port\":$P_NG_STREAM,\"auth\":\"$NGINX_AUTH\",\"pids\":$ng_pids_json}]"
step timeout 1800 python3 "$lib/long_streams.py" --targets "$long_targets" --conns "$LONG_CONNS" --n "$LONG_N" \
  --ms "$LONG_MS" --rounds "$LONG_ROUNDS" --warmup-rounds "$LONG_WARM" --max-seconds 1500 --out "$res/long-streams.json" ||
  problems+=("long-stream test failed")

# ---------------------------------------------------------------- large bodies
log "large bodies: $LARGE_CONNS at once x $LARGE_PER chat requests with a $((LARGE_IMAGE >> 20)) MiB base64 image, $LARGE_WARM warm-up and $LARGE_ROUNDS measured rounds x 4 targets"
large_targets="[$direct_t,$bare_t,$gw_t,$ng_t]"
step timeout 1800 python3 "$lib/large_bodies.py" --targets "$large_targets" --conns "$LARGE_CONNS" \
  --per-conn "$LARGE_PER" --image-bytes "$LARGE_IMAGE" --rounds "$LARGE_ROUNDS" --warmup-rounds "$LARGE_WARM" --max-seconds 600 \
  --out "$res/large-bodies.json" || problems+=("large-body test failed")

# ---------------------------------------------------------------- memory with idle streams
log "memory: $IDLE open streams (one line every ${IDLE_INTERVAL_MS} ms) through gatehouse-bare, gatehouse, then nginx"
idle_targets="[{\"name\":\"gatehouse-bare\",\"port\":$P_BARE_STREAM,\"auth\":null,\"pids\":[$bare_stream_pid]},
 {\"name\":\"gatehouse\",\"port\":$P_GW_STREAM,\"auth\":\"$GW_AUTH\",\"pids\":[$gw_stream_pid]},
 {\"name\":\"nginx\",\"port\":$P_NG_STREAM,\"auth\":\"$NGINX_AUTH\",\"pids\":$ng_pids_json}]"
step timeout 900 python3 "$lib/idle_streams.py" --targets "$idle_targets" --conns "$IDLE" \
  --interval-ms "$IDLE_INTERVAL_MS" --hold "$IDLE_HOLD" --open-timeout 90 --max-seconds 800 \
  --out "$res/idle.json" || problems+=("idle-stream memory test failed")

for p in "$gw_static_pid" "$gw_stream_pid" "$bare_static_pid" "$bare_stream_pid" "$ng_pid" "$backend_pid" "$stream_pid"; do
  kill -0 "$p" 2>/dev/null || problems+=("process $p died during the run")
done

finish

#!/usr/bin/env bash
# Gatehouse scale-out benchmark: PostgreSQL and Redis on loopback, one fast upstream (bench/'s
# nginx static backend), and wrk against: the upstream directly; one gateway on SQLite; one gateway
# on PostgreSQL + Redis; two gateways on PostgreSQL + Redis with the load split across both; and,
# for the Redis round trip alone, one gateway on SQLite with limits.kind redis. See bench/README.md.
#
#   bench/cluster.sh [--quick] [--sqlite-only]
#
# Results: bench/results/<stamp>-cluster/results.json and summary.md (the summary is also printed).
# Everything binds 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
lib="$bench/lib"

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --quick        short smoke run (small numbers); figures are not meaningful
  --sqlite-only  the upstream and the SQLite gateway alone (no PostgreSQL or Redis needed)
  -h             this help
Environment:
  BENCH_PORT_BASE      first of the 127.0.0.1 ports used (default 28300; uses base+0, 10-19, 30, 31)
  BENCH_ROUNDS, BENCH_WRK_SECONDS   override the mode's defaults
  BENCH_CONNS          connections per load generator (default 64; the two-gateway leg runs one
                       generator per gateway, so it offers twice the connections in total)
  GATEHOUSE_JAVA_OPTS  passed to every Gatehouse JVM as usual
EOF
}

mode=full
SQLITE_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --quick) mode=quick ;;
    --sqlite-only) SQLITE_ONLY=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "cluster.sh: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$mode" = quick ]; then
  ROUNDS=1; WRK_S=3; WARM_S=3; C1_S=2
else
  ROUNDS=3; WRK_S=15; WARM_S=20; C1_S=10
fi
ROUNDS="${BENCH_ROUNDS:-$ROUNDS}"
WRK_S="${BENCH_WRK_SECONDS:-$WRK_S}"
CONNS="${BENCH_CONNS:-64}"

base="${BENCH_PORT_BASE:-28300}"
P_STATIC=$((base + 0))
P_SQLITE=$((base + 10)); P_PG1=$((base + 11)); P_PG2A=$((base + 12)); P_PG2B=$((base + 13)); P_REDIS_LIM=$((base + 14))
P_PG=$((base + 30)); P_REDIS=$((base + 31))
ALL_PORTS="$P_STATIC $P_SQLITE $P_PG1 $P_PG2A $P_PG2B $P_REDIS_LIM $P_PG $P_REDIS"
PG_USER=gatehouse
PG_PASSWORD="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }
TAG=cluster
# shellcheck source=lib/procs.sh
. "$lib/procs.sh"

# ---------------------------------------------------------------- prerequisites
for tool in nginx wrk python3 timeout; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian: apt-get install -y nginx wrk python3)"
done
PG_BIN=""
if [ "$SQLITE_ONLY" = 0 ]; then
  command -v redis-server >/dev/null 2>&1 || die "redis-server not found (Debian: apt-get install -y redis-server)"
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || die "PostgreSQL not found (Debian: apt-get install -y postgresql)"
fi
for p in $ALL_PORTS; do
  port_open "$p" && die "127.0.0.1:$p is already in use (set BENCH_PORT_BASE to another range)"
done

stamp="$(date +%Y%m%d-%H%M%S)-cluster"
[ "$mode" = quick ] && stamp="$stamp-quick"
res="$bench/results/$stamp"
mkdir -p "$res/logs" "$res/conf"
work="$(mktemp -d /tmp/gatehouse-cluster.XXXXXX)"
chmod 755 "$work"
problems=()

# ---------------------------------------------------------------- process bookkeeping / cleanup
started=() # "name:pid", in start order
as_pg() { # runs a PostgreSQL tool as the postgres user under root, as the tests do
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_started=0
cleanup() {
  local rc=$? i entry still=""
  set +e
  trap - EXIT INT TERM
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    entry="${started[$i]}"
    stop_pid "${entry%%:*}" "${entry##*:}"
  done
  [ "$pg_started" = 1 ] && as_pg "$PG_BIN/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null 2>&1
  wait 2>/dev/null
  for p in $ALL_PORTS; do
    port_open "$p" && still="$still $p"
  done
  [ -n "$still" ] && echo "[cluster] WARNING: still listening on 127.0.0.1:$still" >&2
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "[cluster] interrupted" >&2; exit 130' INT TERM

# ---------------------------------------------------------------- PostgreSQL and Redis
if [ "$SQLITE_ONLY" = 0 ]; then
  log "starting PostgreSQL ($PG_BIN, :$P_PG) and Redis (:$P_REDIS)"
  mkdir -p "$work/pg"
  printf '%s\n' "$PG_PASSWORD" >"$work/pg/pwfile"
  printf '%s\n' "$PG_PASSWORD" >"$work/pg-password" # what the gateways read (store.password_file)
  chmod 600 "$work/pg-password"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$work/pg"
  as_pg "$PG_BIN/initdb" -D "$work/pg/data" -U "$PG_USER" --pwfile="$work/pg/pwfile" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --no-sync >"$res/logs/initdb.log" 2>&1 ||
    die "initdb failed (see $res/logs/initdb.log)"
  # Durable as in production (fsync on): the figures include PostgreSQL's commit cost.
  as_pg "$PG_BIN/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -t 60 \
    -o "-p $P_PG -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start \
    >"$res/logs/pg_ctl.log" 2>&1 || die "PostgreSQL did not start (see $res/logs/pg_ctl.log)"
  pg_started=1
  as_pg "$PG_BIN/psql" -h "$work/pg" -p "$P_PG" -U "$PG_USER" -d postgres -q \
    -c "CREATE DATABASE gatehouse OWNER $PG_USER" >"$res/logs/psql.log" 2>&1 ||
    die "CREATE DATABASE failed (see $res/logs/psql.log)"
  redis-server --port "$P_REDIS" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    >"$res/logs/redis.log" 2>&1 &
  track redis "$!"
  wait_port redis "$!" "$P_REDIS" 20 "$res/logs/redis.log"
fi

# ---------------------------------------------------------------- the upstream
user_line=""
if [ "$(id -u)" = 0 ] && id www-data >/dev/null 2>&1; then
  user_line="user www-data;"
fi
mkdir -p "$work/backend-tmp"/{body,proxy,fastcgi,uwsgi,scgi}
[ -n "$user_line" ] && chown -R www-data "$work/backend-tmp"
sed -e "s|@USER_LINE@|$user_line|" -e "s|@RUN@|$work|g" -e "s|@LOGS@|$res/logs|g" \
  -e "s|@P_STATIC@|$P_STATIC|g" -e "s|@NOFILE@|4096|g" -e "s|@WORKER_CONNS@|2048|g" \
  "$bench/conf/backend-nginx.conf.in" >"$work/backend-nginx.conf"
log "starting the upstream (nginx static backend :$P_STATIC)"
nginx -p "$work/" -e "$res/logs/backend-nginx.error.log" -c "$work/backend-nginx.conf" \
  >"$res/logs/backend-nginx.out" 2>&1 &
track backend-nginx "$!"
wait_port backend-nginx "$!" "$P_STATIC" 20 "$res/logs/backend-nginx.error.log"

# ---------------------------------------------------------------- gateway configs
# gw_config NAME PORT STORE LIMITS: one gateway's file. Each has its own data directory (and, on
# PostgreSQL, its own instance id, which names its audit chain); on PostgreSQL they share keys,
# bans, usage and audit, on Redis their limits. Settings left at their default (store.kind sqlite,
# limits.kind local) are not written, so the SQLite leg runs on a build without the scale-out keys.
gw_config() {
  local name="$1" port="$2" store="$3" limits="$4" f="$work/$1.yaml"
  mkdir -p "$work/data-$name"
  cat >"$f" <<EOF
# Gatehouse $name: store $store, limits $limits. One event loop, as in bench/run.sh.
listen: 127.0.0.1:$port
admin:
  listen: ""
upstream: http://127.0.0.1:$P_STATIC
data_dir: $work/data-$name
server:
  event_loops: 1
EOF
  if [ "$store" = postgres ]; then
    cat >>"$f" <<EOF
instance:
  id: $name
store:
  kind: postgres
  url: jdbc:postgresql://127.0.0.1:$P_PG/gatehouse
  user: $PG_USER
  password_file: $work/pg-password
  pool_size: 8
EOF
  fi
  if [ "$limits" = redis ]; then
    cat >>"$f" <<EOF
limits:
  kind: redis
redis:
  url: redis://127.0.0.1:$P_REDIS
EOF
  fi
  # Every limit checked on every request at rates that never refuse (bench/run.sh's BENCH_LIMITS=on)
  cat >>"$f" <<EOF
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
timeouts:
  keepalive: 300s
shutdown:
  grace: 2s
EOF
  sed "s|$work|<tmp>|g" "$f" >"$res/conf/$name.yaml"
}

log "building / checking Gatehouse"
timeout 900 bash -c 'cd "$1" && ./gatehouse --version' _ "$repo" >"$res/logs/gatehouse-build.log" 2>&1 ||
  die "./gatehouse --version failed (see $res/logs/gatehouse-build.log)"

new_key() { # config -> "Bearer gk_..."
  local json
  json="$( (gatehouse_exec keys create --config "$1" --name bench --json) 2>>"$res/logs/gatehouse-keys.log")" ||
    die "gatehouse keys create --config $1 failed (see $res/logs/gatehouse-keys.log)"
  printf 'Bearer %s' "$(printf '%s' "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
}

start_gw() { # name port: starts serve, sets gw_pid
  (gatehouse_exec serve --config "$work/$1.yaml") >"$res/logs/$1.log" 2>&1 &
  gw_pid=$!
  track "$1" "$gw_pid"
  wait_port "$1" "$gw_pid" "$2" 120 "$res/logs/$1.log"
}
stop_gw() { # name pid
  stop_pid "$1" "$2"
}

target() { # name port auth pid -> one JSON target
  local auth=null
  [ -n "$3" ] && auth="\"$3\""
  printf '{"name":"%s","port":%s,"auth":%s,"pids":[%s]}' "$1" "$2" "$auth" "$4"
}
load() { # label targets-json conns seconds rounds
  python3 "$lib/cluster_load.py" --label "$1" --targets "$2" --conns "$3" --duration "$4" \
    --rounds "$5" --out "$res/$1.json" || problems+=("$1: a load run failed (see $res/$1.json)")
}
warm() { # targets-json: JIT warm-up, not recorded
  python3 "$lib/cluster_load.py" --label warm --targets "$1" --conns "$CONNS" --duration "$WARM_S" \
    --rounds 1 --out "$work/warm.json" >/dev/null || true
}

# ---------------------------------------------------------------- legs
direct="[$(target direct "$P_STATIC" "" "")]"
log "leg: direct (the upstream alone)"
load direct-c64 "$direct" "$CONNS" "$WRK_S" "$ROUNDS"
load direct-c1 "$direct" 1 "$C1_S" "$ROUNDS"

log "leg: one gateway on SQLite, limits local"
gw_config sqlite "$P_SQLITE" sqlite local
auth="$(new_key "$work/sqlite.yaml")"
start_gw sqlite "$P_SQLITE"
t="[$(target sqlite "$P_SQLITE" "$auth" "$gw_pid")]"
warm "$t"
load sqlite-c64 "$t" "$CONNS" "$WRK_S" "$ROUNDS"
load sqlite-c1 "$t" 1 "$C1_S" "$ROUNDS"
stop_gw sqlite "$gw_pid"

if [ "$SQLITE_ONLY" = 0 ]; then
  log "leg: one gateway on SQLite, limits redis (the Redis round trip alone)"
  gw_config redislimits "$P_REDIS_LIM" sqlite redis
  auth="$(new_key "$work/redislimits.yaml")"
  start_gw redislimits "$P_REDIS_LIM"
  t="[$(target redislimits "$P_REDIS_LIM" "$auth" "$gw_pid")]"
  warm "$t"
  load redislimits-c1 "$t" 1 "$C1_S" "$ROUNDS"
  stop_gw redislimits "$gw_pid"

  log "leg: one gateway on PostgreSQL + Redis"
  gw_config pg1 "$P_PG1" postgres redis
  auth="$(new_key "$work/pg1.yaml")" # one key in PostgreSQL, seen by every gateway
  start_gw pg1 "$P_PG1"
  t="[$(target pg1 "$P_PG1" "$auth" "$gw_pid")]"
  warm "$t"
  load pg1-c64 "$t" "$CONNS" "$WRK_S" "$ROUNDS"
  load pg1-c1 "$t" 1 "$C1_S" "$ROUNDS"
  stop_gw pg1 "$gw_pid"

  log "leg: two gateways on PostgreSQL + Redis, one load generator each"
  gw_config pg2a "$P_PG2A" postgres redis
  gw_config pg2b "$P_PG2B" postgres redis
  # one server secret for every gateway on the shared store (docs/scale-out.md): the key was made
  # with pg1's
  cp -p "$work/data-pg1/server.secret" "$work/data-pg2a/server.secret"
  cp -p "$work/data-pg1/server.secret" "$work/data-pg2b/server.secret"
  start_gw pg2a "$P_PG2A"
  pa=$gw_pid
  start_gw pg2b "$P_PG2B"
  pb=$gw_pid
  t="[$(target pg2a "$P_PG2A" "$auth" "$pa"),$(target pg2b "$P_PG2B" "$auth" "$pb")]"
  warm "$t"
  load pg2-c64 "$t" "$CONNS" "$WRK_S" "$ROUNDS"
  load pg2-c1 "$t" 1 "$C1_S" "$ROUNDS"
  stop_gw pg2b "$pb"
  stop_gw pg2a "$pa"
fi

# ---------------------------------------------------------------- report
for f in "$res"/logs/*.log; do
  n="$(grep -cE 'Exception|SEVERE|OutOfMemory' "$f" || true)"
  [ "${n:-0}" -gt 0 ] && problems+=("$(basename "$f") has $n lines with Exception/SEVERE")
done
PROBLEMS="$(printf '%s\n' "${problems[@]+"${problems[@]}"}")" MODE="$mode" \
  COMMIT="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD -- src pom.xml 2>/dev/null || echo -dirty)" \
  python3 - "$res" <<'EOF'
import json, os, sys
res = sys.argv[1]
def med(label):
    try:
        return json.load(open(f"{res}/{label}.json"))["median"]
    except (OSError, KeyError, ValueError):
        return None
d64, d1 = med("direct-c64"), med("direct-c1")
rows, out = [], {"mode": os.environ["MODE"], "commit": os.environ["COMMIT"], "cpus": os.cpu_count(),
                 "problems": [p for p in os.environ["PROBLEMS"].split("\n") if p], "legs": {}}
for name, what in [("sqlite", "1 gateway, SQLite, limits local"), ("pg1", "1 gateway, PostgreSQL + Redis"),
                   ("pg2", "2 gateways, PostgreSQL + Redis")]:
    m64, m1 = med(f"{name}-c64"), med(f"{name}-c1")
    if m64 is None:
        continue
    added = (m1 or m64)["p50_us"] - ((d1 if m1 else d64) or {"p50_us": 0})["p50_us"]
    leg = {"what": what, "rps": m64["rps"], "p50_us": (m1 or m64)["p50_us"], "added_p50_us": added,
           "added_p50_at": "1 connection" if m1 else "64 connections per gateway",
           "cpu_us_per_req": m64["cpu_us_per_req"]}
    out["legs"][name] = leg
    rows.append(f"| {what} | {m64['rps']:.0f} | +{added / 1000:.3f} ms ({leg['added_p50_at']}) | "
                + (f"{m64['cpu_us_per_req']:.1f} us" if m64["cpu_us_per_req"] else "-") + " |")
r1, s1 = med("redislimits-c1"), med("sqlite-c1")
lines = ["# Gatehouse cluster benchmark", "",
         f"mode {out['mode']}, commit {out['commit']}, {out['cpus']} CPUs; direct: {d64['rps']:.0f} req/s, "
         f"p50 {d1['p50_us'] / 1000:.3f} ms at 1 connection" if d64 and d1 else "direct: no figures", "",
         "| target | req/s (64 conns per gateway) | added p50 over direct | CPU per request (gateways) |",
         "|---|---:|---:|---:|"] + rows
if r1 and s1:
    out["redis_round_trip_added_p50_us"] = r1["p50_us"] - s1["p50_us"]
    ok = out["redis_round_trip_added_p50_us"] <= 300
    lines += ["", f"Redis round trip (limits.kind redis vs local, SQLite store, 1 connection): "
                  f"+{out['redis_round_trip_added_p50_us'] / 1000:.3f} ms p50 (goal <= +0.3 ms: {'met' if ok else 'not met'})"]
if out["problems"]:
    lines += ["", "Problems:"] + [f"- {p}" for p in out["problems"]]
json.dump(out, open(f"{res}/results.json", "w"), indent=1)
open(f"{res}/summary.md", "w").write("\n".join(lines) + "\n")
EOF
echo
cat "$res/summary.md"
echo
log "results: $res/results.json, $res/summary.md"
[ "${#problems[@]}" = 0 ] || exit 1

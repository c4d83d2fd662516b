# Process helpers shared by bench/run.sh and bench/cluster.sh. Sourced after the script defines
# die() (which prints its own prefix), TAG (the prefix of these helpers' messages), repo, and the
# array started=() that its cleanup stops in reverse order.

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
track() { started+=("$1:$2"); }

child_pids() { # pid -> child pids (via /proc), space-separated
  local parent="$1" s line f out=""
  for s in /proc/[0-9]*/stat; do
    { read -r line <"$s"; } 2>/dev/null || continue
    read -ra f <<<"${line##*) }" # after the command name: state, ppid, ...
    if [ "${f[1]:-}" = "$parent" ]; then
      s="${s#/proc/}"; out="$out ${s%/stat}"
    fi
  done
  echo "$out"
}

stop_pid() { # name pid [seconds]: TERM, wait up to 10 s (or seconds), then KILL; then the same for its children left
  local name="$1" pid="$2" secs="${3:-10}" i kids k
  kill -0 "$pid" 2>/dev/null || return 0
  kids="$(child_pids "$pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((secs * 5))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "[$TAG] $name ($pid) did not stop on TERM: KILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  for k in $kids; do
    [ "$k" = "$$" ] || stop_pid "$name-child" "$k"
  done
}

wait_port() { # name pid port seconds logfile
  local name="$1" pid="$2" port="$3" secs="$4" logf="$5" i
  for i in $(seq 1 $((secs * 5))); do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "----- last lines of $logf" >&2; tail -n 30 "$logf" >&2 || true
      die "$name exited before listening on 127.0.0.1:$port"
    fi
    port_open "$port" && return 0
    sleep 0.2
  done
  echo "----- last lines of $logf" >&2; tail -n 30 "$logf" >&2 || true
  die "$name not listening on 127.0.0.1:$port after ${secs}s"
}

# Runs ./gatehouse with only its config file: no GATEHOUSE_* from the caller's shell.
gatehouse_exec() {
  cd "$repo"
  for v in $(compgen -e | grep '^GATEHOUSE_' || true); do
    case "$v" in GATEHOUSE_JAVA_OPTS | GATEHOUSE_JAVA) ;; *) unset "$v" ;; esac
  done
  exec ./gatehouse "$@"
}

#!/usr/bin/env python3
"""Start-up time: from a process's launch to the first request it serves, then its RSS at idle.

Started before the process: it writes GO.ready, and bench/run.sh then writes the launch time
(wall clock, seconds) to GO, launches, and writes the pid to GO.pid. From then on it sends a tiny
request (POST /api/chat without a key) every --every-ms until any complete HTTP status line
arrives (401 from a proxy with keys, 200 through a relay without): start-up = that moment - the
launch time. After --idle seconds with no traffic it reads VmRSS of the pid and its children.
"""

import argparse
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchhttp as bh  # noqa: E402

REQ = bh.request_bytes("POST", "/api/chat", b'{"model":"x","messages":[]}', None, close=True)


def try_once(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(REQ)
            data = b""
            while b"\r\n" not in data:
                got = s.recv(4096)
                if not got:
                    return None
                data += got
            parts = data.split(b"\r\n", 1)[0].split(b" ")
            return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/") else None
    except (OSError, ValueError):
        return None


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--go", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--every-ms", type=float, default=5)
    ap.add_argument("--idle", type=float, default=3)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    open(args.go + ".ready", "w").close()
    end = time.time() + args.timeout
    while not os.path.exists(args.go) and time.time() < end:
        time.sleep(0.001)
    while time.time() < end:
        try:
            t0 = float(open(args.go).read().strip())
            break
        except (OSError, ValueError):
            time.sleep(0.001)
    status = None
    while time.time() < end:
        status = try_once(args.port)
        if status is not None:
            break
        time.sleep(args.every_ms / 1000.0)
    t_ready = time.time()
    pid = None
    while pid is None and time.time() < end:
        try:
            pid = int(open(args.go + ".pid").read().strip())
        except (OSError, ValueError):
            time.sleep(0.01)
    time.sleep(args.idle)
    pids = [pid] + children(pid) if pid else []
    rss = sum(bh.rss_kib(p) or 0 for p in pids)
    res = {"status": status, "startup_s": (t_ready - t0) if status is not None else None,
           "idle_s": args.idle, "pids": pids, "rss_idle_kib": rss if pids else None}
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    print(f"  start-up: first answer {status} after "
          + (f"{res['startup_s'] * 1000:.0f} ms" if res["startup_s"] is not None else "- (none)")
          + (f", RSS at idle {rss / 1024:.1f} MiB" if pids else ""), flush=True)
    sys.exit(0 if status is not None else 1)


if __name__ == "__main__":
    main()

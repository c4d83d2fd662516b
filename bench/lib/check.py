#!/usr/bin/env python3
"""Functional checks before measuring: every path answers as expected.

Static port: POST /api/chat and /v1/chat/completions give 200 with a JSON body (with the right
key); no key and a wrong key give 401 on the proxies. Stream port: a short NDJSON and SSE stream
arrives whole and in order through every target. Writes a JSON list of checks; exits 1 if any
failed.
"""

import argparse
import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchhttp as bh  # noqa: E402


async def request(port, path, body, auth):
    reader, writer = await bh.connect(port)
    try:
        writer.write(bh.request_bytes("POST", path, body, auth, close=True))
        await writer.drain()
        status, headers = await bh.read_head(reader)
        data = b""
        async for piece, _ in bh.body_pieces(reader, headers):
            data += piece
        return status, headers, data
    finally:
        writer.transport.abort()


async def run(targets):
    checks = []

    def add(what, got, expected, ok):
        checks.append({"what": what, "got": got, "expected": expected, "ok": bool(ok)})

    async def guarded(coro):
        try:
            return await asyncio.wait_for(coro, 15)
        except Exception as e:  # noqa: BLE001 - reported as a failed check
            return f"{type(e).__name__}: {e}", {}, b""

    body = bh.chat_body(False, stream=False)
    for t in targets:
        name, auth = t["name"], t.get("auth")
        for path in ("/api/chat", "/v1/chat/completions"):
            status, headers, data = await guarded(request(t["static_port"], path, body, auth))
            try:
                ok_json = isinstance(json.loads(data), dict)
            except ValueError:
                ok_json = False
            add(f"{name} static POST {path} with key", f"{status}, json={ok_json}", "200, json=True",
                status == 200 and ok_json)
        if auth:
            for label, a in (("no key", None), ("wrong key", "Bearer sk-bench-wrong-0000")):
                status, _, _ = await guarded(request(t["static_port"], "/api/chat", body, a))
                add(f"{name} static POST /api/chat with {label}", status, 401, status == 401)
        for fmt, path in (("ndjson", "/api/chat"), ("sse", "/v1/chat/completions")):
            status, headers, data = await guarded(request(t["stream_port"], path, bh.chat_body(fmt == "sse", 5, 10), auth))
            objs = [o for o in (bh.parse_line(x) for x in data.split(b"\n")) if o is not None]
            seqs = [o.get("seq") for o in objs]
            done = (b"data: [DONE]" in data) if fmt == "sse" else bool(objs and objs[-1].get("done"))
            add(f"{name} stream {fmt} ({path})", f"{status}, seqs={seqs}, end={done}",
                "200, seqs=[0, 1, 2, 3, 4], end=True", status == 200 and seqs == [0, 1, 2, 3, 4] and done)
    return checks


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--targets", required=True,
                    help='JSON list: [{"name":..,"static_port":..,"stream_port":..,"auth":..}]')
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    checks = asyncio.run(run(json.loads(args.targets)))
    with open(args.out, "w") as f:
        json.dump(checks, f, indent=1)
    for c in checks:
        print(f"  check {'ok  ' if c['ok'] else 'FAIL'} {c['what']}: {c['got']}")
    sys.exit(0 if all(c["ok"] for c in checks) else 1)


if __name__ == "__main__":
    main()

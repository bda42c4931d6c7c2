#!/usr/bin/env python3
"""Compares two `phoneleak scan --format jsonl --all-requests --show-numbers` outputs request by request:
a plain capture's and its h2c rewrite's (examples/h2c_bench.rs), as tests/it/h2c_rewrite.rs
does on its sample. Ignores what HTTP/2 changes (version, stream id, the packet that completed
a request, an absolute-form target's scheme and authority, header names' case, the fields
HTTP/2 does not carry). Prints the counts as JSON (and the h2c scan's HTTP/2 connections); exits 1
if any request differs.

    bench/h2c_same.py plain.jsonl h2c.jsonl [N]   # N: differing requests to show (3)
"""
import json
import sys
from collections import Counter

DROPPED = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"}


def path(uri):
    for scheme in ("http://", "https://"):
        if uri.startswith(scheme):
            rest = uri[len(scheme):]
            at = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0], default=len(rest))
            p = rest[at:]
            return "/" if not p else ("/" + p if p.startswith("?") else p)
    return uri


def requests(name):
    out, h2, conns = [], 0, 0
    for line in open(name):
        v = json.loads(line)
        if v.get("type") == "summary":
            conns = v.get("h2", {}).get("connections", 0)
        if v.get("type") != "request" or v.get("pushed"):
            continue
        h2 += "stream_id" in v
        leaks = [dict(l, header=l["header"].lower()) for l in v["leaks"]]
        out.append(json.dumps({
            "ts": v["ts"], "src": v["src"], "dst": v["dst"], "method": v["method"], "uri": path(v["uri"]),
            "host": v["host"], "leaks": leaks, "body": v.get("body"), "truncated": v.get("truncated", False),
            "headers": [[n.lower(), x] for n, x in v["headers"] if n.lower() not in DROPPED],
        }, sort_keys=True))
    return out, h2, conns


def main():
    (plain, _, _), (h2c, h2, conns) = requests(sys.argv[1]), requests(sys.argv[2])
    a, b = Counter(plain), Counter(h2c)
    same = sum((a & b).values())
    leaks = lambda rs: sum(len(json.loads(r)["leaks"]) for r in rs)
    print(json.dumps({"requests_plain": len(plain), "requests_h2c": len(h2c), "h2c_as_http2": h2, "h2c_connections": conns,
                      "identical": same, "leaks_plain": leaks(plain), "leaks_h2c": leaks(h2c)}))
    for name, only in (("only in the plain capture", a - b), ("only in the h2c one", b - a)):
        for r in list(only.elements())[:int(sys.argv[3]) if len(sys.argv) > 3 else 3]:
            print(name + ": " + r, file=sys.stderr)
    if same != len(plain) or len(plain) != len(h2c):
        sys.exit(1)


main()

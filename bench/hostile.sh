#!/usr/bin/env bash
# Reproduces the memory-bound table of docs/robustness.md: generates each
# hostile capture (examples/gen_hostile.rs), scans it with the release build
# under /usr/bin/time -v, and prints peak memory, time and the counters that
# show what was dropped. Not part of CI (minutes, and gigabytes of disk).
#
#   bash bench/hostile.sh                 # all seven at full size
#   bash bench/hostile.sh syn-flood 1000  # one attack at another scale
#   KEEP=1 bash bench/hostile.sh          # keep the captures in target/hostile
#
# Needs GNU time (apt-get install time) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${HOSTILE_DIR:-target/hostile}
mkdir -p "$dir"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
cargo build --release --quiet --bin phoneleak --example gen_hostile

attacks=(syn-flood ooo-gigabyte endless-headers fragment-flood pipelined resync-lines tls-held)
scale=""
if [ $# -ge 1 ]; then attacks=("$1"); scale=${2:-}; fi

printf '%-16s %10s %9s %12s %8s %9s  %s\n' attack capture packets "peak RSS" seconds "legit leak" counters
for attack in "${attacks[@]}"; do
  pcap="$dir/$attack.pcap"
  target/release/examples/gen_hostile "$attack" "$pcap" $scale >/dev/null
  size=$(du -m "$pcap" | cut -f1)
  status=0
  /usr/bin/time -v target/release/phoneleak scan --format jsonl "$pcap" \
    >"$dir/$attack.jsonl" 2>"$dir/$attack.time" || status=$?
  python3 - "$attack" "$size" "$status" "$dir/$attack.jsonl" "$dir/$attack.time" <<'PY'
import json, re, sys
attack, size, status, jsonl, timef = sys.argv[1:]
lines = [json.loads(l) for l in open(jsonl)]
s = lines[-1]
legit = any(l.get("uri") == "/legit/still-reported" and l["leaks"] for l in lines[:-1])
t = open(timef).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
el = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(el.split(":"))))
f, h, d = s["flow"], s["http"], s["decode"]
pick = {
    "syn-flood": {"flows": f["flows"], "flows_evicted": f["flows_evicted"]},
    "ooo-gigabyte": {"gaps_forced_by_direction_cap": f["gaps_forced_by_direction_cap"], "gap_bytes": f["gap_bytes"]},
    "endless-headers": {"heads_over_limit": h["heads_over_limit"], "heads_cut_by_memcap": h["heads_cut_by_memcap"], "requests": h["requests"]},
    "fragment-flood": {"ip_fragment": d["ip_fragment"], "defrag.dropped_memcap": d["defrag"]["dropped_memcap"],
                       "defrag.completed": d["defrag"]["completed"]},
    "pipelined": {"requests": h["requests"], "leaking_requests": s["leaking_requests"]},
    "resync-lines": {"heads_over_limit": h["heads_over_limit"], "heads_cut_by_memcap": h["heads_cut_by_memcap"]},
    "tls-held": {"tls.connections": s["tls"]["connections"], "tls.held_cuts": s["tls"]["held_cuts"],
                 "tls.held_too_long": s["tls"]["held_too_long"]},
}[attack]
print(f"{attack:<16} {size:>8}MB {s['packets']:>9} {rss/1024:>9.1f} MiB {secs:>8.1f} {('yes' if legit else 'NO'):>9}  "
      + " ".join(f"{k}={v}" for k, v in pick.items()) + f"  (exit {status})")
PY
  [ -n "${KEEP:-}" ] || rm -f "$pcap"
done

#!/usr/bin/env bash
# The scale run of `phoneleak diff` (issue 20: "two 10 GB captures pair in
# one pass, memory bounded by the window"): a benchmark capture of SIZE_MB
# (../shared/bench/gen_bench.py) as BEFORE, and as AFTER the same packets
# behind a NAT with a clock 2 s ahead (bench/nat_shift.py). Prints the
# diff's summary, its peak RSS and wall time. Not part of CI (minutes, and
# twice SIZE_MB of disk).
#
#   bash bench/diff_scale.sh              # 10 000 MB each
#   SIZE_MB=1000 bash bench/diff_scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-10000}
WORK=${WORK:-target/bench}
BENCH=${BENCH:-../shared/bench}
mkdir -p "$WORK"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
cargo build --release --quiet --bin phoneleak
before="$WORK/diff-before-${SIZE_MB}m.pcap"
after="$WORK/diff-after-${SIZE_MB}m.pcap"
[ -f "$before" ] || python3 "$BENCH/gen_bench.py" --size-mb "$SIZE_MB" --seed 7 --out "$before" >&2
[ -f "$after" ] || python3 bench/nat_shift.py "$before" "$after" 2
status=0
/usr/bin/time -v target/release/phoneleak diff --format jsonl "$before" "$after" \
  > "$WORK/diff-${SIZE_MB}m.jsonl" 2> "$WORK/diff-${SIZE_MB}m.time" || status=$?
tail -1 "$WORK/diff-${SIZE_MB}m.jsonl"
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$WORK/diff-${SIZE_MB}m.time"
echo "exit status $status (0: nothing added on the way)"

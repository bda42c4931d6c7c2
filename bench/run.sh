#!/usr/bin/env bash
# Times phoneleak against the tools a user would otherwise reach for, on the
# same benchmark capture, and writes docs/benchmarks.md.
#
#   bench/run.sh              # 1 GB capture (about 2 minutes to generate, tshark takes ~1 min a run)
#   SIZE_MB=100 bench/run.sh  # quicker
#
# Needs: python3, hyperfine, tshark, httpry, ngrep, GNU time (installed with
# apt-get when missing), and ../shared/bench/ (BENCH=/path/to/it): gen_bench.py
# (the benchmark capture generator), gtpu_wrap.py (the same traffic as an
# S1-U/N3 tap sees it, in GTP-U over one tunnel pair) and floor/ (the
# least-work program every time is compared with). The TLS capture (the same
# connections inside TLS 1.3, with its key log) and the h2c capture (every
# HTTP/1.x connection as h2c by prior knowledge, the same requests) are made by
# the project's own generators: examples/tls_bench.rs, examples/h2c_bench.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZE_MB=${SIZE_MB:-1000}
RUNS=${RUNS:-5}
SLOW_RUNS=${SLOW_RUNS:-2}
WORK=${WORK:-$ROOT/target/bench}
BENCH=${BENCH:-$ROOT/../shared/bench}
GEN_BENCH=${GEN_BENCH:-$BENCH/gen_bench.py}
mkdir -p "$WORK"

need() { command -v "$1" >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"); }
need hyperfine hyperfine; need tshark tshark; need httpry httpry; need ngrep ngrep
[ -x /usr/bin/time ] || need time time

cargo build --release --quiet
BIN=$ROOT/target/release/phoneleak
cargo build --release --quiet --manifest-path "$BENCH/floor/Cargo.toml" --target-dir "$WORK/floor"
FLOOR=$WORK/floor/release/floor

capture() { # size -> path (generated once, deterministic)
  local out="$WORK/bench-$1m.pcap"
  [ -f "$out" ] || python3 "$GEN_BENCH" --size-mb "$1" --seed 1 --out "$out" >&2
  echo "$out"
}
CAP=$(capture "$SIZE_MB")
SMALL=$(capture 100)
TRUTH=${CAP%.pcap}.truth.jsonl
GTPU=${CAP%.pcap}-gtpu.pcap   # the same packets in GTP-U (the truth file is the same)
[ -f "$GTPU" ] || python3 "$BENCH/gtpu_wrap.py" "$CAP" "$GTPU" >&2
TLSCAP=${CAP%.pcap}-tls.pcap  # the same connections inside TLS 1.3 AES-128-GCM
TLSKEYS=${CAP%.pcap}-tls.keys
[ -f "$TLSCAP" ] || cargo run --release --quiet --example tls_bench -- "$CAP" "$TLSCAP" "$TLSKEYS" >&2
H2CCAP=${CAP%.pcap}-h2c.pcap  # the same requests, every HTTP/1.x connection as h2c
[ -f "$H2CCAP" ] || cargo run --release --quiet --example h2c_bench -- "$CAP" "$H2CCAP" >&2
cat "$CAP" "$GTPU" "$TLSCAP" "$H2CCAP" > /dev/null   # page cache

# REPORT_ONLY=1 rewrites docs/benchmarks.md from the last run's measurements.
if [ -z "${REPORT_ONLY:-}" ]; then
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$WORK/fast.json" \
  -n "cat" "cat $CAP > /dev/null" \
  -n "floor reqscan" "$FLOOR reqscan $CAP > /dev/null" \
  -n "phoneleak --threads 1" "$BIN scan --threads 1 --format jsonl --all-requests $CAP > /dev/null" \
  -n "phoneleak --threads 2" "$BIN scan --threads 2 --format jsonl --all-requests $CAP > /dev/null" \
  -n "phoneleak --threads 1, GTP-U" "$BIN scan --threads 1 --format jsonl --all-requests $GTPU > /dev/null" \
  -n "phoneleak --threads 2, GTP-U" "$BIN scan --threads 2 --format jsonl --all-requests $GTPU > /dev/null" \
  -n "phoneleak --threads 1, TLS 1.3" "$BIN scan --threads 1 --format jsonl --all-requests --keylog $TLSKEYS $TLSCAP > /dev/null" \
  -n "phoneleak --threads 2, TLS 1.3" "$BIN scan --threads 2 --format jsonl --all-requests --keylog $TLSKEYS $TLSCAP > /dev/null" \
  -n "phoneleak --threads 1, bodies not read" "$BIN scan --threads 1 --format jsonl --all-requests --max-body-bytes 0 $CAP > /dev/null" \
  -n "httpry -r" "httpry -q -r $CAP > /dev/null" \
  -n "ngrep" "ngrep -q -I $CAP -W none -i 'msisdn|calling-line' > /dev/null" \
  --ignore-failure
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$WORK/h2.json" \
  -n "HTTP/1.1" "$BIN scan --threads 1 --format jsonl --all-requests $CAP > /dev/null" \
  -n "h2c" "$BIN scan --threads 1 --format jsonl --all-requests $H2CCAP > /dev/null" \
  --ignore-failure
hyperfine --style basic --runs "$SLOW_RUNS" --export-json "$WORK/slow.json" \
  -n "tshark -2 (reassembly)" \
  "tshark -r $CAP -2 -o tcp.reassemble_out_of_order:TRUE -Y http.request -T fields -e ip.src -e tcp.srcport -e http.request.line > /dev/null" \
  -n "tshark -2 (reassembly), TLS 1.3 with the key log" \
  "tshark -r $TLSCAP -2 -o tls.keylog_file:$TLSKEYS -d tcp.port==80,tls -d tcp.port==8080,tls -o tcp.reassemble_out_of_order:TRUE -Y http.request -T fields -e ip.src -e tcp.srcport -e http.request.line > /dev/null"

rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}'; }
{
  echo "phoneleak --threads 1	$(rss "$BIN" scan --threads 1 --format jsonl --all-requests "$CAP")"
  echo "phoneleak --threads 2	$(rss "$BIN" scan --threads 2 --format jsonl --all-requests "$CAP")"
  echo "phoneleak --threads 1, GTP-U	$(rss "$BIN" scan --threads 1 --format jsonl --all-requests "$GTPU")"
  echo "phoneleak --threads 2, GTP-U	$(rss "$BIN" scan --threads 2 --format jsonl --all-requests "$GTPU")"
  echo "phoneleak --threads 1, 100 MB capture	$(rss "$BIN" scan --threads 1 --format jsonl --all-requests "$SMALL")"
  echo "phoneleak --threads 2, 100 MB capture	$(rss "$BIN" scan --threads 2 --format jsonl --all-requests "$SMALL")"
  echo "phoneleak --threads 1, TLS 1.3	$(rss "$BIN" scan --threads 1 --format jsonl --all-requests --keylog "$TLSKEYS" "$TLSCAP")"
  echo "phoneleak --threads 2, TLS 1.3	$(rss "$BIN" scan --threads 2 --format jsonl --all-requests --keylog "$TLSKEYS" "$TLSCAP")"
  echo "httpry -r	$(rss httpry -q -r "$CAP")"
  echo "tshark -2 (reassembly)	$(rss tshark -r "$CAP" -2 -o tcp.reassemble_out_of_order:TRUE -Y http.request -T fields -e http.request.line)"
} > "$WORK/rss.tsv"

"$BIN" scan --threads 1 --format jsonl --all-requests --show-numbers "$CAP" > "$WORK/phoneleak.jsonl" || true
"$BIN" scan --threads 2 --format jsonl --all-requests --show-numbers "$CAP" > "$WORK/phoneleak-t2.jsonl" || true
"$BIN" scan --threads 1 --format jsonl --all-requests --show-numbers "$GTPU" > "$WORK/gtpu.jsonl" || true
"$BIN" scan --threads 2 --format jsonl --all-requests --show-numbers "$GTPU" > "$WORK/gtpu-t2.jsonl" || true
"$BIN" scan --threads 1 --format jsonl --all-requests --show-numbers --keylog "$TLSKEYS" "$TLSCAP" > "$WORK/tls.jsonl" || true
"$BIN" scan --threads 2 --format jsonl --all-requests --show-numbers --keylog "$TLSKEYS" "$TLSCAP" > "$WORK/tls-t2.jsonl" || true
# The h2c capture's requests, one by one against the plain capture's.
"$BIN" scan --threads 1 --format jsonl --all-requests --show-numbers "$H2CCAP" > "$WORK/h2c.jsonl" || true
python3 bench/h2c_same.py "$WORK/phoneleak.jsonl" "$WORK/h2c.jsonl" > "$WORK/h2c-same.json" || true
cmp -s "$WORK/phoneleak.jsonl" "$WORK/phoneleak-t2.jsonl" && SAME=yes || SAME=no
cmp -s "$WORK/tls.jsonl" "$WORK/tls-t2.jsonl" && SAME_TLS=yes || SAME_TLS=no
cmp -s "$WORK/gtpu.jsonl" "$WORK/gtpu-t2.jsonl" && SAME_GTPU=yes || SAME_GTPU=no
python3 bench/score.py "$TRUTH" "$WORK/phoneleak.jsonl" > "$WORK/score.json"
python3 bench/score.py "$TRUTH" "$WORK/gtpu.jsonl" > "$WORK/score-gtpu.json"
python3 bench/score.py "$TRUTH" "$WORK/tls.jsonl" > "$WORK/score-tls.json"
tail -n 1 "$WORK/tls.jsonl" > "$WORK/tls-summary.json"
TSHARK_TLS_REQ=$(tshark -r "$TLSCAP" -2 -o "tls.keylog_file:$TLSKEYS" -d tcp.port==80,tls -d tcp.port==8080,tls -o tcp.reassemble_out_of_order:TRUE -Y http.request -T fields -e frame.number | wc -l)
TSHARK_REQ=$(tshark -r "$CAP" -2 -o tcp.reassemble_out_of_order:TRUE -Y http.request -T fields -e frame.number | wc -l)
HTTPRY_REQ=$(httpry -q -r "$CAP" 2>/dev/null | awk -F'\t' '$4 == ">"' | wc -l)
echo "$TSHARK_REQ $HTTPRY_REQ $SAME $SAME_GTPU $SAME_TLS $TSHARK_TLS_REQ" > "$WORK/counts"

fi
read -r TSHARK_REQ HTTPRY_REQ SAME SAME_GTPU SAME_TLS TSHARK_TLS_REQ < "$WORK/counts"

python3 bench/report.py --capture "$CAP" --meta "${CAP%.pcap}.meta.json" --fast "$WORK/fast.json" \
  --slow "$WORK/slow.json" --rss "$WORK/rss.tsv" --score "$WORK/score.json" --score-gtpu "$WORK/score-gtpu.json" \
  --tshark-requests "${TSHARK_REQ}" --httpry-requests "$HTTPRY_REQ" --threads-identical "$SAME" --threads-identical-gtpu "$SAME_GTPU" \
  --tls-capture "$TLSCAP" --tls-score "$WORK/score-tls.json" --tls-summary "$WORK/tls-summary.json" \
  --tls-tshark-requests "$TSHARK_TLS_REQ" --threads-identical-tls "$SAME_TLS" --h2 "$WORK/h2.json" --h2-same "$WORK/h2c-same.json" \
  --notes bench/notes.md > docs/benchmarks.md
echo "wrote docs/benchmarks.md"

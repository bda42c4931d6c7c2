#!/usr/bin/env bash
# Checks contrib/dask/phoneleak_dask.py on a folder of the fixtures with an
# empty file, notes and a capture without a capture's name in it: a
# LocalCluster of 2 workers, small batches (several tasks), then merge, must
# write exactly what one `phoneleak scan` of the folder writes (JSON lines and
# text), with the same exit status; then, without a phoneleak on PATH, the
# binary must be found by its environment variable, and its absence be one
# line and status 2. Needs Python with dask[distributed] (.ci/run installs
# it in a virtual environment) and a built phoneleak binary.
#   contrib/dask/check.sh [PHONELEAK] [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/../.."
phoneleak=$(realpath "${1:-target/debug/phoneleak}")
python=${2:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Every fixture capture except the twins whose numbers mask alike (without a
# subject key a merge counts them as one subject: docs/output.md).
mapfile -t files < <(ls fixtures/*.pcap fixtures/*.pcapng | grep -v mask-alike | LC_ALL=C sort)
mkdir "$tmp/in"
for f in "${files[@]}"; do ln -s "$(realpath "$f")" "$tmp/in/$(basename "$f")"; done
# What rotated archives hold besides captures: skipped by a folder walk.
: >"$tmp/in/empty.pcap"
echo "rotated daily" >"$tmp/in/README.md"
cp fixtures/clean.pcap "$tmp/in/clean-copy.dump"
for format in jsonl text; do
    set +e
    "$phoneleak" scan --threads 1 --format "$format" "$tmp/in" >"$tmp/one.$format" 2>/dev/null
    one=$?
    "$python" contrib/dask/phoneleak_dask.py --phoneleak "$phoneleak" --local 2 \
        --batch-bytes 20000 "$tmp/in" -- --format "$format" >"$tmp/dask.$format"
    got=$?
    set -e
    if ! cmp -s "$tmp/one.$format" "$tmp/dask.$format"; then
        echo "dask ($format): differs from one scan" >&2
        diff "$tmp/one.$format" "$tmp/dask.$format" | head -20 >&2
        exit 1
    fi
    if [ "$one" != "$got" ]; then
        echo "dask ($format): exit status $got, one scan $one" >&2
        exit 1
    fi
    echo "dask ($format): byte-identical to one scan of a folder of ${#files[@]} captures and 3 other files (status $got)"
done
# The binary from PHONELEAK when it is not on PATH; none at all: status 2, one line.
nopath=$(dirname "$(command -v "$python")")
set +e
PATH="$nopath" PHONELEAK="$phoneleak" "$python" contrib/dask/phoneleak_dask.py \
    "$tmp/in" -- --format jsonl >"$tmp/env.jsonl" 2>"$tmp/env.err"
got=$?
PATH="$nopath" "$python" contrib/dask/phoneleak_dask.py "$tmp/in" >/dev/null 2>"$tmp/none.err"
none=$?
set -e
if ! cmp -s "$tmp/one.jsonl" "$tmp/env.jsonl"; then
    echo "dask: with PHONELEAK set, the output differs from one scan (status $got)" >&2
    cat "$tmp/env.err" >&2
    exit 1
fi
if [ "$none" != 2 ] || grep -q Traceback "$tmp/none.err" || [ "$(wc -l <"$tmp/none.err")" != 1 ]; then
    echo "dask: without a binary: status $none (want 2), message:" >&2
    cat "$tmp/none.err" >&2
    exit 1
fi
echo "dask: the binary found by PHONELEAK; without one: $(cat "$tmp/none.err") (status 2)"

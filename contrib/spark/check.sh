#!/usr/bin/env bash
# Checks contrib/spark/phoneleak_spark.py on the fixtures: local[2] Spark,
# small batches (several tasks), then merge, must write exactly what
# one `phoneleak scan` of the folder (with an empty file and notes) writes (JSON lines and text), with
# the same exit status. Needs pyspark and Java (tests/it/engines.rs runs it when
# both are present) and a built phoneleak binary.
#   contrib/spark/check.sh [PHONELEAK] [PYTHON]
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
    "$python" contrib/spark/phoneleak_spark.py --phoneleak "$phoneleak" \
        --batch-bytes 20000 "$tmp/in" -- --format "$format" >"$tmp/dask.$format"
    got=$?
    set -e
    if ! cmp -s "$tmp/one.$format" "$tmp/dask.$format"; then
        echo "spark ($format): differs from one scan" >&2
        diff "$tmp/one.$format" "$tmp/dask.$format" | head -20 >&2
        exit 1
    fi
    if [ "$one" != "$got" ]; then
        echo "spark ($format): exit status $got, one scan $one" >&2
        exit 1
    fi
    echo "spark ($format): byte-identical to one scan of ${#files[@]} files (status $got)"
done

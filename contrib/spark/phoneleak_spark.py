#!/usr/bin/env python3
"""Scan many captures with phoneleak on Spark, then merge exactly.

    spark-submit phoneleak_spark.py [--phoneleak BIN] [--partitions N] [--batch-bytes B] \
        SOURCE... [-- MERGE_OPTIONS...]

(or `python3 phoneleak_spark.py ...` with pyspark installed: a local[2]
session). Listing and batching are contrib/dask's (folders, globs, fsspec
URLs); each batch is one element of an RDD, scanned on an executor by
`phoneleak scan --format jsonl --threads 1 --exit-code 0` (a leak is a
result, not a failed task), the shards are collected in order and
`phoneleak merge` writes the report of one run over all the files. The
binary must be on every executor (same path), e.g. shipped with
`--files phoneleak` and named `./phoneleak`; found as in contrib/dask
(--phoneleak, then $PHONELEAK, then PATH, else an error with status 2).
Folders are walked as `phoneleak scan` walks them (empty files and files that
are not captures skipped), so the answer is one scan's, status included.
"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dask"))
from phoneleak_dask import Failure, batches, find_phoneleak, list_captures, scan_batch  # noqa: E402


def main(argv):
    import argparse

    if "--" in argv:
        i = argv.index("--")
        argv, merge_args = argv[:i], argv[i + 1:]
    else:
        merge_args = []
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sources", nargs="+")
    ap.add_argument("--phoneleak", metavar="PATH")
    ap.add_argument("--partitions", type=int, default=0, help="default: one per batch")
    ap.add_argument("--batch-bytes", type=int, default=64 << 20)
    ap.add_argument("--scan-arg", action="append", default=[])
    ap.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[2]"))
    args = ap.parse_args(argv)
    try:
        return run(args, merge_args)
    except Failure as e:
        print(f"phoneleak_spark: error: {e}", file=sys.stderr)
        return 2
    except ImportError as e:
        print(f"phoneleak_spark: error: {e} (pip install pyspark; Spark needs Java)", file=sys.stderr)
        return 2
    except Exception as e:  # an executor or the session failed: never status 1
        print(f"phoneleak_spark: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


def run(args, merge_args):
    args.phoneleak = find_phoneleak(args.phoneleak)
    files = list_captures(args.sources)
    if not files:
        print("phoneleak_spark: error: no files in " + ", ".join(args.sources), file=sys.stderr)
        return 2
    work = batches(files, args.batch_bytes)

    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(args.master).appName("phoneleak")
             .config("spark.ui.enabled", "false").getOrCreate())
    try:
        # The executors' Python workers import the scanning function from it.
        spark.sparkContext.addPyFile(
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dask", "phoneleak_dask.py"))
        binary, scan_args = args.phoneleak, list(args.scan_arg)
        rdd = spark.sparkContext.parallelize(list(enumerate(work)), args.partitions or len(work))
        # collect() keeps the RDD's order; the index makes it explicit.
        shards = sorted(rdd.map(lambda ib: (ib[0], scan_batch(binary, ib[1], scan_args))).collect())
    finally:
        spark.stop()

    with tempfile.TemporaryDirectory(prefix="phoneleak-shards-") as d:
        names = []
        for i, shard in shards:
            name = os.path.join(d, f"{i:06d}.jsonl")
            with open(name, "w", encoding="utf-8") as f:
                f.write(shard)
            names.append(name)
        return subprocess.run([args.phoneleak, "merge"] + merge_args + names).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Scan many captures with phoneleak on a Dask cluster, then merge exactly.

    python3 phoneleak_dask.py [options] SOURCE... [-- MERGE_OPTIONS...]

SOURCE is a folder (walked), a glob (`captures/2026-11-*.pcap.gz`) or an
fsspec URL (`s3://bucket/captures/`, `gs://...`, `file:///...`; needs the
matching fsspec backend, e.g. s3fs). Captures are files whose names end in
.pcap, .pcapng or .cap (optionally .gz or .zst). They are sorted by name and
cut into batches of consecutive files of at least --batch-bytes (small files
share one phoneleak process), each scanned by one task:

    phoneleak scan --format jsonl --threads 1 --exit-code 0 FILE...

(`--exit-code 0`: a leak is a result, not a failed task; an unreadable input
still exits 2 and is reported in the shard's summary). The shards come back
in order and `phoneleak merge` writes the report of one run over all the
files: its output and exit status are those of one `phoneleak scan` of the
same files in the same order (see docs/scaling.md). Options after `--` go to
`merge` (`--format jsonl`, `--html report.html`, `--baseline F`, `-o F`, ...).

Remote files are copied to a temporary file on the worker first (phoneleak
reads local files and standard input); their request lines then name the
temporary copy's base name, which is the URL's.

Cluster: --scheduler ADDRESS (an existing dask.distributed scheduler), or
--local N for a LocalCluster of N single-threaded worker processes, or
neither for Dask's default (threads in this process).
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")


def is_capture(name):
    base = name
    for comp in (".gz", ".zst"):
        if base.endswith(comp):
            base = base[: -len(comp)]
    return base.endswith(CAPTURE_SUFFIXES)


def list_captures(sources):
    """(path or URL, size) of every capture the sources name, sorted by name."""
    found = []
    for src in sources:
        if "://" in src and not src.startswith("file://"):
            import fsspec

            fs, _, paths = fsspec.get_fs_token_paths(src)
            protocol = src.split("://", 1)[0]
            names = []
            for p in paths:
                if fs.isdir(p):
                    names.extend(fs.find(p))
                else:
                    names.append(p)
            for n in names:
                if is_capture(n):
                    found.append((f"{protocol}://{n}", fs.size(n)))
            continue
        if src.startswith("file://"):
            src = src[len("file://"):]
        if os.path.isdir(src):
            for root, dirs, files in os.walk(src):
                dirs.sort()
                for f in sorted(files):
                    p = os.path.join(root, f)
                    if is_capture(f) and os.path.isfile(p):
                        found.append((p, os.path.getsize(p)))
        else:
            matches = sorted(glob.glob(src)) or [src]
            for p in matches:
                if os.path.isfile(p):
                    found.append((p, os.path.getsize(p)))
    found.sort(key=lambda x: x[0])
    return found


def batches(files, batch_bytes):
    """Consecutive runs of files, each at least batch_bytes (the last may be smaller)."""
    out, cur, size = [], [], 0
    for path, n in files:
        cur.append(path)
        size += n
        if size >= batch_bytes:
            out.append(cur)
            cur, size = [], 0
    if cur:
        out.append(cur)
    return out


def scan_batch(phoneleak, paths, scan_args):
    """One task: scan a batch; returns the shard (JSON lines) as text."""
    tmp = None
    local = []
    try:
        for p in paths:
            if "://" in p:
                import fsspec

                if tmp is None:
                    tmp = tempfile.mkdtemp(prefix="phoneleak-")
                dest = os.path.join(tmp, os.path.basename(p))
                with fsspec.open(p, "rb") as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                local.append(dest)
            else:
                local.append(p)
        cmd = [phoneleak, "scan", "--format", "jsonl", "--threads", "1", "--exit-code", "0"]
        cmd += list(scan_args) + local
        run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        shard = run.stdout.decode("utf-8")
        # 0: scanned; 2: an input error, recorded in the shard's summary.
        if run.returncode not in (0, 2) or '"type":"summary"' not in shard.rstrip().rsplit("\n", 1)[-1]:
            raise RuntimeError(
                f"phoneleak scan failed (status {run.returncode}) on {paths}: "
                + run.stderr.decode("utf-8", "replace")
            )
        return shard
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    if "--" in argv:
        i = argv.index("--")
        argv, merge_args = argv[:i], argv[i + 1:]
    else:
        merge_args = []
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sources", nargs="+")
    ap.add_argument("--phoneleak", default=shutil.which("phoneleak") or "phoneleak",
                    help="the phoneleak binary (on every worker)")
    ap.add_argument("--scheduler", help="address of a dask.distributed scheduler")
    ap.add_argument("--local", type=int, metavar="N", help="start a LocalCluster of N workers")
    ap.add_argument("--batch-bytes", type=int, default=64 << 20,
                    help="files are grouped into tasks of at least this many bytes (default 64 MiB)")
    ap.add_argument("--scan-arg", action="append", default=[],
                    help="an option for every scan (repeatable), e.g. --scan-arg=--subject-key=/etc/phoneleak.key")
    args = ap.parse_args(argv)

    files = list_captures(args.sources)
    if not files:
        print("phoneleak_dask: no captures found", file=sys.stderr)
        return 2
    work = batches(files, args.batch_bytes)

    import dask

    client = cluster = None
    if args.scheduler or args.local:
        from dask.distributed import Client, LocalCluster

        if args.local:
            cluster = LocalCluster(n_workers=args.local, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(args.scheduler)
    try:
        tasks = [dask.delayed(scan_batch)(args.phoneleak, b, args.scan_arg) for b in work]
        shards = dask.compute(*tasks)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    with tempfile.TemporaryDirectory(prefix="phoneleak-shards-") as d:
        names = []
        for i, shard in enumerate(shards):
            name = os.path.join(d, f"{i:06d}.jsonl")
            with open(name, "w", encoding="utf-8") as f:
                f.write(shard)
            names.append(name)
        merged = subprocess.run([args.phoneleak, "merge"] + merge_args + names)
        return merged.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

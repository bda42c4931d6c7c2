#!/usr/bin/env python3
"""Scan many captures with phoneleak on a Dask cluster, then merge exactly.

    python3 phoneleak_dask.py [options] SOURCE... [-- MERGE_OPTIONS...]

SOURCE is a folder (walked), a glob (`captures/2026-11-*.pcap.gz`) or an
fsspec URL (`s3://bucket/captures/`, `gs://...`, `file:///...`; needs the
matching fsspec backend, e.g. s3fs). A local folder gives every regular file
in it, as `phoneleak scan FOLDER` reads it: files that are empty or not
captures are skipped the same way (`scan --skip-non-captures`), so the answer
is the one scan of the folder gives, exit status included. A glob gives the
files it matches, named as on a command line (a file there that is not a
capture is an error, status 2). Remote listings keep names ending in .pcap,
.pcapng or .cap (optionally .gz or .zst). Files are sorted by name and cut
into batches of consecutive files of at least --batch-bytes (small files
share one phoneleak process), each scanned by one task:

    phoneleak scan --format jsonl --threads 1 --exit-code 0 FILE...

(`--exit-code 0`: a leak is a result, not a failed task; an unreadable input
still exits 2 and is reported in the shard's summary).

The binary: --phoneleak PATH, else the PHONELEAK environment variable, else
`phoneleak` on PATH; without one the script says so and exits 2 (as any
error of its own: 1 stays "a leak was found"). The shards come back
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
    """(path or URL, size, walked) of every file the sources name, sorted by
    name; walked: found in a local folder (scanned with --skip-non-captures)."""
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
                    found.append((f"{protocol}://{n}", fs.size(n), False))
            continue
        if src.startswith("file://"):
            src = src[len("file://"):]
        if os.path.isdir(src):
            for root, dirs, files in os.walk(src):
                dirs.sort()
                for f in sorted(files):
                    p = os.path.join(root, f)
                    # Regular files only (as scan's walk: no FIFOs, devices).
                    if os.path.isfile(p):
                        found.append((p, os.path.getsize(p), True))
        else:
            matches = sorted(glob.glob(src)) or [src]
            for p in matches:
                if os.path.isfile(p):
                    found.append((p, os.path.getsize(p), False))
                else:
                    # Missing: scan names it in its errors (status 2).
                    found.append((p, 0, False))
    found.sort(key=lambda x: x[0])
    return found


def batches(files, batch_bytes):
    """Consecutive runs of files, each at least batch_bytes (the last may be
    smaller), as (walked, paths): a batch holds walked or named files only."""
    out, cur, size, kind = [], [], 0, None
    for path, n, walked in files:
        if cur and walked != kind:
            out.append((kind, cur))
            cur, size = [], 0
        kind = walked
        cur.append(path)
        size += n
        if size >= batch_bytes:
            out.append((kind, cur))
            cur, size = [], 0
    if cur:
        out.append((kind, cur))
    return out


class Failure(Exception):
    """An error of the recipe: reported in one line, exit status 2."""


def find_phoneleak(option):
    """The phoneleak binary: the option, then $PHONELEAK, then PATH."""
    for given, how in ((option, "--phoneleak"), (os.environ.get("PHONELEAK"), "PHONELEAK")):
        if given:
            path = given if os.sep in given else shutil.which(given)
            if path and os.path.isfile(path) and os.access(path, os.X_OK):
                return os.path.abspath(path)
            raise Failure(f"{how} names {given!r}, which is not an executable file")
    path = shutil.which("phoneleak")
    if path:
        return path
    raise Failure(
        "no phoneleak binary: give --phoneleak PATH, set PHONELEAK=PATH, or put phoneleak "
        "on PATH (cargo install --path . puts it in ~/.cargo/bin); every worker needs it "
        "at the same path")


def scan_batch(phoneleak, batch, scan_args):
    """One task: scan a batch (walked, paths); returns the shard (JSON lines) as text."""
    walked, paths = batch
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
        if walked:
            cmd.append("--skip-non-captures")
        cmd += list(scan_args) + ["--"] + local
        run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        shard = run.stdout.decode("utf-8")
        # 0: scanned; 2: an input error, recorded in the shard's summary.
        if run.returncode not in (0, 2) or '"type":"summary"' not in shard.rstrip().rsplit("\n", 1)[-1]:
            raise Failure(
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
    ap.add_argument("--phoneleak", metavar="PATH",
                    help="the phoneleak binary, at this path on every worker "
                         "(default: $PHONELEAK, else phoneleak on PATH)")
    ap.add_argument("--scheduler", help="address of a dask.distributed scheduler")
    ap.add_argument("--local", type=int, metavar="N", help="start a LocalCluster of N workers")
    ap.add_argument("--batch-bytes", type=int, default=64 << 20,
                    help="files are grouped into tasks of at least this many bytes (default 64 MiB)")
    ap.add_argument("--scan-arg", action="append", default=[],
                    help="an option for every scan (repeatable), e.g. --scan-arg=--subject-key=/etc/phoneleak.key")
    args = ap.parse_args(argv)
    try:
        return run(args, merge_args)
    except Failure as e:
        print(f"phoneleak_dask: error: {e}", file=sys.stderr)
        return 2
    except ImportError as e:
        print(f"phoneleak_dask: error: {e} (pip install 'dask[distributed]'; "
              "remote sources need their fsspec backend)", file=sys.stderr)
        return 2
    except Exception as e:  # a worker or the cluster failed: never status 1
        print(f"phoneleak_dask: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


def run(args, merge_args):
    args.phoneleak = find_phoneleak(args.phoneleak)
    files = list_captures(args.sources)
    if not files:
        # As scan of an empty folder: nothing to read is an error.
        print("phoneleak_dask: error: no files in " + ", ".join(args.sources), file=sys.stderr)
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

#!/usr/bin/env python3
"""Writes docs/benchmarks.md from the measurements bench/run.sh collected."""
import argparse
import json
import os
import platform
import statistics
import subprocess


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def main():
    a = argparse.ArgumentParser()
    for name in ["capture", "meta", "fast", "slow", "rss", "score", "tshark-requests", "httpry-requests",
                 "threads-identical", "notes"]:
        a.add_argument("--" + name, required=True)
    args = a.parse_args()
    meta = json.load(open(args.meta))["stats"]
    size = os.path.getsize(args.capture)
    packets = meta["packets"]
    results = json.load(open(args.fast))["results"] + json.load(open(args.slow))["results"]
    rss = dict(line.rstrip("\n").split("\t") for line in open(args.rss) if "\t" in line)
    score = json.load(open(args.score))
    med = {r["command"]: statistics.median(r["times"]) for r in results}
    base = med["phoneleak --threads 1"]

    out = []
    p = out.append
    p("# Benchmarks")
    p("")
    p("Written by `bench/run.sh` (do not edit by hand; notes come from `bench/notes.md`).")
    p("Absolute figures drift on a shared machine: read the ratios.")
    p("")
    p("## Machine and inputs")
    p("")
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    load = sh("cut -d' ' -f1-3 /proc/loadavg")
    versions = [sh("target/release/phoneleak --version"), sh("rustc --version")]
    tools = [sh("tshark --version | head -1"), sh("httpry -h 2>&1 | head -1"), sh("ngrep -V 2>&1 | head -1"),
             sh("hyperfine --version")]
    p(f"- CPU: {cpu}, {os.cpu_count()} cores; kernel {platform.release()}; load average after the run: {load}")
    p(f"- {versions[0]}, {versions[1]}")
    p("- " + "; ".join(tools))
    p(f"- capture: `gen_bench.py --size-mb {round(size / 1e6)} --seed 1`: {size / 1e6:,.0f} MB, {packets:,} packets, "
      f"{meta['requests']:,} HTTP requests, {meta['leaking_requests']} leaking "
      f"({meta['leaks_msisdn_header']} MSISDN headers, {meta['leaks_phone_value']} numbers in other headers); "
      "page-cached (read once before timing).")
    p("")
    p("## Time (hyperfine medians)")
    p("")
    p("| command | median s | MB/s | packets/s | phoneleak `--threads 1` is … x faster |")
    p("|---|---:|---:|---:|---:|")
    for r in results:
        m = med[r["command"]]
        ratio = m / base
        p(f"| `{r['command']}` | {m:.3f} | {size / 1e6 / m:,.0f} | {packets / m:,.0f} | {ratio:,.2f} |")
    p("")
    p("The exact command lines are in `bench/run.sh`: phoneleak prints every request as JSON "
      "(`--all-requests --format jsonl`), tshark prints every reassembled request line, httpry logs "
      "requests and responses packet by packet, ngrep greps payloads for header names, and `cat` is the floor.")
    p("")
    t1, t2 = med.get("phoneleak --threads 1"), med.get("phoneleak --threads 2")
    if t1 and t2:
        p(f"`--threads 2` runs at {t1 / t2:.2f}x the single-thread throughput; "
          f"output identical to `--threads 1`: {args.threads_identical}.")
        p("")
    p("## Peak resident memory (`/usr/bin/time -v`)")
    p("")
    p("| command | peak RSS MiB |")
    p("|---|---:|")
    for k, v in rss.items():
        p(f"| `{k}` | {int(v) / 1024:,.1f} |")
    p("")
    p("## What was found")
    p("")
    p(f"- phoneleak: {score['matched_requests']:,} of {score['truth_requests']:,} requests "
      f"({100 * score['request_recall']:.2f} %); leak recall by kind: "
      + ", ".join(f"{k} {v:.3f} ({score['found_true_leaks'].get(k, 0)}/{score['truth_leaks'][k]})"
                  for k, v in sorted(score["recall_by_kind"].items()))
      + f"; false leaks {score['false_leaks']} (precision {score['precision']:.3f}).")
    p(f"- tshark with reassembly: {int(args.tshark_requests):,} requests; "
      f"httpry: {int(args.httpry_requests):,} requests ({100 * int(args.httpry_requests) / score['truth_requests']:.1f} %).")
    p("")
    p(open(args.notes).read().rstrip())
    print("\n".join(out))


if __name__ == "__main__":
    main()

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
    for name in ["capture", "meta", "fast", "slow", "rss", "score", "score-gtpu", "tshark-requests",
                 "httpry-requests", "threads-identical", "threads-identical-gtpu", "notes",
                 "tls-capture", "tls-score", "tls-summary", "tls-tshark-requests", "threads-identical-tls"]:
        a.add_argument("--" + name, required=True)
    a.add_argument("--h2", help="hyperfine JSON of the plain capture and its h2c rewrite (examples/h2c_bench.rs)")
    a.add_argument("--h2-same", help="bench/h2c_same.py's counts for the two")
    args = a.parse_args()
    meta = json.load(open(args.meta))["stats"]
    size = os.path.getsize(args.capture)
    packets = meta["packets"]
    results = json.load(open(args.fast))["results"] + json.load(open(args.slow))["results"]
    rss = dict(line.rstrip("\n").split("\t") for line in open(args.rss) if "\t" in line)
    score = json.load(open(args.score))
    score_gtpu = json.load(open(args.score_gtpu))
    med = {r["command"]: statistics.median(r["times"]) for r in results}
    floor = med["floor reqscan"]

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
    p("| command | median s | MB/s | packets/s | time / `floor reqscan` |")
    p("|---|---:|---:|---:|---:|")
    for r in results:
        m = med[r["command"]]
        p(f"| `{r['command']}` | {m:.3f} | {size / 1e6 / m:,.0f} | {packets / m:,.0f} | {m / floor:,.2f} |")
    p("")
    p("The exact command lines are in `bench/run.sh`: phoneleak prints every request as JSON "
      "(`--all-requests --format jsonl`), tshark prints every reassembled request line, httpry logs "
      "requests and responses packet by packet, ngrep greps payloads for header names, `cat` only reads "
      "the file, and `floor reqscan` (`../shared/bench/floor`) is the least work a header-leak finder "
      "must do: record walk, flow table and a header-name search over client payloads, without "
      "reassembly or value scanning. The GTP-U rows read the same traffic wrapped by `gtpu_wrap.py` "
      "in GTP-U over one tunnel pair (one base station, one gateway); MB/s there is of the plain file.")
    p("")
    t1, t2 = med.get("phoneleak --threads 1"), med.get("phoneleak --threads 2")
    g1, g2 = med.get("phoneleak --threads 1, GTP-U"), med.get("phoneleak --threads 2, GTP-U")
    httpry = med.get("httpry -r")
    if t1 and t2:
        p(f"- `--threads 1` takes {t1 / floor:.2f}x the floor's time"
          + (f" and {t1 / httpry:.2f}x `httpry -r`'s" if httpry else "") + ".")
        p(f"- `--threads 2` runs at {t1 / t2:.2f}x the single-thread throughput; "
          f"output identical to `--threads 1`: {args.threads_identical}.")
    if g1 and g2 and t1:
        p(f"- GTP-U: `--threads 2` runs at {g1 / g2:.2f}x the single-thread throughput; one thread takes "
          f"{g1 / t1:.2f}x its time on the plain file; output identical to `--threads 1`: "
          f"{args.threads_identical_gtpu}.")
    l1, l2 = med.get("phoneleak --threads 1, TLS 1.3"), med.get("phoneleak --threads 2, TLS 1.3")
    tshark_tls = med.get("tshark -2 (reassembly), TLS 1.3 with the key log")
    if l1 and l2 and t1:
        tls = json.load(open(args.tls_summary))["tls"]
        tls_size = os.path.getsize(args.tls_capture)
        p(f"- TLS 1.3 (AES-128-GCM; the same connections inside TLS, {tls_size / 1e6:,.0f} MB, made by "
          f"`examples/tls_bench.rs`): one thread takes {l1 / t1:.2f}x its time on the plain file, "
          f"decrypting {tls['bytes_decrypted'] / 1e6:,.0f} MB of client records "
          f"({tls['bytes_decrypted'] / 1e6 / l1:,.0f} MB/s of decrypted bytes; {tls['decrypted']:,} of "
          f"{tls['connections']:,} TLS connections decrypted: the others are the capture's own port-443 "
          f"connections, for which there are no keys, and connections already open when it starts)"
          + (f"; tshark with the same key log takes {tshark_tls / l1:,.0f}x as long" if tshark_tls else "")
          + f"; `--threads 2` runs at {l1 / l2:.2f}x one thread; output identical to `--threads 1`: "
          f"{args.threads_identical_tls}.")
    nb = med.get("phoneleak --threads 1, bodies not read")
    if nb and t1:
        cost = 100 * (t1 / nb - 1)
        said = (f"adds {cost:.1f} % to one thread's time" if cost >= 0.5 else
                f"costs nothing measurable ({t1:.3f} s with bodies, {nb:.3f} s without)")
        p(f"- Request bodies (issue 19): reading and parsing the POST bodies {said} "
          f"(`--max-body-bytes 0` reads none).")
    if args.h2 and os.path.exists(args.h2):
        h2 = {r["command"]: statistics.median(r["times"]) for r in json.load(open(args.h2))["results"]}
        same = json.load(open(args.h2_same)) if args.h2_same and os.path.exists(args.h2_same) else None
        if h2.get("HTTP/1.1") and h2.get("h2c"):
            p(f"- HTTP/2 (issue 19): the benchmark capture rewritten as h2c (`examples/h2c_bench.rs`: every "
              f"HTTP/1.x connection as h2c by prior knowledge, the same requests at the same packet times"
              + (f", {same['h2c_connections']:,} HTTP/2 connections" if same else "")
              + f") takes {h2['h2c'] / h2['HTTP/1.1']:.2f}x the plain capture's time with one thread "
              f"({h2['h2c']:.3f} s against {h2['HTTP/1.1']:.3f} s)"
              + (f"; phoneleak reports {same['identical']:,} of {same['requests_plain']:,} requests identically in "
                 f"both, one by one ({same['requests_h2c']:,} in the h2c capture, {same['leaks_plain']:,} and "
                 f"{same['leaks_h2c']:,} findings; `bench/h2c_same.py`)" if same else "") + ".")
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
    p(f"- phoneleak on the GTP-U file: {score_gtpu['matched_requests']:,} of {score_gtpu['truth_requests']:,} "
      f"requests; false leaks {score_gtpu['false_leaks']} (precision {score_gtpu['precision']:.3f}); leak recall "
      + ", ".join(f"{k} {v:.3f}" for k, v in sorted(score_gtpu["recall_by_kind"].items())) + ".")
    tls_score = json.load(open(args.tls_score))
    p(f"- phoneleak on the TLS file: {tls_score['matched_requests']:,} of {tls_score['truth_requests']:,} "
      f"requests; false leaks {tls_score['false_leaks']} (precision {tls_score['precision']:.3f}); "
      f"tshark with the key log finds {int(args.tls_tshark_requests):,}.")
    p(f"- tshark with reassembly: {int(args.tshark_requests):,} requests; "
      f"httpry: {int(args.httpry_requests):,} requests ({100 * int(args.httpry_requests) / score['truth_requests']:.1f} %).")
    p("")
    p(open(args.notes).read().rstrip())
    print("\n".join(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Scores phoneleak's JSON lines against gen_bench.py's truth file.

usage: score.py TRUTH.jsonl PHONELEAK.jsonl   (phoneleak run with --all-requests --show-numbers)
Prints one JSON object: requests found, leak recall and precision by kind.
"""
import collections
import json
import sys


def key(o):
    return (o["src"], o["dst"], o["method"], o["uri"])


def main(truth_path, found_path):
    truth_requests = collections.Counter()
    truth_leaks = collections.Counter()
    truth_kinds = {}
    for line in open(truth_path):
        o = json.loads(line)
        truth_requests[key(o)] += 1
        for leak in o["leaks"]:
            k = (key(o), leak["header"].lower())
            truth_leaks[k] += 1
            truth_kinds[k] = leak["kind"]
    found_requests = collections.Counter()
    found_leaks = collections.Counter()
    for line in open(found_path):
        o = json.loads(line)
        if o.get("type") != "request":
            continue
        found_requests[key(o)] += 1
        for leak in o["leaks"]:
            found_leaks[(key(o), leak["header"].lower())] += 1
    matched_requests = sum((truth_requests & found_requests).values())
    hits = truth_leaks & found_leaks
    by_kind = collections.Counter(truth_kinds[k] for k in truth_leaks.elements())
    hit_kind = collections.Counter(truth_kinds[k] for k in hits.elements())
    false_leaks = sum((found_leaks - truth_leaks).values())
    found_total = sum(found_leaks.values())
    result = {
        "truth_requests": sum(truth_requests.values()),
        "found_requests": sum(found_requests.values()),
        "matched_requests": matched_requests,
        "request_recall": matched_requests / max(1, sum(truth_requests.values())),
        "truth_leaks": dict(by_kind),
        "found_true_leaks": dict(hit_kind),
        "recall_by_kind": {k: hit_kind[k] / n for k, n in by_kind.items()},
        "false_leaks": false_leaks,
        "precision": (found_total - false_leaks) / found_total if found_total else 1.0,
    }
    json.dump(result, sys.stdout, indent=None)
    print()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

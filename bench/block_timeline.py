"""Summarizes `brickc bench --trace-blocks` output (schema brickc-trace-blocks/1): for each
brick kind, over its launches (medians across them), how many blocks ran, how they sat on
the SMs, how long they were resident before their inputs were ready (lead), and when they
ended after the launch's first start: the quantiles, and the median end of blocks that had
their SM to themselves against those that shared it with another block of the launch; and
how many blocks became resident only after the launch's first start (late: a second wave,
waiting for a slot that a block of the launch frees).

usage: block_timeline.py FILE[.gz] [--kind KIND]   (times in us)
"""
import argparse
import gzip
import json
import statistics
from collections import Counter, defaultdict


def quantile(v, q):
    """The lower q-quantile of v (not empty)."""
    s = sorted(v)
    return s[int(q * (len(s) - 1))]


def launch_row(blocks):
    ran = [b for b in blocks if b is not None]
    if not ran:
        return None
    t0 = min(b[1] for b in ran)
    per_sm = Counter(b[4] for b in ran)
    ends = [(b[3] - t0) / 1e3 for b in ran]
    alone = [(b[3] - t0) / 1e3 for b in ran if per_sm[b[4]] == 1]
    shared = [(b[3] - t0) / 1e3 for b in ran if per_sm[b[4]] > 1]
    return {
        "blocks": len(ran),
        "sms": len(per_sm),
        "most_per_sm": max(per_sm.values()),
        "lead": statistics.median((b[1] - b[0]) / 1e3 for b in ran),
        "end_p10": quantile(ends, 0.1),
        "end_p50": quantile(ends, 0.5),
        "end_p90": quantile(ends, 0.9),
        "end_max": max(ends),
        "alone_p50": statistics.median(alone) if alone else None,
        "shared_p50": statistics.median(shared) if shared else None,
        "late": sum(1 for b in ran if b[0] > t0),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--kind", help="only this brick kind")
    a = ap.parse_args()
    opener = gzip.open if a.file.endswith(".gz") else open
    with opener(a.file, "rt") as f:
        trace = json.load(f)
    if trace.get("schema") != "brickc-trace-blocks/1":
        raise SystemExit(f"{a.file}: schema {trace.get('schema')!r}, expected 'brickc-trace-blocks/1'")
    rows = defaultdict(list)
    for launch in trace["launches"]:
        if a.kind and launch["kind"] != a.kind:
            continue
        row = launch_row(launch["blocks"])
        if row:
            rows[launch["kind"]].append(row)
    if not rows:
        raise SystemExit(f"{a.file}: no launch of kind {a.kind!r} ran a block" if a.kind else f"{a.file}: no blocks")
    fields = ["blocks", "sms", "most_per_sm", "lead", "end_p10", "end_p50", "end_p90", "end_max",
              "alone_p50", "shared_p50", "late"]
    print("| kind | launches | " + " | ".join(fields) + " |")
    print("|---" * (len(fields) + 2) + "|")
    for kind in sorted(rows):
        cells = []
        for k in fields:
            v = [r[k] for r in rows[kind] if r[k] is not None]
            m = statistics.median(v) if v else None
            cells.append("-" if m is None else f"{m:g}" if k in ("blocks", "sms", "most_per_sm", "late") else f"{m:.2f}")
        print(f"| {kind} | {len(rows[kind])} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

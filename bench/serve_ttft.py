#!/usr/bin/env python3
"""Time to first token of `brickc serve` for a long prompt, cold and with a shared prefix:
per repetition, a fresh ~--tokens-token prompt of code (its length checked with
/tokenize), then a second prompt with the same text but a different last line (prompt
reuse prefills only the suffix). TTFT = time from the request to the first streamed text
event, greedy, 8 tokens generated. Prints JSON (median and spread over --reps).

Usage: serve_ttft.py BRICKC MODEL [--tokens 2000] [--reps 3] [--parallel 16] [--device cuda]
"""
import argparse
import json
import statistics
import sys
import time
import urllib.request

from serve_parallel import post, start_server


def ttft(url, prompt):
    req = urllib.request.Request(url + "/v1/completions", json.dumps(
        {"prompt": prompt, "max_tokens": 8, "temperature": 0, "stream": True}).encode(),
        {"Content-Type": "application/json"})
    t0 = time.monotonic()
    with urllib.request.urlopen(req, timeout=600) as r:
        for line in r:
            if line.startswith(b"data: ") and b"[DONE]" not in line:
                return time.monotonic() - t0
    raise RuntimeError("no streamed event")


def code(rep, lines):
    return "".join(f"def f_{rep}_{i}(x):\n    return x * {i} + {rep}  # step {i}\n" for i in range(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("brickc")
    ap.add_argument("model")
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=16)
    ap.add_argument("--device", default="cuda")
    a = ap.parse_args()
    srv, url = start_server(a.brickc, a.model, "--device", a.device, "-c", "4096", "--parallel",
                            str(a.parallel))
    try:
        per_line = len(post(url + "/tokenize", {"content": code(0, 10)})["tokens"]) / 10
        lines = int(a.tokens / per_line)
        ttft(url, code("warm", 20))
        cold, shared, n = [], [], 0
        for rep in range(a.reps):
            text = code(rep, lines)
            n = len(post(url + "/tokenize", {"content": text})["tokens"])
            cold.append(ttft(url, text))
            shared.append(ttft(url, text + f"# variant {rep}\n"))
    finally:
        srv.terminate()
        srv.wait(timeout=30)
    stat = lambda v: {"median_s": statistics.median(v), "min_s": min(v), "max_s": max(v)}
    json.dump({"model": a.model.split("/")[-1], "device": a.device, "parallel": a.parallel,
               "prompt_tokens": n, "cold": stat(cold), "shared_prefix": stat(shared)},
              sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Aggregate decode throughput of `brickc serve` with continuous batching: for each P in
--streams, a server with --parallel P gets P concurrent completion requests (distinct
prompts, greedy, --tokens each); aggregate tok/s = generated tokens / wall time of the
burst, over --reps bursts after one warm-up burst (median and spread). Prints JSON.

Usage: serve_parallel.py BRICKC MODEL [--streams 1,2,4,8] [--tokens 64] [--reps 3]
       [--device cpu] [--threads N]
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

for var in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"]:
    os.environ.pop(var, None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body):
    req = urllib.request.Request(url, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)


def start_server(brickc, model, *flags):
    """`brickc serve` on a free port with `flags`, once /health answers: (process, url).
    Its log is dropped: a pipe nobody reads would stall it once full."""
    port = free_port()
    srv = subprocess.Popen([brickc, "serve", "-m", model, "--port", str(port), *flags],
                           stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return srv, url


def burst(url, p, tokens, salt):
    out = [0] * p

    def one(i):
        r = post(url + "/v1/completions",
                 {"prompt": f"# task {salt}-{i}: sort a list of numbers\ndef sort_{i}(xs):\n",
                  "max_tokens": tokens, "temperature": 0})
        out[i] = r["usage"]["completion_tokens"]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(p)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(out) / (time.monotonic() - t0), sum(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("brickc")
    ap.add_argument("model")
    ap.add_argument("--streams", default="1,2,4,8")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    results = []
    for p in [int(x) for x in a.streams.split(",")]:
        srv, url = start_server(a.brickc, a.model, "--device", a.device, "-t", str(a.threads),
                                "-c", "1024", "--parallel", str(p))
        try:
            burst(url, p, a.tokens, "warmup")
            runs = [burst(url, p, a.tokens, f"rep{r}") for r in range(a.reps)]
        finally:
            srv.terminate()
            srv.wait(timeout=30)
        rates = [r for r, _ in runs]
        results.append({"streams": p, "tokens_per_stream": a.tokens,
                        "generated": [n for _, n in runs],
                        "aggregate_tok_s_median": statistics.median(rates),
                        "aggregate_tok_s_min": min(rates), "aggregate_tok_s_max": max(rates)})
        print(json.dumps(results[-1]), file=sys.stderr)
    json.dump({"model": os.path.basename(a.model), "device": a.device, "threads": a.threads,
               "results": results}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()

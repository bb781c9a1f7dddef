#!/usr/bin/env python3
"""Soak test of `brickc serve --parallel P` (issue 13): --clients threads send requests
back to back for --seconds: random prompt lengths (code, up to --max-prompt lines), random
max_tokens, streaming or not, completions or chat, and a share of streams the client hangs
up on at a random time within --drop-within seconds. Every request the client does not drop
must end well (HTTP 200, a finish reason, usage counts that match, a stream's [DONE]); none
may take longer than --timeout. Every --sample seconds the server's host RSS and GPU memory
(the device's used memory) are read. After the soak: the slots all freed (/metrics: nothing
processing or waiting), the server's answers to fixed greedy prompts unchanged from before
the soak, and memory flat: RSS and GPU memory at the end within --rss-slack MB / exactly
equal to the first sample after the warm-up (a quarter of the run). Prints JSON; exit
status 1 when a check fails.

Usage: serve_soak.py BRICKC MODEL [--device cuda] [--parallel 64] [--clients 64]
       [--seconds 540] [-c 2048]
"""
import argparse
import http.client
import json
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

from serve_parallel import post, start_server

FIXED = ["def quicksort(xs):\n", "// binary search in C\nint bsearch(", "class Stack:\n    def"]


def code(rng, lines):
    return "".join(f"def f_{rng.randrange(10**6)}(x):\n    return x * {i} + {rng.randrange(100)}\n"
                   for i in range(lines))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def gpu_mb():
    """The device's used memory (None without a GPU); the server is its only user. Per
    process figures are not used: in a container nvidia-smi may not see the server's pid."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=30).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return float(out[0]) if out else None


def metrics(url):
    text = urllib.request.urlopen(url + "/metrics", timeout=30).read().decode()
    return {ln.split()[0]: float(ln.split()[1]) for ln in text.splitlines()
            if ln and not ln.startswith("#")}


class Client:
    def __init__(self, url, rng, a):
        self.u = urllib.parse.urlparse(url)
        self.rng = rng
        self.a = a

    def one(self):
        """One random request: 'ok', 'dropped' (the client hung up on purpose) or raises."""
        rng, a = self.rng, self.a
        chat = rng.random() < 0.3
        stream = rng.random() < 0.6
        drop = stream and rng.random() < a.drop_share
        max_tokens = rng.randint(1, a.max_tokens)
        text = code(rng, rng.randint(1, a.max_prompt))
        body = {"max_tokens": max_tokens, "temperature": rng.choice([0, 0.8]),
                "seed": rng.randrange(2**31), "stream": stream}
        if chat:
            body["messages"] = [{"role": "user", "content": "Continue this code:\n" + text}]
        else:
            body["prompt"] = text
        path = "/v1/chat/completions" if chat else "/v1/completions"
        c = http.client.HTTPConnection(self.u.hostname, self.u.port, timeout=self.a.timeout)
        try:
            c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            r = c.getresponse()
            if r.status != 200:
                raise RuntimeError(f"HTTP {r.status}: {r.read()[:200]!r}")
            if not stream:
                j = json.loads(r.read())
                finish = j["choices"][0]["finish_reason"]
                n = j["usage"]["completion_tokens"]
                if finish not in ("stop", "length") or n > max_tokens or \
                        (finish == "length" and n != max_tokens):
                    raise RuntimeError(f"finish {finish} with {n} of {max_tokens} tokens")
                return "ok"
            # A dropping client hangs up at a random time within the stream's expected
            # length, not after a number of events: tokens that render as no text (a
            # synthesized model's are often special tokens) send none.
            # hung_up is set before the socket closes (a Timer's own flag only after its
            # function returns: the reader could see the end of the stream first).
            hung_up = threading.Event()

            def hang_up():
                hung_up.set()
                c.sock.shutdown(socket.SHUT_RDWR)

            hangup = threading.Timer(rng.uniform(0.05, a.drop_within), hang_up) if drop else None
            if hangup:
                hangup.start()
            finish = None
            try:
                for line in r:
                    if not line.startswith(b"data: "):
                        continue
                    if line.strip() == b"data: [DONE]":
                        if finish not in ("stop", "length"):
                            raise RuntimeError(f"stream ended with finish reason {finish}")
                        return "ok"
                    choices = json.loads(line[6:]).get("choices")
                    if choices:
                        finish = choices[0].get("finish_reason") or finish
            except (OSError, http.client.HTTPException):
                if hung_up.is_set():
                    return "dropped"
                raise
            if hung_up.is_set():
                return "dropped"
            raise RuntimeError("stream closed before [DONE]")
        finally:
            if drop:
                hangup.cancel()
            c.close()


def greedy(url, prompt):
    return post(url + "/v1/completions", {"prompt": prompt, "max_tokens": 32,
                                          "temperature": 0})["choices"][0]["text"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("brickc")
    ap.add_argument("model")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--parallel", type=int, default=64)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=540)
    ap.add_argument("-c", "--ctx", type=int, default=2048)
    ap.add_argument("--max-prompt", type=int, default=40, help="most code lines (~20 tokens each)")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--drop-share", type=float, default=0.25)
    ap.add_argument("--drop-within", type=float, default=5, help="seconds: latest hang-up")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--sample", type=float, default=5)
    ap.add_argument("--rss-slack", type=float, default=32)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    srv, url = start_server(a.brickc, a.model, "--device", a.device, "-t", str(a.threads),
                            "-c", str(a.ctx), "--parallel", str(a.parallel))
    failures, counts, samples, latencies = [], {"ok": 0, "dropped": 0}, [], []
    lock = threading.Lock()
    try:
        before = [greedy(url, p) for p in FIXED]
        t0 = time.monotonic()
        deadline = t0 + a.seconds

        def client(i):
            cl = Client(url, random.Random(1000 + i), a)
            while time.monotonic() < deadline:
                s = time.monotonic()
                try:
                    kind = cl.one()
                except Exception as e:  # noqa: BLE001 - every failure is a finding
                    with lock:
                        failures.append(f"client {i} at {s - t0:.1f} s: {type(e).__name__}: {e}")
                    continue
                with lock:
                    counts[kind] += 1
                    latencies.append(time.monotonic() - s)

        def sample():
            samples.append({"t": round(time.monotonic() - t0, 1), "rss_mb": rss_mb(srv.pid),
                            "gpu_mb": gpu_mb()})

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(a.clients)]
        for t in threads:
            t.start()
        while time.monotonic() < deadline:
            sample()
            time.sleep(a.sample)
        for t in threads:
            t.join(timeout=a.timeout + 10)
        hung = sum(t.is_alive() for t in threads)
        time.sleep(1)  # the last dropped streams leave at the next step
        m = metrics(url)
        after = [greedy(url, p) for p in FIXED]
        sample()
        alive = srv.poll() is None
    finally:
        srv.terminate()
        try:
            code_ = srv.wait(timeout=60)
        except subprocess.TimeoutExpired:
            srv.kill()
            code_ = "killed after 60 s"

    warm = [s for s in samples if s["t"] >= a.seconds / 4] or samples
    rss0, rss1 = warm[0]["rss_mb"], samples[-1]["rss_mb"]
    gpus = [s["gpu_mb"] for s in warm if s["gpu_mb"] is not None]
    checks = {
        "no_failed_request": not failures,
        "no_hung_client": hung == 0,
        "server_alive_until_stopped": alive,
        "clean_exit": code_ == 0,
        "slots_freed": m.get("brickc_requests_processing", -1) == 0 and
                       m.get("brickc_requests_waiting", -1) == 0,
        "greedy_answers_unchanged": before == after,
        "rss_flat": rss1 - rss0 <= a.rss_slack,
        "gpu_memory_flat": len(set(gpus)) <= 1 and (bool(gpus) or a.device == "cpu"),
    }
    lat = sorted(latencies)
    out = {"model": a.model.split("/")[-1], "device": a.device, "parallel": a.parallel,
           "clients": a.clients, "seconds": a.seconds, "requests": counts,
           "failures": failures[:50], "n_failures": len(failures),
           "latency_s": {"median": statistics.median(lat), "p99": lat[int(0.99 * (len(lat) - 1))],
                         "max": lat[-1]} if lat else None,
           "generated_tokens": m.get("brickc_generated_tokens_total"),
           "rss_mb": {"after_warmup": rss0, "end": rss1, "max": max(s["rss_mb"] for s in samples)},
           "gpu_mb": {"min": min(gpus), "max": max(gpus)} if gpus else None,
           "checks": checks, "samples": samples}
    json.dump(out, sys.stdout, indent=2)
    print()
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""brickc's CPU engine against llama.cpp (llama-cpp-python) on the same GGUF files and cores.

pp512 and tg128 as llama-bench defines them (a 512-token prompt from an empty cache; 128
tokens decoded one at a time from an empty cache); with --depth D, llama-bench's -d: D
random tokens fill the cache, untimed, before each test. The two run in alternating rounds, one
repetition each per round, so that both see the same drift of a shared machine; each
side warms up once first. Reports medians, CVs and the ratio of medians, and writes one
JSON per model.

usage: python bench/cpu_vs_llamacpp.py --brickc build/bin/brickc --out DIR M.gguf ...
(run with the reference venv's python: scripts/venv-path.sh)
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time

import llama_cpp
import numpy as np

N_PROMPT, N_GEN = 512, 128


def stats(v):
    m = statistics.mean(v)
    return {"values": v, "median": statistics.median(v), "mean": m,
            "cv": statistics.pstdev(v) / m if m else 0.0}


def brickc_round(brickc, model, threads, depth, extra):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run([brickc, "bench", "-m", model, "-p", str(N_PROMPT), "-n", str(N_GEN),
                        "-d", str(depth),
                        "--reps", "1", "--warmup", "1", "--device", "cpu", "-t", str(threads),
                        "--json", f.name] + extra, check=True, capture_output=True, text=True)
        d = json.load(open(f.name))
    return d["prefill"]["values"][0], d["decode"]["values"][0], d


class Llama:
    def __init__(self, model, threads, depth):
        self.llm = llama_cpp.Llama(model_path=model, n_ctx=depth + N_PROMPT + N_GEN, n_batch=N_PROMPT,
                                   n_ubatch=N_PROMPT, n_threads=threads,
                                   n_threads_batch=threads, verbose=False)
        rng = np.random.default_rng(0)
        self.prompt = rng.integers(100, self.llm.n_vocab() - 1, N_PROMPT).tolist()
        self.fill = rng.integers(100, self.llm.n_vocab() - 1, depth).tolist()

    def start(self):
        self.llm.reset()
        if self.fill:
            self.llm.eval(self.fill)

    def pp(self):
        self.start()
        t = time.perf_counter()
        self.llm.eval(self.prompt)
        return N_PROMPT / (time.perf_counter() - t)

    def tg(self):
        self.start()
        t = time.perf_counter()
        for i in range(N_GEN):
            self.llm.eval([self.prompt[i]])
        return N_GEN / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--brickc", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--engine", default="int8")
    ap.add_argument("--depth", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    print("| model | test | brickc t/s (CV) | llama.cpp t/s (CV) | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    for model in a.models:
        llama = Llama(model, a.threads, a.depth)
        llama.pp(), llama.tg()  # warm-up
        b_pp, b_tg, l_pp, l_tg = [], [], [], []
        info = None
        for _ in range(a.rounds):
            pp, tg, info = brickc_round(a.brickc, model, a.threads, a.depth, ["--engine", a.engine])
            b_pp.append(pp)
            b_tg.append(tg)
            l_pp.append(llama.pp())
            l_tg.append(llama.tg())
        del llama
        res = {"schema": "brickc-cpu-vs-llamacpp/1", "model": info["model"],
               "brickc_commit": info["brickc_commit"], "device": info["device"],
               "machine": platform.processor() or platform.machine(),
               "llama_cpp_python": llama_cpp.__version__,
               "llama_cpp_system_info": llama_cpp.llama_print_system_info().decode().strip(),
               "threads": a.threads, "rounds": a.rounds, "depth": a.depth,
               "brickc": {"pp512": stats(b_pp), "tg128": stats(b_tg)},
               "llama_cpp": {"pp512": stats(l_pp), "tg128": stats(l_tg)}}
        at = f" @ d{a.depth}" if a.depth else ""
        for test in ("pp512", "tg128"):
            b, l = res["brickc"][test], res["llama_cpp"][test]
            res[f"ratio_{test}"] = b["median"] / l["median"]
            print(f"| {os.path.basename(model)} | {test}{at} | {b['median']:.2f} ({b['cv']:.1%}) | "
                  f"{l['median']:.2f} ({l['cv']:.1%}) | {res[f'ratio_{test}']:.2f}x |", flush=True)
        name = os.path.splitext(os.path.basename(model))[0]
        suffix = f"-d{a.depth}" if a.depth else ""
        with open(os.path.join(a.out, f"{name}-t{a.threads}{suffix}.json"), "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()

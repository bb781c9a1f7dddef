#!/usr/bin/env python3
"""brickc's sampler chain against llama.cpp's own samplers (llama-cpp-python's low-level
API: llama_sampler_init_penalties/top_k/top_p/min_p/temp/dist in a chain, applied to a
llama_token_data_array), on fresh random logits.

For each configuration, one stage at a time and the default chain (with and without
penalties, over a history of accepted tokens), both sides get the same logits and seed:
- the candidates left after the first draw must be the same ids in the same order, with
  probabilities within 1e-7;
- 30 seeded draws from the same logits must give the same tokens (both draw one uniform
  double from std::mt19937 per token and walk the cumulative sums).
Greedy (temp 0) compares the drawn tokens only. Vocabularies of 3000 candidates take
top-p's sort-the-head-first path (> 1024); 60 the plain one. Logits are made distinct, as
the order of exact ties is unspecified in llama.cpp (unstable sorts). BRICKC_SEED fixes
the random seed to replay a run.
"""
import ctypes
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import llama_cpp
import numpy as np

TOOL = Path(os.environ["BRICKC_TEST_BIN"]) / "sample_tool"
DRAWS = 30
TOKEN_DATA = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])
assert TOKEN_DATA.itemsize == ctypes.sizeof(llama_cpp.llama_token_data)

failures = []


def check(ok, msg):
    if not ok:
        failures.append(msg)
        print("FAIL:", msg)


def llama_chain(params, n_vocab):
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    add = lambda s: llama_cpp.llama_sampler_chain_add(chain, s)
    add(llama_cpp.llama_sampler_init_penalties(n_vocab, params["penalty_last_n"], params["penalty_repeat"],
                                               params["penalty_freq"], params["penalty_present"]))
    add(llama_cpp.llama_sampler_init_top_k(params["top_k"]))
    add(llama_cpp.llama_sampler_init_top_p(params["top_p"], params["min_keep"]))
    add(llama_cpp.llama_sampler_init_min_p(params["min_p"], params["min_keep"]))
    add(llama_cpp.llama_sampler_init_temp(params["temp"]))
    add(llama_cpp.llama_sampler_init_dist(params["seed"]))
    return chain


def llama_run(case):
    logits = np.asarray(case["logits"], dtype=np.float32)
    chain = llama_chain(case["params"], len(logits))
    for t in case["history"]:
        llama_cpp.llama_sampler_accept(chain, t)
    tokens, kept = [], None
    for i in range(DRAWS):
        buf = np.zeros(len(logits), dtype=TOKEN_DATA)
        buf["id"] = np.arange(len(logits))
        buf["logit"] = logits
        arr = llama_cpp.llama_token_data_array(
            data=buf.ctypes.data_as(llama_cpp.llama_token_data_p), size=len(logits), selected=-1, sorted=False)
        llama_cpp.llama_sampler_apply(chain, ctypes.byref(arr))
        tokens.append(arr.data[arr.selected].id)
        if i == 0:
            kept = [(arr.data[j].id, arr.data[j].p) for j in range(arr.size)]
    llama_cpp.llama_sampler_free(chain)
    return tokens, kept


def distinct(x):
    """Nudges repeated values up by one ulp: llama.cpp's sorts are unstable, so the order
    of tied logits (and a draw landing on one) would be arbitrary."""
    seen = set()
    for i in range(len(x)):
        while float(x[i]) in seen:
            x[i] = np.nextafter(x[i], np.float32(np.inf))
        seen.add(float(x[i]))
    return x


def same_kept(got, kept):
    """Same ids with the same probabilities position by position; ids may trade places
    only where their probabilities are equal (ties that penalties can still create)."""
    if len(got["ids"]) != len(kept) or sorted(got["ids"]) != sorted(i for i, _ in kept):
        return False
    return all(a == i or p_ours == p for a, p_ours, (i, p) in zip(got["ids"], got["p"], kept))


def configs():
    off = dict(temp=1.0, top_k=0, top_p=1.0, min_p=0.0, min_keep=0, penalty_last_n=64,
               penalty_repeat=1.0, penalty_freq=0.0, penalty_present=0.0)
    default = dict(off, temp=0.8, top_k=40, top_p=0.95, min_p=0.05)
    penal = dict(penalty_last_n=16, penalty_repeat=1.3, penalty_freq=0.1, penalty_present=0.2)
    yield "plain draw", off
    for k in (1, 5, 40, 500):
        yield f"top_k {k}", dict(off, top_k=k)
    for p in (0.3, 0.9, 0.95):
        yield f"top_p {p}", dict(off, top_p=p)
    yield "top_p 0.2 min_keep 7", dict(off, top_p=0.2, min_keep=7)
    for p in (0.05, 0.3):
        yield f"min_p {p}", dict(off, min_p=p)
    yield "min_p 0.9 min_keep 4", dict(off, min_p=0.9, min_keep=4)
    yield "temp 0.6", dict(off, temp=0.6)
    yield "temp 1.7 top_k 20", dict(off, temp=1.7, top_k=20)
    yield "default chain", default
    yield "default chain + penalties", dict(default, **penal)
    yield "top_p 0.8 + penalties", dict(off, top_p=0.8, **penal)
    yield "greedy + penalties", dict(default, temp=0.0, **penal)


def main():
    seed = int(os.environ.get("BRICKC_SEED", time.time()))
    rng = np.random.default_rng(seed)
    print(f"random logits from seed {seed}")
    cases, names = [], []
    for n_vocab, scale in ((60, 1.5), (3000, 2.0), (3000, 0.5)):
        logits = distinct((rng.standard_normal(n_vocab) * scale).astype(np.float32))
        for name, params in configs():
            params = dict(params, seed=int(rng.integers(0, 2**31)))
            history = [int(t) for t in rng.integers(0, min(n_vocab, 50), size=24)]
            cases.append({"logits": logits.tolist(), "params": params, "history": history, "draws": DRAWS})
            names.append(f"{name} (n_vocab {n_vocab}, scale {scale})")

    r = subprocess.run([str(TOOL)], input=json.dumps(cases).encode(), capture_output=True)
    if r.returncode != 0:
        sys.exit(f"sample_tool failed ({r.returncode}): {r.stderr.decode()}")
    ours = json.loads(r.stdout)

    worst_p = 0.0
    n_same_tokens = n_same_kept = 0
    for name, case, got in zip(names, cases, ours):
        tokens, kept = llama_run(case)
        same = got["tokens"] == tokens
        n_same_tokens += same
        check(same, f"{name}: drawn tokens differ: brickc {got['tokens'][:10]}... llama.cpp {tokens[:10]}...")
        if case["params"]["temp"] <= 0:
            continue
        ids = [i for i, _ in kept]
        same = same_kept(got, kept)
        n_same_kept += same
        check(same, f"{name}: kept {len(got['ids'])} ids {got['ids'][:8]}..., llama.cpp {len(ids)} {ids[:8]}...")
        if same:
            d = max(abs(a - b) for a, (_, b) in zip(got["p"], kept))
            worst_p = max(worst_p, d)
            check(d <= 1e-7, f"{name}: probabilities differ by up to {d:.3g}")
    n_kept_cases = sum(c["params"]["temp"] > 0 for c in cases)
    print(f"{len(cases)} cases: drawn tokens equal in {n_same_tokens}/{len(cases)}, kept sets equal in "
          f"{n_same_kept}/{n_kept_cases}, largest probability difference {worst_p:.3g}")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()

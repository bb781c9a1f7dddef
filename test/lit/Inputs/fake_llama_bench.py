#!/usr/bin/env python3
"""Stands in for llama.cpp's llama-bench in lit tests: writes its arguments to the file
FAKE_LLAMA_ARGV names and prints `-o json`'s array with a pp and a tg test at 100 and
50 t/s, reporting the CUDA backend as a GPU build of llama-bench does."""
import json
import os
import sys

args = sys.argv[1:]
with open(os.environ["FAKE_LLAMA_ARGV"], "w") as f:
    f.write(" ".join(args) + "\n")
opt = {args[i]: args[i + 1] for i in range(0, len(args) - 1) if args[i].startswith("-")}
common = {"build_commit": "fake", "backends": "CUDA", "model_type": "qwen2 test",
          "n_depth": int(opt.get("-d", 0))}
print(json.dumps([
    dict(common, n_prompt=int(opt["-p"]), n_gen=0, avg_ts=100.0, stddev_ts=1.0, samples_ts=[99.0, 101.0]),
    dict(common, n_prompt=0, n_gen=int(opt["-n"]), avg_ts=50.0, stddev_ts=0.5, samples_ts=[49.5, 50.5]),
]))

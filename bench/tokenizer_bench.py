#!/usr/bin/env python3
"""Tokenizer speed: MB/s encoding a large source file, brickc next to llama.cpp on the same
bytes and the same GGUF vocabulary. A benchmark, not a test: it prints, asserts nothing
about speed, and only checks that both give the same ids.

  python bench/tokenizer_bench.py --brickc build/bin/brickc -m qwen.gguf [--input FILE]

Without --input the input is the C++ standard library headers of this machine
(/usr/include/c++/*/bits/*.h, real code, a few MB), or test/ref/tokenizer_corpus/
repeated where those are absent. brickc is timed as a process (`brickc tokenize --ids`)
minus the same process on empty input, i.e. the GGUF load and start-up are excluded;
llama.cpp is timed in-process around llama_tokenize. Best of --repeat runs each.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import llama_cpp

ROOT = Path(__file__).resolve().parent.parent


def default_input(limit):
    files = sorted(glob.glob("/usr/include/c++/*/bits/*.h"))
    label = "/usr/include/c++/*/bits/*.h"
    if not files:
        files = sorted(str(p) for p in (ROOT / "test/ref/tokenizer_corpus").iterdir())
        label = "test/ref/tokenizer_corpus (repeated)"
    data = b""
    while len(data) < limit:
        for f in files:
            data += Path(f).read_bytes()
            if len(data) >= limit:
                break
    return data[:limit], label


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def best_time(fn, repeat):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--brickc", default=os.environ.get("BRICKC", str(ROOT / "build/bin/brickc")))
    ap.add_argument("-m", "--model", required=True, help="GGUF with the Qwen2.5 vocabulary")
    ap.add_argument("--input", help="file to tokenize (default: C++ headers, see above)")
    ap.add_argument("--mb", type=float, default=4.0, help="input size for the default input")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the numbers here")
    a = ap.parse_args()

    if a.input:
        data, label = Path(a.input).read_bytes(), a.input
    else:
        data, label = default_input(int(a.mb * 1e6))
    mb = len(data) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "input.txt"
        src.write_bytes(data)
        empty = Path(tmp) / "empty.txt"
        empty.write_bytes(b"")

        def brickc(path):
            r = subprocess.run([a.brickc, "tokenize", "-m", a.model, "-f", str(path), "--ids"],
                               capture_output=True, check=True)
            return r.stdout

        t_empty, _ = best_time(lambda: brickc(empty), a.repeat)
        t_full, out = best_time(lambda: brickc(src), a.repeat)
        ours = json.loads(out.decode())
    t_brickc = t_full - t_empty

    llama = llama_cpp.Llama(a.model, vocab_only=True, verbose=False)
    t_llama, ref = best_time(lambda: llama.tokenize(data, add_bos=False, special=True), a.repeat)

    same = ours == ref
    result = {
        "input": label, "bytes": len(data), "tokens": len(ref),
        "brickc_s": round(t_brickc, 4), "brickc_mb_s": round(mb / t_brickc, 2),
        "brickc_load_s": round(t_empty, 4),
        "llama_cpp_s": round(t_llama, 4), "llama_cpp_mb_s": round(mb / t_llama, 2),
        "llama_cpp_python": llama_cpp.__version__, "same_ids": same,
        "cpu": cpu_name(), "cpus": os.cpu_count(), "loadavg_1m": os.getloadavg()[0],
    }
    print(f"input: {label}, {mb:.2f} MB, {len(ref)} tokens")
    print(f"brickc    : {result['brickc_mb_s']:8.2f} MB/s  ({t_brickc:.3f} s; GGUF load + start-up "
          f"{t_empty:.3f} s excluded)")
    print(f"llama.cpp : {result['llama_cpp_mb_s']:8.2f} MB/s  ({t_llama:.3f} s, llama-cpp-python "
          f"{llama_cpp.__version__})")
    print(f"same ids  : {same}")
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

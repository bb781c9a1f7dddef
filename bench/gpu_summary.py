"""Tabulates `brickc bench` JSON results against llama.cpp's H100 anchors (anchors.md):
decode tok/s, ratio, bytes read per token and the share of the H100's 3.35 TB/s.

usage: gpu_summary.py BRICKC RESULTS_DIR   (RESULTS_DIR holds bench-<size>-<mix>.json)
Bytes per token come from `brickc synth --dry-run` of the same preset and mix: every weight
read once, the LM head's matrix in full, one embedding row when the model is untied.
"""
import json
import re
import subprocess
import sys

ANCHORS = {"0.5b-q4_0": 890, "0.5b-q4_k_m": 859, "1.5b-q4_k_m": 536, "3b-q4_k_m": 394,
           "7b-q4_k_m": 264}
BLOCKS = {"q4_K": (256, 144), "q5_K": (256, 176), "q6_K": (256, 210), "q4_0": (32, 18),
          "q5_0": (32, 22), "q8_0": (32, 34), "f16": (1, 2), "f32": (1, 4)}
PEAK_GBS = 3350


def bytes_per_token(brickc, size, mix):
    plan = subprocess.run([brickc, "synth", "--model", "qwen2.5-coder-" + size, "--quant", mix,
                           "--dry-run"], capture_output=True, text=True, check=True).stdout
    total, tied, embd, embd_row = 0, True, 0, 0
    for line in plan.splitlines():
        m = re.match(r"(\S+)\s+\[([0-9, ]+)\]\s+(\S+)", line)
        if not m:
            continue
        name, shape, dtype = m.groups()
        ne = [int(x) for x in shape.split(",")]
        qk, bb = BLOCKS[dtype]
        row = ne[0] // qk * bb
        rows = 1
        for x in ne[1:]:
            rows *= x
        total += row * rows
        if name == "output.weight":
            tied = False
        if name == "token_embd.weight":
            embd, embd_row = row * rows, row
    return total if tied else total - embd + embd_row


def main():
    brickc, results = sys.argv[1], sys.argv[2]
    print("| model | brickc tg128 tok/s (CV) | llama.cpp tg128 | ratio | prefill pp512 tok/s "
          "| TTFT 512 ms | MB/token | GB/s | % of 3.35 TB/s | GPU MiB (x file+KV) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key, anchor in ANCHORS.items():
        size, mix = key.split("-", 1)
        d = json.load(open(f"{results}/bench-{key}.json"))
        tg, pp = d["decode"]["median"], d["prefill"]["median"]
        b = bytes_per_token(brickc, size, mix)
        gbs = b * tg / 1e9
        mem = d["memory"]
        print(f"| {key} | {tg:.1f} ({100 * d['decode']['cv']:.2f} %) | {anchor} | "
              f"{tg / anchor:.2f}x | {pp:.0f} | {d['ttft_ms']['median']:.0f} | {b / 1e6:.0f} | "
              f"{gbs:.0f} | {100 * gbs / PEAK_GBS:.1f} % | {mem['device_bytes'] / 2**20:.0f} "
              f"({mem['ratio']:.3f}x) |")


if __name__ == "__main__":
    main()

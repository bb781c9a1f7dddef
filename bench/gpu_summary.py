"""Tabulates `brickc bench` JSON results against llama.cpp's H100 anchors (anchors.md): decode
tok/s, ratio, bytes per token (the report's roofline: the bricks' ir::cost), the share of the
H100's 3.35 TB/s, GPU memory, and the brick checks of --verify.

usage: gpu_summary.py RESULTS_DIR   (RESULTS_DIR holds bench-<size>-<mix>.json)
"""
import json
import os
import sys

ANCHORS = {"0.5b-q4_0": 890, "0.5b-q4_k_m": 859, "1.5b-q4_k_m": 536, "3b-q4_k_m": 394,
           "7b-q4_k_m": 264}


def main():
    results = sys.argv[1]
    print("| model | brickc tg128 tok/s (CV, reps) | llama.cpp tg128 | ratio | pp512 tok/s "
          "| TTFT 512 ms | MB/token | GB/s | % of 3.35 TB/s | GPU MiB (x file+KV) "
          "| verify checks (failed) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key, anchor in ANCHORS.items():
        path = f"{results}/bench-{key}.json"
        if not os.path.exists(path):
            continue
        d = json.load(open(path))
        tg, pp, r = d["decode"]["median"], d["prefill"]["median"], d["roofline"]
        mem = d["memory"]
        v = d.get("verify") or {}
        checks = f"{v['checks']} ({v['failures']})" if v else "-"
        print(f"| {key} | {tg:.1f} ({100 * d['decode']['cv']:.2f} %, {d['decode']['n']}) | "
              f"{anchor} | {tg / anchor:.2f}x | {pp:.0f} | {d['ttft_ms']['median']:.0f} | "
              f"{r['decode_bytes_per_token'] / 1e6:.0f} | {r['achieved_gbs']:.0f} | "
              f"{100 * r['achieved_gbs'] / 3350:.1f} % | {mem['device_bytes'] / 2**20:.0f} "
              f"({mem['ratio']:.3f}x) | {checks} |")


if __name__ == "__main__":
    main()

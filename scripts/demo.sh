#!/usr/bin/env bash
# The demo: set up and build, synthesize a Qwen2.5-Coder-0.5B-shaped Q4_K_M model with
# random weights, show what is in it, and generate from it on the GPU if one works, else
# on the CPU.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" >/dev/null
build=${BRICKC_BUILD:-$root/build}
brickc=$build/bin/brickc
work=${BRICKC_DEMO_DIR:-$build/demo}
mkdir -p "$work"
model=$work/qwen2.5-coder-0.5b-q4_k_m.gguf

vocab=()
[ -f "$root/../shared/data/qwen2.5-tokenizer.json" ] && vocab=(--vocab "$root/../shared/data/qwen2.5-tokenizer.json")

echo "== devices"
"$brickc" devices
echo
echo "== synthesize $model"
[ -f "$model" ] || "$brickc" synth --model qwen2.5-coder-0.5b --quant q4_k_m --seed 1 "${vocab[@]}" -o "$model"
"$brickc" inspect -m "$model" | tail -n 12
echo
# The weights are random, so the continuation is not meaningful text: the demo shows the
# pipeline (tokenizer, prefill, decode, streaming, the summary line), not a trained model.
echo "== generate 32 tokens greedily (device: auto)"
"$brickc" run -m "$model" --device auto -n 32 --temp 0 -p 'def quicksort(xs):
    if len(xs) <= 1:
        return xs
'
echo
echo "== one frame of brickc top: where a decode step's time goes, brick by brick (device: auto)"
"$brickc" top -m "$model" --once --steps 8 -t "$(nproc)"

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
# The Qwen2.5 token ids of "def quicksort(xs):\n    if len(xs) <= 1:\n        return xs\n"
# (Hugging Face tokenizers on shared/data/qwen2.5-tokenizer.json); text prompts come with
# the tokenizer. The weights are random, so the continuation is not meaningful text.
echo "== generate 32 tokens greedily (device: auto)"
"$brickc" run -m "$model" --device auto -n 32 \
  --prompt-tokens 750,3974,6860,53322,982,262,421,2422,53322,8,2651,220,16,510,286,470,11943,198

#!/usr/bin/env bash
# Session 40's device call: HEAD ("base") against qkv-l2.patch ("pf"), whose down projection
# prefetches the next layer's QKV weights into L2, at the warps' start (pfs) or at the end of
# the warps with the fewest rows (pfe); README.md. Carries build/devx (and .llama).
# Knobs: MODELS (8-layer files of the A/B, "32b 14b"), AB_END (no A/B run starts after this
# second, 200), FULL=0 (skip the full 32B and the side by side), SIDE=0 (skip the side by
# side only; by default it runs where a variant beat base on an H200, where the bar is),
# LIMIT (its end, 590).
tar xJf build/devx/dev.tar.xz -C /tmp; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/s40-$$; R=$OUT; mkdir -p $M  # a warm machine keeps /tmp: a folder per call
MODELS=${MODELS:-32b 14b}
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
for m in $MODELS; do
  /tmp/v/base synth -t 8 --layers 8 --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null &
done
wait; echo "synth 8L at $SECONDS s"
if [ "${FULL:-1}" = 1 ]; then
  (taskset -c 4-15 /tmp/v/base synth -t 12 --model qwen2.5-coder-32b --quant q4_k_m -o $M/32f.tmp > /dev/null &&
   mv $M/32f.tmp $M/32f.gguf; echo "synth 32b full at $SECONDS s") &
fi
# A variant: its binary and BRICKC_QKV_PF.
bin() { case $1 in base) echo base;; *) echo pf;; esac; }
mode() { case $1 in pfs) echo start;; pfe) echo end;; esac; }
# tg128 of one variant on one file: tg VARIANT FILE [more bench flags]
tg() {
  local v=$1 f=$2; shift 2
  BRICKC_QKV_PF=$(mode $v) BRICKC_CACHE_DIR=/tmp/kc-$v timeout 90 taskset -c 0-3 /tmp/v/$(bin $v) bench -m $f --device cuda \
    -p 16 -n 128 -r 3 --warmup 1 "$@" > /tmp/log 2>&1
  echo "$v $(basename $f) rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' /tmp/log | tr -s ' ')"
}
for round in 1 2; do
  for m in $MODELS; do
    for v in base pfs pfe; do
      [ $SECONDS -lt ${AB_END:-200} ] || break 3
      echo -n "r$round "; tg $v $M/$m.gguf
    done
  done
done
if [ "${FULL:-1}" = 1 ]; then
  wait
  for v in base pfs pfe; do tg $v $M/32f.gguf --json $R/full-32b-$v.json; done
  best=$(python3 -c "import json; r={v: json.load(open('$R/full-32b-' + v + '.json'))['decode']['mean'] for v in ('base', 'pfs', 'pfe')}; print(max(r, key=r.get))" 2> /dev/null || echo base)
  echo "fastest for the side by side: $best"
  nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H200 && [ $best != base ] && side=1 || side=0
  [ "${SIDE:-$side}" = 1 ] || { echo "elapsed $SECONDS s"; exit 0; }
  lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
  BRICKC_QKV_PF=$(mode $best) BRICKC_CACHE_DIR=/tmp/kc-$best timeout $((${LIMIT:-590} - SECONDS)) /tmp/v/$(bin $best) bench -m $M/32f.gguf --device cuda \
    -p 512 -n 128 -r 2 --warmup 1 --llama-bench "$lb" --json $R/compare-32b-$best.json > /tmp/c.log 2>&1
  echo "32b compare rc=$? at $SECONDS s"; grep -E "tg128|pp512|rror" /tmp/c.log | head -6
fi
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1

#!/usr/bin/env bash
# Session 41's device call (README.md): HEAD ("base") against session 40's qkv-l2.patch
# (the down projection prefetches the next QKV's weights into L2: at its warps' start, pfs,
# or at the end of its fewest-row warps, pfe) and evict-first.patch (weight streams copied
# as L2's first lines to evict: ef), alone and together. Carries build/devx (and .llama).
# Knobs: FILES, the A/B's 8-layer files ("32b"; 0: none); AB_END (170); FULL=0 skips the
# full 32B and the side by side, FULL_ROUNDS its rounds (1); SIDE=1 or 0 forces the side by
# side (by default it runs where a variant beat base on an H200, the bar's card); LIMIT, the
# second it must end by (560).
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export OUT MODELS=/tmp/s41-$$  # a warm machine keeps /tmp: a folder per call
export AB_VARIANTS="base=/tmp/v/base ef=/tmp/v/ef pfe=/tmp/v/pf,BRICKC_QKV_PF=end pfs=/tmp/v/pf,BRICKC_QKV_PF=start
  pfe-ef=/tmp/v/pfef,BRICKC_QKV_PF=end pfs-ef=/tmp/v/pfef,BRICKC_QKV_PF=start"
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
[ "${FILES:-32b}" = 0 ] ||
  AB_FILES=$(for m in ${FILES:-32b}; do echo -n "$m:q4_k_m:8 "; done) AB_END=${AB_END:-170} bash bench/gpu_run.sh ab
if [ "${FULL:-1}" = 1 ]; then
  AB_FILES=32b:q4_k_m AB_ROUNDS=${FULL_ROUNDS:-1} AB_END=$((${LIMIT:-560} - 70)) bash bench/gpu_run.sh ab
  # The fastest variant by its first round, and its binary and settings from AB_VARIANTS.
  best=$(python3 -c "
import json, os
r = {}
for v in os.environ['AB_VARIANTS'].split():
    name = v.split('=')[0]
    try: r[name] = json.load(open('$OUT/ab-32b-q4_k_m-' + name + '-r1.json'))['decode']['mean']
    except OSError: pass
print(max(r, key=r.get))" 2> /dev/null || echo base)
  echo "fastest on the full 32B: $best"
  nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H200 && [ "$best" != base ] && side=1 || side=0
  if [ "${SIDE:-$side}" = 1 ]; then
    lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
    spec=$(tr ' ' '\n' <<< "$AB_VARIANTS" | grep "^$best=")
    IFS=, read -ra run <<< "${spec#*=}"
    env "${run[@]:1}" timeout $((${LIMIT:-560} - SECONDS)) "${run[0]}" bench -m $MODELS/32b-q4_k_m.gguf --device cuda \
      -p 512 -n 128 -r 2 --warmup 1 --llama-bench "$lb" --json $OUT/compare-32b-$best.json > /tmp/c.log 2>&1
    echo "32b side by side ($spec) rc=$? at $SECONDS s"; grep -E "tg128|pp512|rror" /tmp/c.log | head -6
  fi
fi
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null  # summary.txt, and the JSON and logs in one archive

#!/usr/bin/env bash
# The next call (README.md): HEAD only, from build/devx/dev.tar.xz (its device bundle).
# On an H200 first tg128 at depth 16,384 and 0 (q8_0 cache) on the 1.5B and 7B, two rounds:
# the depth bar, not measured there since t64 landed. On any card then compute-sanitizer
# (memcheck, racecheck) over the megakernel and the per-brick graph (0.5B shapes, 2 layers,
# a 1,200-token prompt and 8 steps), and the 32B's blocks (8 layers, f16 cache, depth 0):
# the trace stamps of the last profiled step, block by block, and the profile.
# Knobs: LIMIT (the second the call must end by, 560).
tar xJf build/devx/dev.tar.xz -C build
export OUT MODELS=/tmp/s45r5 BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
mkdir -p $MODELS
B=$PWD/build/device/bin L=${LIMIT:-560}
model() { source <(sed -n '/^model()/,/^}/p' bench/gpu_run.sh); model "$@"; }
{
card=$(nvidia-smi --query-gpu=name --format=csv,noheader)
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
if [[ $card == *H200* ]]; then
  q8="--cache-type-k q8_0 --cache-type-v q8_0"
  AB_VARIANTS="head=$B/brickc" AB_FILES="1.5b:q4_k_m 7b:q4_k_m" AB_ARGS="-d 16384 $q8" \
    AB_TAG=d16384-q8 AB_END=150 bash bench/gpu_run.sh ab
  AB_VARIANTS="head=$B/brickc" AB_FILES="1.5b:q4_k_m 7b:q4_k_m" AB_ARGS="-d 0 $q8" \
    AB_TAG=d0-q8 AB_END=60 bash bench/gpu_run.sh ab
fi
f=$(B=$B model 32b q4_k_m 8)
timeout 90 $B/brickc bench -m $f --device cuda -p 16 -n 16 -r 2 --warmup 1 \
  --trace-blocks $OUT/blocks-32b-L8.json --json $OUT/profile-32b-L8.json > $OUT/profile-32b-L8.log 2>&1
echo "32B blocks rc=$? at $SECONDS s"; gzip -f $OUT/blocks-32b-L8.json
# The sanitize step prints each run's header and last lines (its summary) itself.
left=$((L - SECONDS - 10))
[ $left -gt 60 ] && SANITIZE_PROMPT=1200 SANITIZE_ENGINES="megakernel graph" \
  SANITIZE_TOOLS="memcheck racecheck" timeout $left bash bench/gpu_run.sh sanitize
echo "sanitize rc=$? at $SECONDS s"
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null

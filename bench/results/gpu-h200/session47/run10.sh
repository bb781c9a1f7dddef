#!/usr/bin/env bash
# Session 47: "s" (the megakernel's attention without spills: thread-derived values read
# anew per phase, build/devx/dev.tar.xz) against "head" (949b8f0, build/devx/h949.tar.xz).
# On an H200: tg128 at depth 16,384 and 0 (q8_0 cache; 1.5B, 7B; head and s alternating,
# one round), then the full 32B and 14B with s side by side with llama-bench (-p 512 -n 128
# -r 2; synthesized on cores 4-15 meanwhile), then s's GPU tests with the time left.
# On any other card: s's GPU tests first (attention, megakernel, token steps, batches,
# --verify, the trace), then the 32B's blocks (8 layers, --trace-blocks and the profile),
# then the 1.5B and 7B at depth 16,384 (q8_0), head against s.
tar xJf build/devx/dev.tar.xz -C build
mkdir -p /tmp/h && tar xJf build/devx/h949.tar.xz -C /tmp/h
export OUT MODELS=/tmp/s47 BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin M=/tmp/s47; mkdir -p $M
model() { source <(sed -n '/^model()/,/^}/p' bench/gpu_run.sh); model "$@"; }
q8="--cache-type-k q8_0 --cache-type-v q8_0"
ab="head=/tmp/h/device/bin/brickc s=$B/brickc"
tests() {  # tests <seconds>
  timeout $1 $B/brickc_gpu_tests --gtest_filter='GpuBricks.AttentionOverALong*:GpuMegakernel.*:GpuTokenSteps.*:GpuBatch.*:GpuVerify.*:GpuTrace.*' \
    > $OUT/gpu_tests.log 2>&1
  echo "tests rc=$? at $SECONDS s"; grep -E "^\[  (PASSED|FAILED) |FAILED  \]" $OUT/gpu_tests.log | head -8
  grep -cE "^\[       OK \]" $OUT/gpu_tests.log
}
{
card=$(nvidia-smi --query-gpu=name --format=csv,noheader)
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
if [[ $card == *H200* ]]; then
  (for s in 32b 14b; do
     taskset -c 4-15 $B/brickc synth -t 12 --model qwen2.5-coder-$s --quant q4_k_m -o $M/$s.tmp > /dev/null &&
       mv $M/$s.tmp $M/$s-full.gguf; echo "synth $s at $SECONDS s"
   done) &
  AB_VARIANTS="$ab" AB_FILES="1.5b:q4_k_m 7b:q4_k_m" AB_ARGS="-d 16384 $q8" \
    AB_TAG=d16384-q8 AB_ROUNDS=1 AB_END=150 taskset -c 0-3 bash bench/gpu_run.sh ab
  AB_VARIANTS="$ab" AB_FILES="1.5b:q4_k_m 7b:q4_k_m" AB_ARGS="-d 0 $q8" \
    AB_TAG=d0-q8 AB_ROUNDS=1 AB_END=70 taskset -c 0-3 bash bench/gpu_run.sh ab
  lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
  for s in 32b 14b; do
    while [ ! -f $M/$s-full.gguf ] && [ $SECONDS -lt 330 ]; do sleep 2; done
    [ -f $M/$s-full.gguf ] || { echo "no $s file at $SECONDS s"; continue; }
    timeout $((400 - SECONDS)) taskset -c 0-3 $B/brickc bench -m $M/$s-full.gguf --device cuda -p 512 -n 128 -r 2 \
      --warmup 1 --llama-bench "$lb" --json $OUT/compare-$s.json > $OUT/compare-$s.log 2>&1
    echo "$s compare rc=$? at $SECONDS s"; grep -E "tg128|pp512" $OUT/compare-$s.log | head -4
  done
  left=$((430 - SECONDS)); [ $left -gt 30 ] && tests $left
else
  tests 200
  f=$(B=$B model 32b q4_k_m 8)
  timeout 90 $B/brickc bench -m $f --device cuda -p 16 -n 16 -r 2 --warmup 1 \
    --trace-blocks $OUT/blocks-32b-L8.json --json $OUT/profile-32b-L8.json > $OUT/profile-32b-L8.log 2>&1
  echo "32B blocks rc=$? at $SECONDS s"; gzip -f $OUT/blocks-32b-L8.json
  AB_VARIANTS="$ab" AB_FILES="1.5b:q4_k_m 7b:q4_k_m" AB_ARGS="-d 16384 $q8" \
    AB_TAG=d16384-q8 AB_END=$((400 - SECONDS)) bash bench/gpu_run.sh ab
fi
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null

#!/usr/bin/env bash
# Session 42's fourth device call (../README.md), HEAD's build (build/devx/dev.tar.xz, the
# device bundle): the trace test with --trace-blocks' stamps; the 1.5B and 7B's steps block
# by block at depth 16,384 (and the 1.5B's at depth 0) with a q8_0 cache; compute-sanitizer
# over a 1,200-token prompt on the per-brick graph, whose decode attention then merges 19
# splits in one level. Knobs: LIMIT, the second it must end by (480).
tar xJf build/devx/dev.tar.xz -C build
export OUT MODELS=/tmp/s42b-$$ BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
B=build/device/bin
q8="--cache-type-k q8_0 --cache-type-v q8_0"
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
timeout 60 $B/brickc_gpu_tests --gtest_filter='GpuTrace.*' > $OUT/gpu_tests_trace.log 2>&1
echo "trace test rc=$? at $SECONDS s"; grep -E "^\[  (PASSED|FAILED) |FAILED  \]|Failure" $OUT/gpu_tests_trace.log | head -8
mkdir -p $MODELS
for spec in 1.5b:16384 7b:16384 1.5b:0; do
  m=${spec%%:*} d=${spec##*:} f=$MODELS/$m.gguf
  [ -f $f ] || $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $f > /dev/null
  timeout 90 $B/brickc bench -m $f --device cuda -p 16 -n 16 -r 2 --warmup 1 -d $d $q8 \
    --trace-blocks $OUT/blocks-$m-d$d.json --json $OUT/profile-$m-d$d.json > $OUT/profile-$m-d$d.log 2>&1
  echo "$m d$d rc=$? at $SECONDS s: $(grep -E 'tg16' $OUT/profile-$m-d$d.log | tr -s ' ')"
done
SANITIZE_PROMPT=1200 SANITIZE_ENGINES=graph timeout $((${LIMIT:-480} - SECONDS - 10)) bash bench/gpu_run.sh sanitize
echo "sanitize rc=$? at $SECONDS s"
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null

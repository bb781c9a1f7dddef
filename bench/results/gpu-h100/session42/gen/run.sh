#!/usr/bin/env bash
# Session 42's fifth device call (../README.md): the one-level merge whose counter is reset
# by the last arrival, which advances a generation the merging blocks wait on ("gen", the
# working tree), against HEAD's count of merging blocks leaving ("base", 94801af), at depth
# 16,384 and 0 with a q8_0 cache on the 1.5B and the 7B. Carries build/devx: dev.tar.xz (the
# device bundle of the gen build: its GPU tests) and v.tar.xz (stripped base and gen).
# Knobs: ROUNDS (2), LIMIT, the second it must end by (360).
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export OUT MODELS=/tmp/s42g-$$ BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
export AB_VARIANTS="base=/tmp/v/base gen=/tmp/v/gen" AB_FILES="1.5b:q4_k_m 7b:q4_k_m" AB_ROUNDS=${ROUNDS:-2}
q8="--cache-type-k q8_0 --cache-type-v q8_0"
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
timeout 90 build/device/bin/brickc_gpu_tests --gtest_filter='GpuBricks.AttentionOverALong*' > $OUT/gpu_tests_long.log 2>&1
echo "long-cache tests rc=$? at $SECONDS s"; grep -E "^\[  (PASSED|FAILED) |FAILED  \]" $OUT/gpu_tests_long.log | head -6
for d in 16384 0; do
  AB_ARGS="-d $d $q8" AB_TAG=d$d-q8 AB_END=$((${LIMIT:-360} - 60 - SECONDS)) bash bench/gpu_run.sh ab
done
timeout 40 /tmp/v/gen bench -m $MODELS/1.5b-q4_k_m.gguf --device cuda -p 16 -n 16 -r 2 --warmup 1 -d 16384 $q8 \
  --trace-blocks $OUT/blocks-1.5b-d16384-gen.json > $OUT/profile-1.5b-d16384-gen.log 2>&1
echo "blocks rc=$? at $SECONDS s"
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null

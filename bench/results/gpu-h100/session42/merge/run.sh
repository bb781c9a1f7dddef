#!/usr/bin/env bash
# Session 42's second device call (../README.md): decode attention's one-level merge ("wide", the
# working tree's kernels) against HEAD's two levels ("base"), at depth 0 and 16,384 with a
# q8_0 cache on the 1.5B and the 7B. Carries build/devx: dev.tar.xz (the device bundle of the
# wide build: its GPU tests) and v.tar.xz (stripped brickc binaries base and wide).
# Knobs: ROUNDS (2), FILES ("1.5b:q4_k_m 7b:q4_k_m"), LIMIT, the second it must end by (560).
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export OUT MODELS=/tmp/s42-$$ BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
export AB_VARIANTS="base=/tmp/v/base wide=/tmp/v/wide" AB_FILES=${FILES:-"1.5b:q4_k_m 7b:q4_k_m"} AB_ROUNDS=${ROUNDS:-2}
q8="--cache-type-k q8_0 --cache-type-v q8_0"
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
# The merge's correctness first: attention over long caches (every split count and merge)
# against the CPU reference.
timeout 120 build/device/bin/brickc_gpu_tests --gtest_filter='GpuBricks.AttentionOverALong*' > $OUT/gpu_tests_long.log 2>&1
echo "long-cache tests rc=$? at $SECONDS s"; grep -E "^\[  (PASSED|FAILED) |FAILED  \]|mean KL" $OUT/gpu_tests_long.log | head -12
for d in 0 16384; do
  AB_ARGS="-d $d $q8" AB_TAG=d$d-q8 AB_END=$((${LIMIT:-560} - 200)) bash bench/gpu_run.sh ab
done
# Where the step goes at depth 16,384 with the one-level merge (per-brick profile).
f=$MODELS/1.5b-q4_k_m.gguf
[ -f $f ] && timeout 60 /tmp/v/wide bench -m $f --device cuda -p 16 -n 64 -r 3 --warmup 1 -d 16384 $q8 --profile \
  --json $OUT/profile-1.5b-d16384-wide.json > $OUT/profile.log 2>&1
echo "profile rc=$? at $SECONDS s"; grep -E "attention|rope|step" $OUT/profile.log | head -8
# The rest of the tests that run attention, as time allows.
timeout $((${LIMIT:-560} - SECONDS - 15)) build/device/bin/brickc_gpu_tests \
  --gtest_filter='GpuTokenSteps.*:GpuMegakernel.*:GpuBatch.*' > $OUT/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s"; grep -E "^\[  (PASSED|FAILED) |FAILED  \]|tests ran" $OUT/gpu_tests.log | head -12
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null

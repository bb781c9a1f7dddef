#!/usr/bin/env bash
# Decode attention with one block per SM (README.md, alone.patch): HEAD ("head") against
# alone.patch's binary ("x"), its variants switched by the environment:
#   s1a: BRICKC_ATTN_SPLITS=sm (at most sms / nkv splits: 128 blocks on the 1.5B, 132 on the
#        7B at depth 16,384) and BRICKC_ATTN_ALONE=1 (each block asks for more than half an
#        SM's shared memory, so no two share an SM);
#   s1r: the same splits and BRICKC_ATTN_RING=122880 (a ring of 7 K/V stages of a q8_0 cache,
#        121,856 bytes: alone too, and a 4-tile split's tiles all in flight at once).
# The long-cache attention tests of both (against the CPU reference), then tg128 at depth
# 16,384 and 0 with a q8_0 cache on the 1.5B and 7B, two rounds.
# Carries build/devx: dev.tar.xz (HEAD's device bundle), v.tar.xz (head), x.tar.xz.
# Knobs: ROUNDS (2), D16_SECONDS (200), D0_SECONDS (90).
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v
tar xJf build/devx/v.tar.xz -C /tmp/v head; tar xJf build/devx/x.tar.xz -C /tmp/v
export OUT MODELS=/tmp/s45x BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
export AB_ROUNDS=${ROUNDS:-2} AB_FILES="1.5b:q4_k_m 7b:q4_k_m"
mkdir -p $MODELS
X=/tmp/v/x
s1a="BRICKC_ATTN_SPLITS=sm BRICKC_ATTN_ALONE=1" s1r="BRICKC_ATTN_SPLITS=sm BRICKC_ATTN_RING=122880"
export AB_VARIANTS="head=/tmp/v/head s1a=$X,${s1a// /,} s1r=$X,${s1r// /,}"
q8="--cache-type-k q8_0 --cache-type-v q8_0"
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
for v in s1a s1r; do
  env ${!v} timeout 100 $X-tests --gtest_filter='GpuBricks.AttentionOverALong*' > $OUT/gpu_tests_$v.log 2>&1
  echo "$v tests rc=$? at $SECONDS s"
  grep -E "^\[  (PASSED|FAILED) |FAILED  \]" $OUT/gpu_tests_$v.log | head -6
done
AB_ARGS="-d 16384 $q8" AB_TAG=d16384-q8 AB_END=${D16_SECONDS:-200} bash bench/gpu_run.sh ab
AB_ARGS="-d 0 $q8" AB_TAG=d0-q8 AB_END=${D0_SECONDS:-90} bash bench/gpu_run.sh ab
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null

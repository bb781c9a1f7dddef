#!/usr/bin/env bash
# Decode attention at depth (README.md): HEAD ("head") against
#   pa:  every stage of the K/V ring filled before the wait for the inputs (the patch of
#        pa.patch), so that a split of up to 3 tiles (the 1.5B's at depth 16,384) has its
#        whole cache in flight when its inputs are ready;
#   pa5: pa with session 45's alone.patch (pax.patch is both) and BRICKC_ATTN_RING=87040, a
#        ring of 5 stages of a q8_0 cache's tiles (2 blocks an SM still fit): the 7B's splits
#        of 5 tiles at depth 16,384 have all of their cache in flight too;
#   s1r: pax with BRICKC_ATTN_SPLITS=sm and BRICKC_ATTN_RING=122880 (session 45's s1r: sms /
#        nkv splits, a 7-stage ring, blocks of more than half an SM's shared memory).
# First pa's GPU tests that run attention (against the CPU reference, and the megakernel
# against the graph) and pa5's and s1r's long-cache tests, then tg128 at depth 16,384 and 0
# with a q8_0 cache on the 1.5B and 7B, two rounds.
# Carries build/devx: dev.tar.xz (HEAD's device bundle), v.tar.xz (head), p.tar.xz (pa's
# binary and tests), q.tar.xz (pax's). Knobs: ROUNDS (2), D16_SECONDS (240), D0_SECONDS (110).
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v
for t in v p q; do tar xJf build/devx/$t.tar.xz -C /tmp/v; done
export OUT MODELS=/tmp/s46 BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
export AB_ROUNDS=${ROUNDS:-2} AB_FILES="1.5b:q4_k_m 7b:q4_k_m"
mkdir -p $MODELS
pa5="BRICKC_ATTN_RING=87040" s1r="BRICKC_ATTN_SPLITS=sm BRICKC_ATTN_RING=122880"
export AB_VARIANTS="head=/tmp/v/head pa=/tmp/v/pa pa5=/tmp/v/pax,$pa5 s1r=/tmp/v/pax,${s1r// /,}"
q8="--cache-type-k q8_0 --cache-type-v q8_0"
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
timeout 150 /tmp/v/pa-tests --gtest_filter='GpuBricks.Attention*:GpuMegakernel.*:GpuTokenSteps.*' > $OUT/gpu_tests_pa.log 2>&1
echo "pa tests rc=$? at $SECONDS s"
grep -E "^\[  (PASSED|FAILED) |FAILED  \]" $OUT/gpu_tests_pa.log | head -8
for v in pa5 s1r; do
  env ${!v} timeout 100 /tmp/v/pax-tests --gtest_filter='GpuBricks.AttentionOverALong*' > $OUT/gpu_tests_$v.log 2>&1
  echo "$v tests rc=$? at $SECONDS s"
  grep -E "^\[  (PASSED|FAILED) |FAILED  \]" $OUT/gpu_tests_$v.log | head -6
done
AB_ARGS="-d 16384 $q8" AB_TAG=d16384-q8 AB_END=${D16_SECONDS:-240} bash bench/gpu_run.sh ab
AB_ARGS="-d 0 $q8" AB_TAG=d0-q8 AB_END=${D0_SECONDS:-110} bash bench/gpu_run.sh ab
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null

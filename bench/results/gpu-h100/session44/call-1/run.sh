#!/usr/bin/env bash
# Session 44's device call (README.md): session 43's three attention changes (mono, s1, t64;
# ../session43/) and "pf" (mono.patch then pf.patch: decode attention's blocks fetch the
# layer's gate/up weights into L2), against HEAD ("base"): each tree's long-cache tests,
# then tg128 at depth 16,384 and 0 with a q8_0 cache on the 1.5B and 7B, and base, mono and
# pf at depth 0 on an 8-layer 32B (an f16 cache). Carries build/devx:
# dev.tar.xz (the device bundle of mono's tree) and v.tar.xz (stripped brickc binaries base,
# mono, s1, t64, pf, and the GPU tests of s1, t64 and pf as s1-tests, t64-tests, pf-tests).
# Knobs: ROUNDS (2), FILES ("1.5b:q4_k_m 7b:q4_k_m"), VARIANTS (all five); the depth-16,384
# A/B starts no run after D16_SECONDS (200), the depth-0 one after D0_SECONDS (120), the
# 32B's after 90 (its synthesis counts).
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export OUT MODELS=/tmp/s44-$$ BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
all="base=/tmp/v/base mono=/tmp/v/mono s1=/tmp/v/s1 t64=/tmp/v/t64 pf=/tmp/v/pf"
export AB_VARIANTS=${VARIANTS:-$all} AB_FILES=${FILES:-"1.5b:q4_k_m 7b:q4_k_m"} AB_ROUNDS=${ROUNDS:-2}
B=build/device/bin
q8="--cache-type-k q8_0 --cache-type-v q8_0"
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
# Correctness first: attention over long caches (every split count, both merges) against
# the CPU reference, in each tree (pf holds mono).
for t in pf=/tmp/v/pf-tests s1=/tmp/v/s1-tests t64=/tmp/v/t64-tests; do
  timeout 120 ${t#*=} --gtest_filter='GpuBricks.AttentionOverALong*' > $OUT/gpu_tests_long_${t%%=*}.log 2>&1
  echo "${t%%=*} long-cache tests rc=$? at $SECONDS s"
  grep -E "^\[  (PASSED|FAILED) |FAILED  \]" $OUT/gpu_tests_long_${t%%=*}.log | head -6
done
AB_ARGS="-d 16384 $q8" AB_TAG=d16384-q8 AB_END=${D16_SECONDS:-200} bash bench/gpu_run.sh ab
AB_ARGS="-d 0 $q8" AB_TAG=d0-q8 AB_END=${D0_SECONDS:-120} bash bench/gpu_run.sh ab
AB_VARIANTS="base=/tmp/v/base mono=/tmp/v/mono pf=/tmp/v/pf" AB_FILES=32b:q4_k_m:8 AB_ROUNDS=1 AB_END=90 \
  bash bench/gpu_run.sh ab
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null

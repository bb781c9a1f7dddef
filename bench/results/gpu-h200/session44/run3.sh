#!/usr/bin/env bash
# Session 44's third call (README.md): HEAD (splits of whole tiles, "head") against two more
# ways to size decode attention's splits, "s1t64" (HEAD and ../session43/s1.patch, one
# (KV head, split) block an SM) and "t128" (HEAD and t128.patch, splits of more than one
# tile take whole pairs), and against "cv100" (HEAD and cv100.patch: every kernel asks for
# the largest shared-memory carveout). Their tests, tg128 at depth 16,384 and 0 with a q8_0
# cache on the 1.5B and 7B, head and cv100 on an 8-layer 32B (f16 cache), then
# compute-sanitizer (memcheck, racecheck) over HEAD's megakernel and per-brick graph.
# Carries build/devx: dev.tar.xz (HEAD's device bundle) and v.tar.xz (stripped brickc
# binaries head, s1t64, t128, cv100 and the GPU tests of the last three).
# Knobs: ROUNDS (2), FILES ("1.5b:q4_k_m 7b:q4_k_m"), D16_SECONDS (200), D0_SECONDS (100),
# LIMIT (the second the call must end by, 540).
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export OUT MODELS=/tmp/s44c3-$$ BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
export AB_VARIANTS="head=/tmp/v/head s1t64=/tmp/v/s1t64 t128=/tmp/v/t128 cv100=/tmp/v/cv100"
export AB_FILES=${FILES:-"1.5b:q4_k_m 7b:q4_k_m"} AB_ROUNDS=${ROUNDS:-2}
q8="--cache-type-k q8_0 --cache-type-v q8_0"
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
# cv100 changes no kernel, only where blocks may run: its token-step and batch tests.
for t in s1t64:'GpuBricks.AttentionOverALong*' t128:'GpuBricks.AttentionOverALong*' \
         cv100:'GpuTokenSteps.*:GpuBatch.*'; do
  n=${t%%:*}
  timeout 120 /tmp/v/$n-tests --gtest_filter="${t#*:}" > $OUT/gpu_tests_$n.log 2>&1
  echo "$n tests rc=$? at $SECONDS s"
  grep -E "^\[  (PASSED|FAILED) |FAILED  \]" $OUT/gpu_tests_$n.log | head -6
done
AB_ARGS="-d 16384 $q8" AB_TAG=d16384-q8 AB_END=${D16_SECONDS:-200} bash bench/gpu_run.sh ab
AB_ARGS="-d 0 $q8" AB_TAG=d0-q8 AB_END=${D0_SECONDS:-100} bash bench/gpu_run.sh ab
AB_VARIANTS="head=/tmp/v/head cv100=/tmp/v/cv100" AB_FILES=32b:q4_k_m:8 AB_END=80 bash bench/gpu_run.sh ab
left=$((${LIMIT:-540} - SECONDS - 10))
if [ $left -gt 60 ]; then
  SANITIZE_PROMPT=1200 SANITIZE_ENGINES="megakernel graph" SANITIZE_TOOLS="memcheck racecheck" \
    timeout $left bash bench/gpu_run.sh sanitize > $OUT/sanitize-run.log 2>&1
  echo "sanitize rc=$? at $SECONDS s"; grep -E "^---|ERROR SUMMARY|RACECHECK SUMMARY|exit status" $OUT/sanitize.log
fi
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null

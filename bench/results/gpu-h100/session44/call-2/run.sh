#!/usr/bin/env bash
# Session 44's second call (README.md), on the warm machine of the first: every GPU test of
# the t64 tree (../../../gpu-h200/session43/ mono.patch then t64.patch), then t64's block
# trace and profile of the 1.5B at depth 16,384 (q8_0 cache). Carries build/devx as call 1.
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export LD_LIBRARY_PATH=$PWD/build/device/lib BRICKC_REQUIRE_GPU=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 400 /tmp/v/t64-tests > $OUT/gpu_tests_t64.log 2>&1
echo "t64 tests rc=$? at $SECONDS s"
grep -E "^\[  (PASSED|FAILED) |FAILED  \]|tests ran" $OUT/gpu_tests_t64.log | head -20
f=$(ls /tmp/s44-*/1.5b-q4_k_m.gguf | head -1)  # call 1's file, still on the machine
[ -f "$f" ] && timeout 60 /tmp/v/t64 bench -m $f --device cuda -p 16 -n 16 -r 2 --warmup 1 -d 16384 \
  --cache-type-k q8_0 --cache-type-v q8_0 --trace-blocks $OUT/blocks-1.5b-d16384-t64.json \
  --json $OUT/profile-1.5b-d16384-t64.json > $OUT/profile.log 2>&1
echo "blocks rc=$? at $SECONDS s"

#!/usr/bin/env bash
# GPU continuous batching at the session's final code: `serve --parallel P` aggregate decode
# and the 2,000-token time to first token on the 7B Q4_K_M, then every GPU test but
# GpuModels (which needs the synthesized full models). Carry build/device; results in $OUT/r.tgz.
set -uo pipefail
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
R=$OUT/r
mkdir -p "$R"
export BRICKC_CACHE_DIR=/tmp/kc BRICKC_REQUIRE_GPU=1
pack() { tar czf "$OUT/r.tgz" -C "$OUT" r; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv > "$R/gpu.txt"
OUT=$R MODELS=/tmp/models timeout 330 bash bench/gpu_run.sh serve > "$R/serve-run.log" 2>&1
pack
timeout 250 "$B/brickc_gpu_tests" --gtest_filter="${TESTS:--GpuModels.*}" > "$R/tests.log" 2>&1
echo "rc=$?" >> "$R/tests.log"
pack

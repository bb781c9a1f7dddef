#!/usr/bin/env bash
# GPU continuous batching, first run: the batch tests (GpuBatch: mixed sequences vs the CPU
# reference and vs each alone, bit for bit; GpuTokenSteps: T-token bricks, whose steps of at
# most 64 tokens now run gemm_dq) and `serve --parallel P` aggregate decode on the 7B
# Q4_K_M (P = 1 is the one-sequence decode graph). Carry build/device; results in $OUT/r.tgz.
set -uo pipefail
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
R=$OUT/r
mkdir -p "$R"
export BRICKC_CACHE_DIR=/tmp/kc BRICKC_REQUIRE_GPU=1
pack() { tar czf "$OUT/r.tgz" -C "$OUT" r; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv > "$R/gpu.txt"
timeout 300 "$B/brickc_gpu_tests" --gtest_filter="${TESTS:-GpuBatch.*:GpuTokenSteps.*}" > "$R/tests.log" 2>&1
echo "rc=$?" >> "$R/tests.log"
pack
OUT=$R MODELS=/tmp/models SERVE_STREAMS=${STREAMS:-1,4,16,64} timeout 400 bash bench/gpu_run.sh serve > "$R/serve-run.log" 2>&1
pack
# Per-kernel times of the 7B-shaped batch steps (one layer), for where a step goes.
if [[ -n ${NCU:-} ]]; then
  command -v ncu > /dev/null || PATH+=:/usr/local/cuda/bin
  timeout 150 ncu --clock-control none -k 'regex:gemm_dq|gemm_reduce|batch_attention|argmax_rows|prefill_prep|rope_kv' -c 60 \
    --metrics gpu__time_duration.sum "$B/brickc_gpu_tests" --gtest_filter=GpuBatch.Qwen7BEachSequenceAsAlone > "$R/ncu.log" 2>&1
  pack
fi


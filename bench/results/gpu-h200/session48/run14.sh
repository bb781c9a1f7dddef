#!/usr/bin/env bash
# fball (BRICKC_FEWEST_BLOCKS=all, build/devx/fb.tar.xz) against head (build/devx/dev.tar.xz)
# on every size, and fb-tests under fball (README.md, "Next"): session 48's H100 calls ran
# fball on the 7B only for three rounds (+0.8 %) and one round on the 32B and 14B L8.
# 1. fb-tests under fball: the megakernel, token steps, bricks, batches, --verify;
# 2. tg128 (-p 16 -n 128 -r 3), head, fball and pa (pa.patch, build/devx/pa.tar.xz: the
#    normalizing prologues before the weights' prime) alternating, two rounds: 0.5B, 1.5B,
#    3B, 7B, and 8 layers of the 14B and 32B;
# 3. the 32B's blocks under pa (--trace-blocks): its QKV and gate/up prologues, against
#    ../../gpu-h100/session48/call-1/blocks-32b-L8-fb4.json.gz.
tar xJf build/devx/dev.tar.xz -C build
mkdir -p /tmp/fb && tar xJf build/devx/fb.tar.xz -C /tmp/fb && tar xJf build/devx/pa.tar.xz -C /tmp/fb
export OUT MODELS=/tmp/s48 BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin X=/tmp/fb; mkdir -p $MODELS
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
# The files, made by bench/gpu_run.sh's synth step on cores 4-15 while the tests run.
SYNTH_FILES="32b:q4_k_m:8 14b:q4_k_m:8 0.5b:q4_k_m 1.5b:q4_k_m 3b:q4_k_m 7b:q4_k_m" \
  taskset -c 4-15 bash bench/gpu_run.sh synth &
BRICKC_FEWEST_BLOCKS=all timeout 240 $X/fb-tests \
  --gtest_filter='GpuMegakernel.*:GpuTokenSteps.*:GpuBricks.*:GpuBatch.*:GpuVerify.*' > $OUT/gpu_tests_fball.log 2>&1
echo "fball tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK \]' $OUT/gpu_tests_fball.log) ok"
grep -E "FAILED  \]|PASSED" $OUT/gpu_tests_fball.log | head -5
wait
AB_VARIANTS="head=$B/brickc fball=$X/fb,BRICKC_FEWEST_BLOCKS=all pa=$X/pa" \
  AB_FILES="0.5b:q4_k_m 1.5b:q4_k_m 3b:q4_k_m 7b:q4_k_m 14b:q4_k_m:8 32b:q4_k_m:8" \
  AB_END=$((510 - SECONDS)) taskset -c 0-3 bash bench/gpu_run.sh ab
timeout 45 $X/pa bench -m $MODELS/32b-q4_k_m-L8.gguf --device cuda -p 16 -n 16 -r 2 --warmup 1 \
  --trace-blocks $OUT/blocks-32b-L8-pa.json --json $OUT/profile-32b-L8-pa.json > $OUT/profile-32b-L8-pa.log 2>&1
echo "32B blocks pa rc=$? at $SECONDS s"; gzip -f $OUT/blocks-32b-L8-pa.json
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null

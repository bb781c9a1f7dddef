#!/usr/bin/env bash
# Session 43's device call (README.md): decode attention's one-level merge on a count that is
# never reset ("mono", mono.patch), and that with one (KV head, split) block an SM ("s1",
# mono.patch then s1.patch) or with splits of whole tiles ("t64", mono.patch then
# t64.patch), against HEAD ("base"): their long-cache tests, tg128 at depth
# 16,384 and 0 with a q8_0 cache on the 1.5B and 7B, mono's steps block by block, then
# compute-sanitizer and the other GPU tests of mono's tree as time allows. Carries
# build/devx: dev.tar.xz (the device bundle of mono's tree) and v.tar.xz (stripped brickc
# binaries base, mono, s1 and t64, and the GPU tests of s1 and t64 as s1-tests, t64-tests).
# Knobs: ROUNDS (2), FILES ("1.5b:q4_k_m 7b:q4_k_m"), SANITIZE=0 skips compute-sanitizer,
# LIMIT, the second it must end by (560).
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export OUT MODELS=/tmp/s43-$$ BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
export AB_VARIANTS="base=/tmp/v/base mono=/tmp/v/mono s1=/tmp/v/s1 t64=/tmp/v/t64" AB_FILES=${FILES:-"1.5b:q4_k_m 7b:q4_k_m"}
export AB_ROUNDS=${ROUNDS:-2}
B=build/device/bin
q8="--cache-type-k q8_0 --cache-type-v q8_0"
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
# Correctness first: attention over long caches (every split count, both merges) against
# the CPU reference, in each tree.
for t in mono=$B/brickc_gpu_tests s1=/tmp/v/s1-tests t64=/tmp/v/t64-tests; do
  timeout 120 ${t#*=} --gtest_filter='GpuBricks.AttentionOverALong*' > $OUT/gpu_tests_long_${t%%=*}.log 2>&1
  echo "${t%%=*} long-cache tests rc=$? at $SECONDS s"
  grep -E "^\[  (PASSED|FAILED) |FAILED  \]" $OUT/gpu_tests_long_${t%%=*}.log | head -6
done
for d in 16384 0; do
  AB_ARGS="-d $d $q8" AB_TAG=d$d-q8 AB_END=$((${LIMIT:-560} - 260)) bash bench/gpu_run.sh ab
done
# Where mono's merge ends against its last arrival (bench/block_timeline.py reads these).
f=$MODELS/1.5b-q4_k_m.gguf
[ -f $f ] && timeout 60 /tmp/v/mono bench -m $f --device cuda -p 16 -n 16 -r 2 --warmup 1 -d 16384 $q8 \
  --trace-blocks $OUT/blocks-1.5b-d16384-mono.json --json $OUT/profile-1.5b-d16384-mono.json > $OUT/profile.log 2>&1
echo "blocks rc=$? at $SECONDS s"
# The merge under compute-sanitizer: a 1,200-token prompt, then decode steps whose attention
# merges 19 splits in one level on the per-brick graph.
if [ "${SANITIZE:-1}" = 1 ]; then
  SANITIZE_PROMPT=1200 SANITIZE_ENGINES=graph \
    timeout $((${LIMIT:-560} - SECONDS - 100)) bash bench/gpu_run.sh sanitize > $OUT/sanitize.log 2>&1
  echo "sanitize rc=$? at $SECONDS s"; grep -E "SUMMARY" $OUT/sanitize.log
fi
timeout $((${LIMIT:-560} - SECONDS - 15)) $B/brickc_gpu_tests \
  --gtest_filter='GpuTokenSteps.*:GpuMegakernel.*:GpuBatch.*' > $OUT/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s"; grep -E "^\[  (PASSED|FAILED) |FAILED  \]" $OUT/gpu_tests.log | head -12
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null

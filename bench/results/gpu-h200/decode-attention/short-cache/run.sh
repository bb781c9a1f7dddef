#!/usr/bin/env bash
# What made this folder's files (one device call, 2026-12-03): decode tg128 of this tree
# (build/device, decode attention with a block per query head on short caches) against
# 253d6f4 (.llama/old-brickc, built as ../run.sh says), alternating; the per-brick profile;
# the GPU tests; the sanitizers on the 2-layer 0.5B (80- and 1,200-token prompts).
# before/: the call before, same protocol, of the tree without the per-head blocks
# ("pnew") and with 32-position tiles ("pt32") against 253d6f4 ("pold").
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
for m in 0.5b 1.5b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m-q4_k_m.gguf > /dev/null; done
run() { # tag binary model depth [extra]
  timeout 60 $2 bench -m $M/$3-q4_k_m.gguf --device cuda -p 16 -n 128 -r 5 --warmup 3 -d $4 $5 --json $OUT/r/$1.json > $OUT/r/$1.log 2>&1
  echo "$1: $(grep 'tg128' $OUT/r/$1.log | head -1)"
}
{
for i in 1 2; do run old05-$i .llama/old-brickc 0.5b 0; run new05-$i $B/brickc 0.5b 0; done
for i in 1 2; do run old15-$i .llama/old-brickc 1.5b 0; run new15-$i $B/brickc 1.5b 0; done
run new15-d512 $B/brickc 1.5b 512; run old15-d512 .llama/old-brickc 1.5b 512
run new15-d1024 $B/brickc 1.5b 1024; run new15-d2048 $B/brickc 1.5b 2048; run new15-d4k $B/brickc 1.5b 4096
run pnew05 $B/brickc 0.5b 0 --profile; run pnew15 $B/brickc 1.5b 0 --profile
} 2>&1 | tee $OUT/r/summary.txt
BRICKC_REQUIRE_GPU=1 timeout 200 $B/brickc_gpu_tests --gtest_filter='-GpuModels.*' > $OUT/r/gpu_tests.log 2>&1
grep -E "PASSED|FAILED|tests ran" $OUT/r/gpu_tests.log
export OUT=$OUT/r MODELS=$M
timeout 120 bash bench/gpu_run.sh sanitize > /dev/null 2>&1
SANITIZE_PROMPT=1200 SANITIZE_ENGINES=graph SANITIZE_TOOLS="memcheck racecheck" timeout 100 bash bench/gpu_run.sh sanitize > /dev/null 2>&1
grep -E "^---|ERROR SUMMARY|exit status" $OUT/sanitize.log
cd $OUT/.. && tar czf r.tgz r

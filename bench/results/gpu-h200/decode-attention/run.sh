#!/usr/bin/env bash
# What made this folder's files (one device call; DESIGN.md §9): decode tg128 of this tree
# (build/device) against the last commit before the megakernel work (253d6f4, whose
# attention read each query head's K/V rows itself), alternating old and new, at depths 0,
# 512, 4096 and 16384; then the GPU tests, the GPU long run and the sanitizers.
# Old binary, made here first: git worktree add /tmp/old 253d6f4 && cmake -S /tmp/old -B
# /tmp/old/build -G Ninja && ninja -C /tmp/old/build brickc && strip -o .llama/old-brickc
# /tmp/old/build/bin/brickc; carry build/device and .llama/old-brickc.
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
for m in 0.5b 1.5b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m-q4_k_m.gguf > /dev/null; done
run() { # tag binary model depth
  timeout 60 $2 bench -m $M/$3-q4_k_m.gguf --device cuda -p 16 -n 128 -r 5 --warmup 3 -d $4 --json $OUT/r/$1.json > $OUT/r/$1.log 2>&1
  echo "$1: $(grep 'tg128' $OUT/r/$1.log | head -1)"
}
{
for i in 1 2; do run old05-$i .llama/old-brickc 0.5b 0; run new05-$i $B/brickc 0.5b 0; done
for i in 1 2; do run old15-$i .llama/old-brickc 1.5b 0; run new15-$i $B/brickc 1.5b 0; done
run new15-d512 $B/brickc 1.5b 512; run old15-d512 .llama/old-brickc 1.5b 512
run new15-d4k $B/brickc 1.5b 4096; run old15-d4k .llama/old-brickc 1.5b 4096
run new15-d16k $B/brickc 1.5b 16384; run old15-d16k .llama/old-brickc 1.5b 16384
} 2>&1 | tee $OUT/r/summary.txt
BRICKC_REQUIRE_GPU=1 $B/brickc_gpu_tests --gtest_filter='-GpuModels.*:GpuVerify.NamesAPlantedWrongKernel' > $OUT/r/gpu_tests.log 2>&1
export OUT=$OUT/r MODELS=$M
bash bench/gpu_run.sh longrun sanitize > /dev/null 2>&1
cd $OUT/.. && tar czf r.tgz r

#!/usr/bin/env bash
# Session 10 call E (one call left): megakernel racecheck, GPU memory test, tg128 old vs new
# on 3B/7B(/14B), CPU 16-core vs llama-bench -ngl 0 (0.5B, 1.5B). Each step checks the clock.
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
( export OUT=$OUT/r MODELS=$M SANITIZE_ENGINES=megakernel SANITIZE_TOOLS=racecheck
  timeout 100 bash bench/gpu_run.sh sanitize > /dev/null 2>&1 )
grep -E "^---|SUMMARY|exit status|error" $OUT/r/sanitize.log
BRICKC_REQUIRE_GPU=1 timeout 40 $B/brickc_gpu_tests --gtest_filter="GpuMemoryErrors.*:CudaRuntimeGpu.OutOfMemory*" > $OUT/r/gpu_mem_tests.log 2>&1; grep -E "OK|FAIL|PASSED" $OUT/r/gpu_mem_tests.log
run() { # tag binary model depth
  timeout 60 $2 bench -m $M/$3-q4_k_m.gguf --device cuda -p 16 -n 128 -r 5 --warmup 3 -d $4 --json $OUT/r/$1.json > $OUT/r/$1.log 2>&1
  echo "$1: $(grep 'tg128' $OUT/r/$1.log | head -1)"
}
# CPU first for 0.5B (small synth), then the GPU sizes, then the 1.5B CPU if time is left.
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
cpu() { # model
  $B/brickc synth --model qwen2.5-coder-$1 --quant q4_k_m -o $M/$1-q4_k_m.gguf > /dev/null
  CUDA_VISIBLE_DEVICES= timeout 150 $B/brickc bench -m $M/$1-q4_k_m.gguf --device cpu -t 16 -p 512 -n 128 \
    -r 3 --warmup 1 --llama-bench "$lb" --json $OUT/r/cpu-$1.json > $OUT/r/cpu-$1.log 2>&1
  grep -E "pp512|tg128" $OUT/r/cpu-$1.log
}
{
cpu 0.5b
for m in 3b 7b; do
  left 330 || break
  $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m-q4_k_m.gguf > /dev/null
  run old$m .llama/old-brickc $m 0; run new$m $B/brickc $m 0; run old$m-2 .llama/old-brickc $m 0; run new$m-2 $B/brickc $m 0
done
left 330 && cpu 1.5b
left 380 && { $B/brickc synth --model qwen2.5-coder-14b --quant q4_k_m -o $M/14b-q4_k_m.gguf > /dev/null; run old14b .llama/old-brickc 14b 0; run new14b $B/brickc 14b 0; }
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r

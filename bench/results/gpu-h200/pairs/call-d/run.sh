#!/usr/bin/env bash
# Session 18 call D: the 0.5B's gate/up on the 4 KB ring at 6 blocks per SM (`dense`,
# every warp one pair) against 8fbb08d, alternating; then brickc side by side with
# llama.cpp's llama-bench (-ngl 99 -fa 1) on the 0.5B (both binaries), 1.5B, 3B and 7B
# Q4_K_M files; the GPU tests that run the 0.5B's kernels.
xz -dk build/device/v/*.xz; chmod +x build/device/v/brickc-*
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; P=$PWD/build/device/v/brickc-8fbb08d
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 3b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
for round in 1 2 3; do
  for b in base:$P dense:$B/brickc; do
    timeout 30 ${b#*:} bench -m $M/0.5b.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $OUT/r/${b%%:*}-0.5b-$round.json > $OUT/r/${b%%:*}-0.5b-$round.log 2>&1
    echo "0.5b ${b%%:*} r$round: $(grep tg128 $OUT/r/${b%%:*}-0.5b-$round.log | head -1)"
  done
done
echo "A/B done at $SECONDS s"
lb=/tmp/llama/bin/llama-bench
for run in 0.5b:$P:base 0.5b:$B/brickc:dense 1.5b:$B/brickc:new 3b:$B/brickc:new 7b:$B/brickc:new; do
  IFS=: read -r m bin tag <<< "$run"
  left 470 || break
  timeout 120 $bin bench -m $M/$m.gguf --device cuda -p 512 -n 128 -r 5 --warmup 2 --llama-bench "$lb" --json $OUT/r/compare-$m-$tag.json > $OUT/r/compare-$m-$tag.log 2>&1
  echo "compare $m $tag rc=$? at $SECONDS s"; grep -E "pp512|tg128" $OUT/r/compare-$m-$tag.log
done
BRICKC_REQUIRE_GPU=1 timeout 100 $B/brickc_gpu_tests --gtest_filter='GpuBricks.Qwen05*:GpuTokenSteps.Qwen05Q4KM:GpuTokenSteps.WholeModelsMatchTokenByToken:GpuMegakernel.MatchesThePerBrickGraphBitForBit' > $OUT/r/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $OUT/r/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]" $OUT/r/gpu_tests.log | head
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r

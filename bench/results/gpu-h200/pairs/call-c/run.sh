#!/usr/bin/env bash
# Session 18 call C: gate/up's SwiGLU rows published to the q8_1 output in batches of 32
# per warp (one release fence per batch; `new`) against the paired kernels alone (`pairs`,
# call A), alternating on the 0.5B, 1.5B, 3B and 7B; the GPU tests of `new`; the CPU engine
# (default AVX-512 VNNI set) against llama-bench -ngl 0 on the 16-core host.
xz -dk build/device/v/*.xz; chmod +x build/device/v/brickc-*
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; P=$PWD/build/device/v/brickc-pairs
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
left() { [ $SECONDS -lt $1 ]; }
{
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 3b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
for round in 1 2; do
  for m in 0.5b 1.5b 3b 7b; do
    for b in pairs:$P new:$B/brickc; do
      timeout 30 ${b#*:} bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $OUT/r/${b%%:*}-$m-$round.json > $OUT/r/${b%%:*}-$m-$round.log 2>&1
      echo "$m ${b%%:*} r$round: $(grep tg128 $OUT/r/${b%%:*}-$m-$round.log | head -1)"
    done
  done
done
echo "A/B done at $SECONDS s"
timeout 40 $B/brickc bench -m $M/7b.gguf --device cuda -p 16 -n 64 -r 1 --warmup 1 --profile --json $OUT/r/prof-7b.json > $OUT/r/prof-7b.log 2>&1
grep -E "^\| (matvec_add|rmsnorm_gate_up_swiglu|rmsnorm_lm_head|rmsnorm_qkv|attention|rope_kv_append) " $OUT/r/prof-7b.log
BRICKC_REQUIRE_GPU=1 timeout 200 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuTokenSteps.*:GpuMegakernel.MatchesThePerBrickGraphBitForBit:GpuVerify.*' > $OUT/r/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $OUT/r/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]" $OUT/r/gpu_tests.log | head
lb=/tmp/llama/bin/llama-bench
for m in 0.5b 1.5b; do
  left 520 || break
  CUDA_VISIBLE_DEVICES= timeout 110 $B/brickc bench -m $M/$m.gguf --device cpu -t 16 -p 512 -n 128 -r 2 --warmup 1 --llama-bench "$lb" --json $OUT/r/cpu-$m.json > $OUT/r/cpu-$m.log 2>&1
  echo "cpu $m: rc=$?"; grep -E "pp512|tg128" $OUT/r/cpu-$m.log
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r

#!/usr/bin/env bash
# Session 19 call A: decode attention on tensor cores (attention.cuh attention_mma) for
# caches past the per-head path. The GPU brick tests of attention (every brick against the
# CPU reference, long caches included), the batch and megakernel tests, then tg128 at
# depth 0 and 16384 on the 1.5B and 7B, alternating this build with the one before
# (v/brickc-old: session 18's, the same kernels as a360346).
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
xz -dkc build/device/v/brickc-old.xz > /tmp/brickc-old && chmod +x /tmp/brickc-old
left() { [ $SECONDS -lt $1 ]; }
{
for m in 1.5b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 240 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuBatch*:GpuMegakernel*' > $OUT/r/tests.log 2>&1
echo "tests rc=$? at $SECONDS s"; grep -E "^\[  (FAILED|PASSED|  OK) |tests ran" $OUT/r/tests.log | head -40
wait
echo "synth at $SECONDS s"
for m in 1.5b 7b; do
  for d in 16384 0; do
    for v in new old; do
      bin=$B/brickc; [ $v = old ] && bin=/tmp/brickc-old
      left 540 && timeout 60 $bin bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 -d $d --json $OUT/r/depth-$m-$d-$v.json > $OUT/r/depth-$m-$d-$v.log 2>&1
      echo "$v $m d$d rc=$?: $(grep tg128 $OUT/r/depth-$m-$d-$v.log | head -1)"
    done
  done
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r

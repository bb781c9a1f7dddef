#!/usr/bin/env bash
# Session 19 call D: splits merged in two levels (groups of 8, attention.cuh kAttnGroup).
# The GPU tests of attention (bricks incl. long caches on the 0.5B, 3B, 7B; batch;
# megakernel), then tg128 at depth 16384 and 0: this build (D), E (D with half the
# splits on the tensor-core path) and session 18's build (old), alternating.
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
cp $B/brickc /tmp/brickc-D
for v in E old; do xz -dkc build/device/v/brickc-$v.xz > /tmp/brickc-$v && chmod +x /tmp/brickc-$v; done
left() { [ $SECONDS -lt $1 ]; }
{
for m in 0.5b 1.5b 3b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 260 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuBatch*:GpuMegakernel*' > $OUT/r/tests.log 2>&1
echo "tests rc=$? at $SECONDS s"; grep -E "^\[  (FAILED|PASSED) |tests ran|FAILED" $OUT/r/tests.log | head -20
wait
echo "synth at $SECONDS s"
for m in 1.5b 7b; do
  for d in 16384 0; do
    for v in D E old; do
      left 500 && timeout 60 /tmp/brickc-$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 -d $d --json $OUT/r/d$d-$m-$v.json > $OUT/r/d$d-$m-$v.log 2>&1
      echo "$v $m d$d rc=$?: $(grep tg128 $OUT/r/d$d-$m-$v.log | head -1)"
    done
  done
done
for m in 0.5b 3b; do
  for d in 16384 0; do
    for v in D old; do
      left 540 && timeout 60 /tmp/brickc-$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 -d $d --json $OUT/r/d$d-$m-$v.json > $OUT/r/d$d-$m-$v.log 2>&1
      echo "$v $m d$d rc=$?: $(grep tg128 $OUT/r/d$d-$m-$v.log | head -1)"
    done
  done
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r

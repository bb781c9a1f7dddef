#!/usr/bin/env bash
# Session 19 call E: e9eea10 (tensor-core decode attention, two-level merge) side by side
# with llama.cpp's llama-bench (-ngl 99 -fa 1) at depth 0 and 16384 on the 1.5B and 7B
# (issue 12's long-context bar: tg128 at 16384 within 10 % of depth 0); S3, the same with
# a 3-stage 96 KB ring, alternating with it; the GPU tests of attention.
# (build/device packed as build/devx/dev.tar.xz: with llama-bench the call would carry too much)
mkdir -p /tmp/d && tar xJf build/devx/dev.tar.xz -C /tmp/d
export LD_LIBRARY_PATH=/tmp/d/device/lib
B=/tmp/d/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
cp $B/brickc /tmp/brickc-head
xz -dkc build/devx/brickc-S3.xz > /tmp/brickc-S3 && chmod +x /tmp/brickc-S3
left() { [ $SECONDS -lt $1 ]; }
{
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 1.5b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 150 $B/brickc_gpu_tests --gtest_filter='GpuBricks.AttentionOverALongCache:GpuBricks.Qwen3BQ4KM:GpuBatch.Qwen05EachSequenceAsAlone:GpuMegakernel.MatchesThePerBrickGraphBitForBit' > $OUT/r/tests.log 2>&1
echo "tests rc=$? at $SECONDS s"; grep -E "^\[  (FAILED|PASSED) |FAILED|max rel err" $OUT/r/tests.log | head -20
wait
echo "synth at $SECONDS s"
lb=/tmp/llama/bin/llama-bench
for m in 1.5b 7b; do
  for d in 16384 0; do
    for v in head S3; do
      left 480 && timeout 60 /tmp/brickc-$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 -d $d --json $OUT/r/d$d-$m-$v.json > $OUT/r/d$d-$m-$v.log 2>&1
      echo "$v $m d$d rc=$?: $(grep tg128 $OUT/r/d$d-$m-$v.log | head -1)"
    done
  done
  left 480 && timeout 120 $lb -m $M/$m.gguf -p 0 -n 128 -r 3 -ngl 99 -fa 1 -d 0,16384 -o json > $OUT/r/llama-depth-$m.json 2> $OUT/r/llama-depth-$m.err
  echo "llama $m rc=$?: $(grep -E '"n_depth"|"avg_ts"' $OUT/r/llama-depth-$m.json | tr -d ' \n')"
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
